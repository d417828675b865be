package client_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/internal/ids"
)

func wsGRN(ws string) string { return "grn:glp/workspaces/" + ids.Hex(ws) }

func collect[T any](t *testing.T, seq func(yield func(T, error) bool)) []T {
	t.Helper()
	out, err := client.Collect(seq)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUserGroups(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	g := must[*client.UserGroup](t)(w.admin.CreateUserGroup(ctx, client.UserGroupInput{Name: "ops", Description: "d"}))
	if g.Principal != "user-group:"+g.ID || g.Name != "ops" {
		t.Fatalf("group %+v", g)
	}
	g2 := must[*client.UserGroup](t)(w.admin.UpdateUserGroup(ctx, g.ID, client.UserGroupInput{Name: "ops2"}))
	if g2.Name != "ops2" || g2.Generation != g.Generation+1 {
		t.Fatalf("updated %+v", g2)
	}
	for i := range 3 {
		id := must[string](t)(w.admin.AddUser(ctx, fmt.Sprintf("m%d@example.test", i)))
		m := must[*client.GroupMember](t)(w.admin.AddGroupMember(ctx, g.ID, id))
		if m.ID != id || m.AddedAt.IsZero() {
			t.Fatalf("member %+v", m)
		}
	}
	members := collect(t, w.admin.ListGroupMembers(ctx, g.ID, &client.ListOptions{PageSize: 1}))
	if len(members) != 3 {
		t.Fatalf("%d members", len(members))
	}
	groups := collect(t, w.admin.ListUserGroups(ctx, nil))
	if len(groups) != 1 || groups[0].ID != g.ID {
		t.Fatalf("groups %+v", groups)
	}
	if err := w.admin.RemoveGroupMember(ctx, g.ID, members[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err := w.admin.CreateUserGroup(ctx, client.UserGroupInput{Name: "a|b"})
	wantField(t, err, "name")
	_, err = w.other.GetUserGroup(ctx, g.ID)
	wantError(t, err, http.StatusNotFound)
	_, err = w.other.AddGroupMember(ctx, g.ID, members[1].ID)
	wantError(t, err, http.StatusNotFound)
	if err := w.admin.DeleteUserGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.admin.GetUserGroup(ctx, g.ID)
	wantError(t, err, http.StatusNotFound)
}

func TestRolesAndAssignments(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ws := wsGRN(w.e.Admin.WorkspaceID)
	// Predefined roles, paged one by one.
	roles := collect(t, w.admin.ListRoles(ctx, &client.ListOptions{PageSize: 1}))
	if len(roles) < 4 {
		t.Fatalf("%d roles", len(roles))
	}
	obs := collect(t, w.admin.ListRoles(ctx, &client.ListOptions{Filter: "slug eq 'glp.workspace-observer'"}))
	if len(obs) != 1 || obs[0].Kind != client.RolePredefined {
		t.Fatalf("observer %+v", obs)
	}
	// A custom role: create, read, update; a bad permission names its index.
	r := must[*client.Role](t)(w.admin.CreateRole(ctx, client.RoleInput{Name: "viewer", Permissions: []string{"glp.workspace.view"}}))
	if r.Kind != client.RoleCustom || !strings.Contains(r.GRN, "/custom-roles/") {
		t.Fatalf("role %+v", r)
	}
	r = must[*client.Role](t)(w.admin.UpdateRole(ctx, r.ID, client.RoleInput{Name: "viewer",
		Permissions: []string{"glp.workspace.view", "glp.identity.view"}}))
	if len(r.Permissions) != 2 {
		t.Fatalf("updated %+v", r)
	}
	_, err := w.admin.CreateRole(ctx, client.RoleInput{Name: "bad", Permissions: []string{"no.such.perm"}})
	wantField(t, err, "permissions[0]")
	_, err = w.other.GetRole(ctx, r.ID)
	wantError(t, err, http.StatusNotFound)
	// Assignments of the role to three users, paged two by two.
	var made []string
	for i := range 3 {
		uid := must[string](t)(w.admin.AddUser(ctx, fmt.Sprintf("a%d@example.test", i)))
		a := must[*client.Assignment](t)(w.admin.CreateAssignment(ctx, client.AssignmentInput{
			Subject: client.UserSubject(uid), Role: r.GRN, Scope: []string{ws}}))
		if a.Subject != client.UserSubject(uid) || a.Role != r.GRN || a.Source != "LOCAL" {
			t.Fatalf("assignment %+v", a)
		}
		made = append(made, a.ID)
	}
	got := collect(t, w.admin.ListAssignments(ctx, &client.ListOptions{PageSize: 2, Filter: "role in ('" + r.GRN + "')"}))
	if len(got) != 3 {
		t.Fatalf("%d assignments", len(got))
	}
	a := must[*client.Assignment](t)(w.admin.GetAssignment(ctx, made[0]))
	_, err = w.admin.CreateAssignment(ctx, client.AssignmentInput{Subject: "robot:1", Role: r.GRN, Scope: []string{ws}})
	wantField(t, err, "subject")
	_, err = w.other.GetAssignment(ctx, a.ID)
	wantError(t, err, http.StatusNotFound)
	_, err = w.other.UpdateAssignmentScope(ctx, a, []string{wsGRN(w.otherWS)})
	wantError(t, err, http.StatusNotFound)
	// A scope group as the assignment's scope.
	sg := must[*client.ScopeGroup](t)(w.admin.CreateScopeGroup(ctx, client.ScopeGroupInput{Name: "sg"}))
	a2 := must[*client.Assignment](t)(w.admin.UpdateAssignmentScope(ctx, a, []string{sg.GRN}))
	if len(a2.Scope) != 1 || a2.Scope[0] != sg.GRN {
		t.Fatalf("rescoped %+v", a2)
	}
	wantError(t, w.admin.DeleteRole(ctx, r.ID), http.StatusPreconditionFailed)
	for _, id := range made {
		if err := w.admin.DeleteAssignment(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.admin.DeleteRole(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.admin.GetRole(ctx, r.ID)
	wantError(t, err, http.StatusNotFound)
}

// registerService registers provider svc with type servers and permission svc.servers.read,
// as the bootstrap administrator (a platform administrator) may.
func registerService(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	must[*client.Provider](t)(c.CreateProvider(ctx, client.ProviderInput{ID: "svc", Name: "Service"}))
	must[*client.ResourceType](t)(c.CreateResourceType(ctx, "svc", client.ResourceTypeInput{Name: "servers", DisplayName: "Servers"}))
	for _, act := range []string{"read", "write"} {
		must[*client.Permission](t)(c.CreatePermission(ctx, "svc", client.PermissionInput{Name: "svc.servers." + act,
			ReleaseStage: "STABLE", CustomRoleUse: "ALLOW", ApplicableResourceTypes: []string{"svc/servers"}}))
	}
}

func TestProvidersTypesPermissions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	registerService(t, w.admin)
	p := must[*client.Provider](t)(w.admin.UpdateProvider(ctx, "svc", client.ProviderInput{Name: "Service 2"}))
	if p.Name != "Service 2" {
		t.Fatalf("provider %+v", p)
	}
	provs := collect(t, w.admin.ListProviders(ctx, &client.ListOptions{PageSize: 1}))
	if len(provs) < 2 {
		t.Fatalf("providers %+v", provs)
	}
	rt := must[*client.ResourceType](t)(w.admin.GetResourceType(ctx, "svc", "servers"))
	if rt.Key != "svc/servers" {
		t.Fatalf("type %+v", rt)
	}
	must[*client.ResourceType](t)(w.admin.UpdateResourceType(ctx, "svc", "servers", client.ResourceTypeInput{DisplayName: "Hosts"}))
	perms := collect(t, w.admin.ListPermissions(ctx, "svc", &client.ListOptions{PageSize: 1}))
	if len(perms) != 2 || perms[0].Name != "svc.servers.read" {
		t.Fatalf("permissions %+v", perms)
	}
	pm := must[*client.Permission](t)(w.admin.UpdatePermission(ctx, "svc", "svc.servers.write", client.PermissionInput{
		ReleaseStage: "DEPRECATED", CustomRoleUse: "ALLOW", ApplicableResourceTypes: []string{"svc/servers"}}))
	if pm.ReleaseStage != "DEPRECATED" {
		t.Fatalf("permission %+v", pm)
	}
	must[*client.Permission](t)(w.admin.GetPermission(ctx, "svc", "svc.servers.read"))
	if n := len(collect(t, w.admin.ListResourceTypes(ctx, "svc", nil))); n != 1 {
		t.Fatalf("%d types", n)
	}
	// Another workspace's administrator is not a platform administrator: 403; bad input: 400.
	_, err := w.other.CreateProvider(ctx, client.ProviderInput{ID: "evil", Name: "x"})
	wantError(t, err, http.StatusForbidden)
	wantError(t, w.other.DeletePermission(ctx, "svc", "svc.servers.read"), http.StatusForbidden)
	_, err = w.admin.CreatePermission(ctx, "svc", client.PermissionInput{Name: "svc.servers.x", ReleaseStage: "NOPE",
		CustomRoleUse: "ALLOW", ApplicableResourceTypes: []string{"svc/servers"}})
	wantField(t, err, "releaseStage")
	_, err = w.admin.GetProvider(ctx, "nope")
	wantError(t, err, http.StatusNotFound)
	// Delete in order: a type with permissions is still in use.
	wantError(t, w.admin.DeleteResourceType(ctx, "svc", "servers"), http.StatusPreconditionFailed)
	for _, n := range []string{"svc.servers.read", "svc.servers.write"} {
		if err := w.admin.DeletePermission(ctx, "svc", n); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.admin.DeleteResourceType(ctx, "svc", "servers"); err != nil {
		t.Fatal(err)
	}
	if err := w.admin.DeleteProvider(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
}

func TestScopeGroups(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	registerService(t, w.admin)
	base := wsGRN(w.e.Admin.WorkspaceID) + "/regions/default/providers/svc/servers/"
	for _, n := range []string{"b", "a", "c"} {
		must[*client.ScopeGroup](t)(w.admin.CreateScopeGroup(ctx, client.ScopeGroupInput{Name: n}))
	}
	sgs := collect(t, w.admin.ListScopeGroups(ctx, &client.ListOptions{PageSize: 2, Sort: "name desc"}))
	if len(sgs) != 3 || sgs[0].Name != "c" || sgs[2].Name != "a" {
		t.Fatalf("scope groups %+v", sgs)
	}
	sg := must[*client.ScopeGroup](t)(w.admin.UpdateScopeGroup(ctx, sgs[0].ID, client.ScopeGroupInput{Name: "cc"}))
	if sg.Name != "cc" {
		t.Fatalf("updated %+v", sg)
	}
	res := must[*client.ScopeBatchResult](t)(w.admin.AddScopes(ctx, sg.ID, []client.ScopeInput{
		{GRN: base + "1", Description: "one"}, {GRN: base + "*", Description: "all"}, {GRN: "nope", Description: "bad"}}))
	if res.SuccessCount != 2 || res.ErrorCount != 1 || res.Errors[0].HTTPStatusCode != 400 {
		t.Fatalf("batch %+v", res)
	}
	scopes := collect(t, w.admin.ListScopes(ctx, sg.ID, &client.ListOptions{PageSize: 1}))
	if len(scopes) != 2 {
		t.Fatalf("scopes %+v", scopes)
	}
	rm := must[*client.ScopeRemovalResult](t)(w.admin.RemoveScopes(ctx, sg.ID, []string{scopes[0].ID, ids.New()}))
	if rm.SuccessCount != 1 || rm.ErrorCount != 1 || rm.Errors[0].HTTPStatusCode != 404 {
		t.Fatalf("removal %+v", rm)
	}
	_, err := w.admin.CreateScopeGroup(ctx, client.ScopeGroupInput{Name: " lead"})
	wantField(t, err, "name")
	_, err = w.other.GetScopeGroup(ctx, sg.ID)
	wantError(t, err, http.StatusNotFound)
	_, err = w.other.AddScopes(ctx, sg.ID, []client.ScopeInput{{GRN: base + "2", Description: "x"}})
	wantError(t, err, http.StatusNotFound)
	if err := w.admin.DeleteScopeGroup(ctx, sg.ID); err != nil {
		t.Fatal(err)
	}
}
