package rbac_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
)

// TestHasAdministrator: who counts as a workspace's administrator, case by case.
func TestHasAdministrator(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	wsA, wsB := ids.New(), ids.New()
	whole := func(ws string) string { g, _ := grn.Workspace("", ws); return g.String() }
	resource := func(ws string) string { return whole(ws) + "/regions/default/providers/svc/servers/1" }
	type assignment struct{ ws, subject, slug, scope, condition string }
	user, member, outsider, group, emptyGroup, client := ids.New(), ids.New(), ids.New(), ids.New(), ids.New(), ids.New()
	for _, c := range []struct {
		name string
		as   []assignment
		want bool
	}{
		{"nothing", nil, false},
		{"a member user, whole workspace", []assignment{{wsA, principal.User(user), rbac.RoleWorkspaceAdmin, whole(wsA), ""}}, true},
		{"a member user, platform role on grn:glp", []assignment{{wsA, principal.User(user), rbac.RolePlatformAdmin, "grn:glp", ""}}, true},
		{"a user who is not a member", []assignment{{wsA, principal.User(outsider), rbac.RoleWorkspaceAdmin, whole(wsA), ""}}, false},
		{"a group with a member", []assignment{{wsA, principal.Group(group), rbac.RoleWorkspaceAdmin, whole(wsA), ""}}, true},
		{"a group without members", []assignment{{wsA, principal.Group(emptyGroup), rbac.RoleWorkspaceAdmin, whole(wsA), ""}}, false},
		{"an API client", []assignment{{wsA, principal.APIClient(client), rbac.RoleWorkspaceAdmin, whole(wsA), ""}}, false},
		{"the role on a resource only", []assignment{{wsA, principal.User(user), rbac.RoleWorkspaceAdmin, resource(wsA), ""}}, false},
		{"the operator role", []assignment{{wsA, principal.User(user), rbac.RoleWorkspaceOperator, whole(wsA), ""}}, false},
		{"made in another workspace", []assignment{{wsB, principal.User(member), rbac.RoleWorkspaceAdmin, whole(wsB), ""}}, false},
		{"a member user under a condition", []assignment{{wsA, principal.User(user), rbac.RoleWorkspaceAdmin, whole(wsA), "true"}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "data"))
			must(t, err)
			defer st.Close()
			must(t, rbac.EnsureBuiltins(ctx, st, now))
			for _, ws := range []string{wsA, wsB} {
				must(t, st.CreateWorkspace(ctx, &storage.Workspace{ID: ws, Name: ws, Type: storage.WorkspaceStandard, Generation: 1, CreatedAt: now, UpdatedAt: now}))
			}
			for _, u := range []string{user, member, outsider} {
				must(t, st.CreateUser(ctx, &storage.User{ID: u, Email: u + "@example.test", Generation: 1, CreatedAt: now, UpdatedAt: now}))
			}
			must(t, st.AddMember(ctx, wsA, user, now))
			must(t, st.AddMember(ctx, wsA, member, now))
			must(t, st.AddMember(ctx, wsB, member, now))
			for _, g := range []string{group, emptyGroup} {
				must(t, st.CreateUserGroup(ctx, &storage.UserGroup{ID: g, WorkspaceID: wsA, Name: g, Generation: 1, CreatedAt: now, UpdatedAt: now}))
			}
			must(t, st.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: group, UserID: member, CreatedAt: now}))
			for _, a := range c.as {
				must(t, st.CreateAssignment(ctx, &storage.Assignment{ID: ids.New(), WorkspaceID: a.ws, Subject: a.subject,
					RoleID: rbac.PredefinedRoleID(a.slug), Scopes: []string{a.scope}, Condition: a.condition, Source: rbac.SourceLocal, Generation: 1, CreatedAt: now, UpdatedAt: now}))
			}
			got, err := rbac.HasAdministrator(ctx, st, wsA)
			must(t, err)
			if got != c.want {
				t.Fatalf("HasAdministrator = %v, want %v", got, c.want)
			}
			// KeepAdministrator refuses a write that ends it, and rolls the write back.
			if !got {
				return
			}
			list, err := st.ListAssignments(ctx, wsA)
			must(t, err)
			err = rbac.KeepAdministrator(ctx, st, wsA, func(tx storage.Store) error { return tx.DeleteAssignment(ctx, list[0].ID) })
			if !apperr.Is(err, apperr.PreconditionFailed) {
				t.Fatalf("removing the last administrator: %v", err)
			}
			if _, err := st.GetAssignment(ctx, list[0].ID); err != nil {
				t.Fatalf("the refused deletion was not rolled back: %v", err)
			}
			// The write's own error comes back as it is.
			err = rbac.KeepAdministrator(ctx, st, wsA, func(tx storage.Store) error { return errors.New("boom") })
			if err == nil || err.Error() != "boom" {
				t.Fatalf("the write's own error: %v", err)
			}
		})
	}
}
