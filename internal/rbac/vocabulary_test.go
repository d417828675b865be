package rbac_test

import (
	"context"
	"slices"
	"testing"

	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// TestVocabulary checks how AuthZEN's names resolve: bare and keyed resource types among the
// types permissions apply to (per provider or all), short and full action names, and that a
// new permission is seen at once (the index is rebuilt after a change).
func TestVocabulary(t *testing.T) {
	f := newFixture(t)
	for _, e := range []*rbac.Engine{f.eng, f.loaded(t)} {
		cases := []struct {
			provider, typ string
			want          []string
		}{
			{"", "servers", []string{"svc/servers"}},
			{"svc", "servers", []string{"svc/servers"}},
			{"other", "servers", nil},
			{"", "svc/nics", []string{"svc/nics"}},
			{"svc", "svc/nics", []string{"svc/nics"}},
			{"sv", "svc/nics", nil},
			{"sv", "nics", nil},
			{"", "routers", nil},
			{"", "svc/routers", nil},
		}
		for _, c := range cases {
			if got := e.ResourceTypes(c.provider, c.typ); !slices.Equal(got, c.want) {
				t.Errorf("ResourceTypes(%q, %q) = %v, want %v", c.provider, c.typ, got, c.want)
			}
		}
		for _, c := range []struct{ provider, typ, action, want string }{
			{"svc", "servers", "view", permView},
			{"svc", "servers", permDisksOnly, permDisksOnly},
			{"", "", permDisksOnly, permDisksOnly},
			{"svc", "servers", "reboot", ""},
			{"svc", "nics", "view", ""}, // svc.nics.view is not registered
			{"", "servers", "view", ""},
		} {
			got, ok := e.PermissionFor(c.provider, c.typ, c.action)
			if got != c.want || ok != (c.want != "") {
				t.Errorf("PermissionFor(%q, %q, %q) = %q, %v; want %q", c.provider, c.typ, c.action, got, ok, c.want)
			}
		}
	}
	ctx := context.Background()
	must(t, f.store.UpsertPermission(ctx, &storage.Permission{Name: "other.servers.view", Provider: "other", Description: "x",
		ReleaseStage: rbac.StageStable, CustomRoleUse: rbac.CustomAllow, ResourceTypes: []string{"other/servers"},
		Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	must(t, f.feed.Sync(ctx))
	if got := f.eng.ResourceTypes("", "servers"); !slices.Equal(got, []string{"other/servers", "svc/servers"}) {
		t.Fatalf("after a new permission: %v", got)
	}
}
