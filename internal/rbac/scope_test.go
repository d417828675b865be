package rbac_test

import (
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/scope"
)

// TestAllowedWithinScope: a scoped caller holds what its assignments grant and its scope
// permits, never more (a scope naming what no assignment grants adds nothing).
func TestAllowedWithinScope(t *testing.T) {
	f := newFixture(t)
	r := grn.MustParse(res(wsA, "servers/1"))
	caller := func(v string) *principal.Caller {
		c := &principal.Caller{Subject: principal.APIClient(clientOwned), ClientID: clientOwned, OwnerID: userWhole, WorkspaceID: wsA}
		if v != "" {
			s, err := scope.Parse(v)
			if err != nil {
				t.Fatal(err)
			}
			c.Scope = s
		}
		return c
	}
	for _, tc := range []struct {
		scope, perm string
		want        bool
	}{
		{"", permView, true},
		{permView, permView, true},
		{"svc.servers.*", permView, true},
		{permDisksOnly, permView, false},
		{"svc.disks.*", permView, false},
		{permUnassigned, permUnassigned, false}, // the scope names it, no assignment grants it
		{"svc.servers.*", permUnassigned, false},
	} {
		if got := f.eng.Allowed(caller(tc.scope), tc.perm, r); got != tc.want {
			t.Errorf("scope %q, %s: %v, want %v", tc.scope, tc.perm, got, tc.want)
		}
	}
}

func TestKnownScope(t *testing.T) {
	f := newFixture(t)
	for item, want := range map[string]bool{
		permView: true, "svc.servers.*": true, "svc.disks.*": true, "svc.servers.nope": false,
		"svc.nothing.*": false, "glp.workspace.view": true, "glp.workspace.*": true, "glp.identity.*": true,
	} {
		if got := f.eng.KnownScope(item); got != want {
			t.Errorf("KnownScope(%q) = %v, want %v", item, got, want)
		}
	}
}
