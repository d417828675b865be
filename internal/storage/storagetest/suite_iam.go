package storagetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

func newProvider(t *testing.T, s storage.Store, id string, types ...string) {
	t.Helper()
	ctx := context.Background()
	mustNil(t, s.CreateProvider(ctx, &storage.ResourceProvider{ID: id, Name: id, Generation: 1, CreatedAt: now, UpdatedAt: now}))
	for _, ty := range types {
		mustNil(t, s.CreateResourceType(ctx, &storage.ResourceType{Provider: id, Name: ty, DisplayName: ty,
			Generation: 1, CreatedAt: now, UpdatedAt: now}))
	}
}

func newPermission(name, provider string, types ...string) *storage.Permission {
	return &storage.Permission{Name: name, Provider: provider, Description: name, ReleaseStage: "STABLE",
		CustomRoleUse: "ALLOW", ResourceTypes: types, Generation: 1, CreatedAt: now, UpdatedAt: now}
}

func testIAMProviders(t *testing.T, s storage.Store) {
	ctx := context.Background()
	newProvider(t, s, "svc", "servers", "disks")
	mustIs(t, s.CreateProvider(ctx, &storage.ResourceProvider{ID: "svc", Generation: 1}), storage.ErrConflict)
	p, err := s.GetProvider(ctx, "svc")
	mustNil(t, err)
	p.Name, p.UpdatedAt = "Service", now.Add(time.Minute)
	mustNil(t, s.UpdateProvider(ctx, p))
	got, err := s.GetProvider(ctx, "svc")
	mustNil(t, err)
	if got.Name != "Service" || got.Generation != 2 || !got.UpdatedAt.Equal(now.Add(time.Minute)) || !got.CreatedAt.Equal(now) {
		t.Fatalf("provider after update = %+v", got)
	}
	mustIs(t, s.UpdateProvider(ctx, &storage.ResourceProvider{ID: "nope"}), storage.ErrNotFound)
	mustIs(t, s.CreateResourceType(ctx, &storage.ResourceType{Provider: "nope", Name: "x", Generation: 1}), storage.ErrNotFound)
	mustIs(t, s.CreateResourceType(ctx, &storage.ResourceType{Provider: "svc", Name: "servers", Generation: 1}), storage.ErrConflict)
	rt, err := s.GetResourceType(ctx, "svc", "disks")
	mustNil(t, err)
	rt.DisplayName = "Disks"
	mustNil(t, s.UpdateResourceType(ctx, rt))
	if rt, _ := s.GetResourceType(ctx, "svc", "disks"); rt.DisplayName != "Disks" || rt.Generation != 2 {
		t.Fatalf("resource type after update = %+v", rt)
	}
	types, err := s.ListResourceTypes(ctx, "svc")
	mustNil(t, err)
	if len(types) != 2 || types[0].Name != "disks" || types[1].Name != "servers" {
		t.Fatalf("ListResourceTypes = %+v", types)
	}
	mustIs(t, s.DeleteProvider(ctx, "svc"), storage.ErrInUse)
	mustNil(t, s.CreatePermission(ctx, newPermission("svc.servers.view", "svc", "svc/servers")))
	mustIs(t, s.DeleteResourceType(ctx, "svc", "servers"), storage.ErrInUse)
	mustNil(t, s.DeleteResourceType(ctx, "svc", "disks"))
	mustIs(t, s.DeleteResourceType(ctx, "svc", "disks"), storage.ErrNotFound)
	mustNil(t, s.DeletePermission(ctx, "svc.servers.view"))
	mustNil(t, s.DeleteResourceType(ctx, "svc", "servers"))
	mustNil(t, s.DeleteProvider(ctx, "svc"))
	_, err = s.GetProvider(ctx, "svc")
	mustIs(t, err, storage.ErrNotFound)
	all, err := s.ListProviders(ctx)
	mustNil(t, err)
	if len(all) != 0 {
		t.Fatalf("providers after delete = %+v", all)
	}
}

func testIAMPermissions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	newProvider(t, s, "svc", "servers", "disks")
	newProvider(t, s, "other", "things")
	p := newPermission("svc.servers.view", "svc", "svc/servers", "other/things")
	mustNil(t, s.CreatePermission(ctx, p))
	mustIs(t, s.CreatePermission(ctx, p), storage.ErrConflict)
	mustIs(t, s.CreatePermission(ctx, newPermission("svc.servers.edit", "svc", "svc/nope")), storage.ErrNotFound)
	mustIs(t, s.CreatePermission(ctx, newPermission("nope.servers.edit", "nope", "svc/servers")), storage.ErrNotFound)
	p.ReleaseStage, p.FixedScope, p.ResourceTypes, p.UpdatedAt = "DEPRECATED", true, []string{"svc/disks"}, now.Add(time.Hour)
	mustNil(t, s.UpdatePermission(ctx, p))
	got, err := s.GetPermission(ctx, p.Name)
	mustNil(t, err)
	if got.ReleaseStage != "DEPRECATED" || !got.FixedScope || got.Generation != 2 || !slices.Equal(got.ResourceTypes, []string{"svc/disks"}) {
		t.Fatalf("permission after update = %+v", got)
	}
	mustIs(t, s.UpdatePermission(ctx, newPermission("svc.none.view", "svc", "svc/disks")), storage.ErrNotFound)
	list, err := s.ListProviderPermissions(ctx, "svc")
	mustNil(t, err)
	if len(list) != 1 || list[0].Name != p.Name {
		t.Fatalf("ListProviderPermissions = %+v", list)
	}
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	mustNil(t, s.CreateRole(ctx, newRole(ws.ID, "viewer", p.Name), 0))
	n, err := s.CustomRolesHolding(ctx, p.Name)
	mustNil(t, err)
	if n != 1 {
		t.Fatalf("CustomRolesHolding = %d", n)
	}
	mustIs(t, s.DeletePermission(ctx, p.Name), storage.ErrInUse)
}

func newRole(ws, name string, perms ...string) *storage.Role {
	kind := "CUSTOM"
	if ws == "" {
		kind = "PREDEFINED"
	}
	return &storage.Role{ID: ids.New(), WorkspaceID: ws, Slug: "", Name: name, Kind: kind, Permissions: perms,
		Generation: 1, CreatedAt: now, UpdatedAt: now}
}

func testIAMRoles(t *testing.T, s storage.Store) {
	ctx := context.Background()
	newProvider(t, s, "svc", "servers")
	mustNil(t, s.CreatePermission(ctx, newPermission("svc.servers.view", "svc", "svc/servers")))
	mustNil(t, s.CreatePermission(ctx, newPermission("svc.servers.edit", "svc", "svc/servers")))
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	other := newWorkspace(t, s, storage.WorkspaceStandard, "")
	a, b := newRole(ws.ID, "a", "svc.servers.view"), newRole(ws.ID, "b", "svc.servers.view")
	mustNil(t, s.CreateRole(ctx, a, 2))
	mustIs(t, s.CreateRole(ctx, newRole(ws.ID, "a", "svc.servers.view"), 2), storage.ErrConflict)
	mustNil(t, s.CreateRole(ctx, b, 2))
	mustIs(t, s.CreateRole(ctx, newRole(ws.ID, "c", "svc.servers.view"), 2), storage.ErrLimit)
	mustNil(t, s.CreateRole(ctx, newRole(other.ID, "a", "svc.servers.view"), 2)) // names and limits are per workspace
	mustIs(t, s.CreateRole(ctx, newRole(ws.ID, "d", "no.such.permission"), 0), storage.ErrNotFound)
	pre := newRole("", "Predefined", "svc.servers.view", "svc.servers.edit")
	pre.Slug = "svc.admin"
	mustNil(t, s.CreateRole(ctx, pre, 0))
	dupSlug := newRole("", "Other", "svc.servers.view")
	dupSlug.Slug = "svc.admin"
	mustIs(t, s.CreateRole(ctx, dupSlug, 0), storage.ErrConflict)

	a.Name, a.Permissions, a.UpdatedAt = "a2", []string{"svc.servers.edit", "svc.servers.view"}, now.Add(time.Minute)
	mustNil(t, s.UpdateRole(ctx, a))
	got, err := s.GetRole(ctx, a.ID)
	mustNil(t, err)
	if got.Name != "a2" || got.Generation != 2 || !slices.Equal(got.Permissions, []string{"svc.servers.edit", "svc.servers.view"}) {
		t.Fatalf("role after update = %+v", got)
	}
	b.Name = "a2"
	mustIs(t, s.UpdateRole(ctx, b), storage.ErrConflict)
	mustIs(t, s.UpdateRole(ctx, newRole(ws.ID, "ghost")), storage.ErrNotFound)

	roles, err := s.ListRolesIn(ctx, ws.ID)
	mustNil(t, err)
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if slices.Sort(names); !slices.Equal(names, []string{"Predefined", "a2", "b"}) {
		t.Fatalf("ListRolesIn = %v", names)
	}
	mustNil(t, s.CreateAssignment(ctx, newAssignment(ws.ID, "user:x", a.ID, "grn:glp/workspaces/"+ids.Hex(ws.ID))))
	mustIs(t, s.DeleteRole(ctx, a.ID), storage.ErrInUse)
	mustNil(t, s.DeleteRole(ctx, b.ID))
	mustIs(t, s.DeleteRole(ctx, b.ID), storage.ErrNotFound)
}

func newAssignment(ws, subject, role string, scopes ...string) *storage.Assignment {
	return &storage.Assignment{ID: ids.New(), WorkspaceID: ws, Subject: subject, RoleID: role, Scopes: scopes,
		Source: "LOCAL", Generation: 1, CreatedAt: now, UpdatedAt: now}
}

func testIAMAssignments(t *testing.T, s storage.Store) {
	ctx := context.Background()
	newProvider(t, s, "svc", "servers")
	mustNil(t, s.CreatePermission(ctx, newPermission("svc.servers.view", "svc", "svc/servers")))
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	other := newWorkspace(t, s, storage.WorkspaceStandard, "")
	r1, r2 := newRole(ws.ID, "r1", "svc.servers.view"), newRole(ws.ID, "r2", "svc.servers.view")
	mustNil(t, s.CreateRole(ctx, r1, 0))
	mustNil(t, s.CreateRole(ctx, r2, 0))
	w := "grn:glp/workspaces/" + ids.Hex(ws.ID)
	sg := w + "/regions/default/providers/authorization/scope-groups/" + ids.New()
	var made []*storage.Assignment
	for i, c := range []struct{ subject, role, scope string }{
		{"user:a", r1.ID, w}, {"user:b", r1.ID, sg}, {"user:a", r2.ID, sg}, {"api-client:c", r2.ID, w},
	} {
		a := newAssignment(ws.ID, c.subject, c.role, c.scope)
		a.CreatedAt = now.Add(time.Duration(i) * time.Second)
		mustNil(t, s.CreateAssignment(ctx, a))
		made = append(made, a)
	}
	mustNil(t, s.CreateAssignment(ctx, newAssignment(other.ID, "user:a", r1.ID, w)))
	cases := []struct {
		q     storage.AssignmentQuery
		want  []int
		total int
	}{
		{storage.AssignmentQuery{}, []int{0, 1, 2, 3}, 4},
		{storage.AssignmentQuery{Page: storage.Page{Limit: 2, Offset: 1}}, []int{1, 2}, 4},
		{storage.AssignmentQuery{Subjects: []string{"user:a"}}, []int{0, 2}, 2},
		{storage.AssignmentQuery{Subjects: []string{"user:a", "user:b"}, RoleIDs: []string{r1.ID}}, []int{0, 1}, 2},
		{storage.AssignmentQuery{Scopes: []string{sg}}, []int{1, 2}, 2},
		{storage.AssignmentQuery{Scopes: []string{sg}, RoleIDs: []string{r2.ID}, Subjects: []string{"user:a"}}, []int{2}, 1},
		{storage.AssignmentQuery{Subjects: []string{"user:nobody"}}, nil, 0},
	}
	for _, c := range cases {
		c.q.WorkspaceID = ws.ID
		got, total, err := s.QueryAssignments(ctx, c.q)
		mustNil(t, err)
		var idx []int
		for _, a := range got {
			idx = append(idx, slices.IndexFunc(made, func(m *storage.Assignment) bool { return m.ID == a.ID }))
			if len(a.Scopes) != 1 {
				t.Errorf("assignment %s read without its scope: %+v", a.ID, a)
			}
		}
		if total != c.total || !slices.Equal(idx, c.want) {
			t.Errorf("QueryAssignments(%+v) = %v of %d, want %v of %d", c.q, idx, total, c.want, c.total)
		}
	}
	up, err := s.UpdateAssignmentScopes(ctx, made[1].ID, []string{w, sg}, now.Add(time.Hour))
	mustNil(t, err)
	if up.Generation != 2 || !slices.Equal(up.Scopes, []string{w, sg}) || !up.UpdatedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("UpdateAssignmentScopes = %+v", up)
	}
	twin := newAssignment(ws.ID, "user:a", r1.ID, sg)
	mustNil(t, s.CreateAssignment(ctx, twin))
	_, err = s.UpdateAssignmentScopes(ctx, twin.ID, []string{w}, now) // would equal made[0]
	mustIs(t, err, storage.ErrConflict)
	_, err = s.UpdateAssignmentScopes(ctx, ids.New(), []string{w}, now)
	mustIs(t, err, storage.ErrNotFound)
	testConditionalAssignments(t, s, ws.ID, r1.ID, w, sg)
}

// testConditionalAssignments checks an assignment's condition: stored and read back by every
// reader, kept by a scope update, part of what makes two assignments identical (the same
// role on the same scopes under another condition is a different assignment).
func testConditionalAssignments(t *testing.T, s storage.Store, ws, role, w, sg string) {
	ctx := context.Background()
	const cond = `resource.properties.ownerID == subject.attributes.email`
	a := newAssignment(ws, "user:cond", role, w)
	a.Condition = cond
	mustNil(t, s.CreateAssignment(ctx, a))
	plain := newAssignment(ws, "user:cond", role, w)
	mustNil(t, s.CreateAssignment(ctx, plain)) // no condition: not the same assignment
	other := newAssignment(ws, "user:cond", role, w)
	other.Condition = cond + ` && action.name == "read"`
	mustNil(t, s.CreateAssignment(ctx, other))
	twin := newAssignment(ws, "user:cond", role, w)
	twin.Condition = cond
	mustIs(t, s.CreateAssignment(ctx, twin), storage.ErrConflict)
	got, err := s.GetAssignment(ctx, a.ID)
	mustNil(t, err)
	if got.Condition != cond {
		t.Fatalf("GetAssignment: condition %q, want %q", got.Condition, cond)
	}
	list, _, err := s.QueryAssignments(ctx, storage.AssignmentQuery{WorkspaceID: ws, Subjects: []string{"user:cond"}})
	mustNil(t, err)
	conds := map[string]string{}
	for _, x := range list {
		conds[x.ID] = x.Condition
	}
	if len(list) != 3 || conds[a.ID] != cond || conds[plain.ID] != "" || conds[other.ID] != other.Condition {
		t.Fatalf("QueryAssignments: conditions %v", conds)
	}
	seen := map[string]string{}
	mustNil(t, s.EachAssignment(ctx, func(x *storage.Assignment) error {
		seen[x.ID] = x.Condition
		return nil
	}))
	if seen[a.ID] != cond || seen[plain.ID] != "" {
		t.Fatalf("EachAssignment: conditions %v", seen)
	}
	up, err := s.UpdateAssignmentScopes(ctx, a.ID, []string{sg}, now.Add(time.Hour))
	mustNil(t, err)
	if up.Condition != cond || !slices.Equal(up.Scopes, []string{sg}) {
		t.Fatalf("UpdateAssignmentScopes lost the condition: %+v", up)
	}
	_, err = s.UpdateAssignmentScopes(ctx, other.ID, []string{sg}, now) // the condition differs: no twin
	mustNil(t, err)
	_, err = s.UpdateAssignmentScopes(ctx, plain.ID, []string{sg}, now)
	mustNil(t, err)
	back := newAssignment(ws, "user:cond", role, sg)
	back.Condition = cond
	mustIs(t, s.CreateAssignment(ctx, back), storage.ErrConflict)
	long := newAssignment(ws, "user:cond", role, w)
	long.Condition = strings.Repeat("x", storage.MaxConditionLength+1)
	if err := s.CreateAssignment(ctx, long); err == nil {
		t.Fatal("a condition over MaxConditionLength was stored")
	}
}

func testIAMScopeGroups(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	mk := func(name string) *storage.ScopeGroup {
		return &storage.ScopeGroup{ID: ids.New(), WorkspaceID: ws.ID, Name: name, Generation: 1, CreatedAt: now, UpdatedAt: now}
	}
	a, b := mk("beta"), mk("alpha")
	mustNil(t, s.CreateScopeGroup(ctx, a))
	mustNil(t, s.CreateScopeGroup(ctx, b))
	mustIs(t, s.CreateScopeGroup(ctx, mk("beta")), storage.ErrConflict)
	list, total, err := s.ListScopeGroups(ctx, storage.ScopeGroupQuery{WorkspaceID: ws.ID})
	mustNil(t, err)
	if total != 2 || list[0].Name != "alpha" {
		t.Fatalf("ListScopeGroups = %+v", list)
	}
	list, _, _ = s.ListScopeGroups(ctx, storage.ScopeGroupQuery{WorkspaceID: ws.ID, Desc: true, Page: storage.Page{Limit: 1}})
	if len(list) != 1 || list[0].Name != "beta" {
		t.Fatalf("descending page = %+v", list)
	}
	list, _, _ = s.ListScopeGroups(ctx, storage.ScopeGroupQuery{WorkspaceID: ws.ID, Names: []string{"alpha"}, IDs: []string{b.ID}})
	if len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("by name and id = %+v", list)
	}
	b.Name = "beta"
	mustIs(t, s.UpdateScopeGroup(ctx, b), storage.ErrConflict)
	b.Name, b.Description = "gamma", "d"
	mustNil(t, s.UpdateScopeGroup(ctx, b))
	if g, _ := s.GetScopeGroup(ctx, b.ID); g.Name != "gamma" || g.Generation != 2 {
		t.Fatalf("group after update = %+v", g)
	}

	sc := func(grn, desc string) storage.GroupScope {
		return storage.GroupScope{ID: ids.New(), GRN: grn, Description: desc, CreatedAt: now}
	}
	res := "grn:glp/workspaces/" + ids.Hex(ws.ID) + "/regions/default/providers/svc/servers/"
	items := []storage.GroupScope{sc(res+"1", "b"), sc(res+"2", "a"), sc(res+"1", "dup"), sc(res+"3", "c"), sc(res+"4", "d")}
	results, err := s.AddGroupScopes(ctx, a.ID, items, 3)
	mustNil(t, err)
	want := []error{nil, nil, storage.ErrConflict, nil, storage.ErrLimit}
	for i := range want {
		mustIs(t, results[i], want[i])
	}
	_, err = s.AddGroupScopes(ctx, ids.New(), items[:1], 0)
	mustIs(t, err, storage.ErrNotFound)
	scopes, total, err := s.ListGroupScopes(ctx, a.ID, storage.Page{})
	mustNil(t, err)
	if total != 3 || scopes[0].Description != "a" || scopes[2].Description != "c" {
		t.Fatalf("ListGroupScopes = %+v", scopes)
	}
	removed, err := s.RemoveGroupScopes(ctx, a.ID, []string{items[0].ID, ids.New(), items[4].ID})
	mustNil(t, err)
	mustIs(t, removed[0], nil)
	mustIs(t, removed[1], storage.ErrNotFound)
	mustIs(t, removed[2], storage.ErrNotFound)
	if _, total, _ := s.ListGroupScopes(ctx, "", storage.Page{}); total != 2 {
		t.Fatalf("every group's scopes: %d, want 2", total)
	}

	grn := "grn:glp/workspaces/" + ids.Hex(ws.ID) + "/regions/default/providers/authorization/scope-groups/" + a.ID
	newProvider(t, s, "svc", "servers")
	mustNil(t, s.CreatePermission(ctx, newPermission("svc.servers.view", "svc", "svc/servers")))
	role := newRole(ws.ID, "r", "svc.servers.view")
	mustNil(t, s.CreateRole(ctx, role, 0))
	asg := newAssignment(ws.ID, "user:a", role.ID, grn)
	mustNil(t, s.CreateAssignment(ctx, asg))
	mustIs(t, s.DeleteScopeGroup(ctx, a.ID, grn), storage.ErrInUse)
	mustNil(t, s.DeleteAssignment(ctx, asg.ID))
	mustNil(t, s.DeleteScopeGroup(ctx, a.ID, grn))
	mustIs(t, s.DeleteScopeGroup(ctx, a.ID, grn), storage.ErrNotFound)
	if _, total, _ := s.ListGroupScopes(ctx, a.ID, storage.Page{}); total != 0 {
		t.Fatalf("a deleted group kept %d scopes", total)
	}
}

func testIAMMembers(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	other := newWorkspace(t, s, storage.WorkspaceStandard, "")
	var users []*storage.User
	for i := range 3 {
		u := &storage.User{ID: ids.New(), Email: string(rune('a'+i)) + "@example.test", Generation: 1,
			CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
		mustNil(t, s.CreateUser(ctx, u))
		mustNil(t, s.AddMember(ctx, ws.ID, u.ID, now))
		users = append(users, u)
	}
	mustNil(t, s.AddMember(ctx, other.ID, users[0].ID, now))
	newUser(t, s, other.ID)
	list, total, err := s.ListMembers(ctx, storage.MemberQuery{WorkspaceID: ws.ID, Page: storage.Page{Limit: 2, Offset: 1}})
	mustNil(t, err)
	if total != 3 || len(list) != 2 || list[0].ID != users[1].ID || list[1] != *users[2] {
		t.Fatalf("ListMembers = %+v of %d", list, total)
	}
	list, total, err = s.ListMembers(ctx, storage.MemberQuery{WorkspaceID: ws.ID,
		Filter: storage.Predicate{SQL: "u.email = ?", Args: []any{"b@example.test"}}})
	mustNil(t, err)
	if total != 1 || list[0].ID != users[1].ID {
		t.Fatalf("filtered members = %+v", list)
	}
	n, err := s.CountMemberships(ctx, users[0].ID)
	mustNil(t, err)
	if n != 2 {
		t.Fatalf("CountMemberships = %d", n)
	}
	mustNil(t, s.RemoveMember(ctx, ws.ID, users[0].ID))
	mustIs(t, s.RemoveMember(ctx, ws.ID, users[0].ID), storage.ErrNotFound)
	if ok, _ := s.IsMember(ctx, ws.ID, users[0].ID); ok {
		t.Fatal("still a member after RemoveMember")
	}
	mustNil(t, s.DeleteUser(ctx, users[1].ID))
	mustIs(t, s.DeleteUser(ctx, users[1].ID), storage.ErrNotFound)
	if _, total, _ := s.ListMembers(ctx, storage.MemberQuery{WorkspaceID: ws.ID}); total != 1 {
		t.Fatalf("members after removals: %d, want 1", total)
	}
}

func testIAMUserGroups(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	mk := func(name string) *storage.UserGroup {
		return &storage.UserGroup{ID: ids.New(), WorkspaceID: ws.ID, Name: name, Generation: 1, CreatedAt: now, UpdatedAt: now}
	}
	g, h := mk("ops"), mk("dev")
	mustNil(t, s.CreateUserGroup(ctx, g))
	mustNil(t, s.CreateUserGroup(ctx, h))
	mustIs(t, s.CreateUserGroup(ctx, mk("ops")), storage.ErrConflict)
	h.Name = "ops"
	mustIs(t, s.UpdateUserGroup(ctx, h), storage.ErrConflict)
	h.Name, h.Description = "devs", "developers"
	mustNil(t, s.UpdateUserGroup(ctx, h))
	if got, _ := s.GetUserGroup(ctx, h.ID); got.Name != "devs" || got.Generation != 2 {
		t.Fatalf("group after update = %+v", got)
	}
	list, total, err := s.ListUserGroups(ctx, ws.ID, storage.Page{})
	mustNil(t, err)
	if total != 2 || list[0].Name != "devs" {
		t.Fatalf("ListUserGroups = %+v", list)
	}
	u1, u2 := newUser(t, s, ws.ID), newUser(t, s, ws.ID)
	for _, u := range []*storage.User{u1, u2} {
		mustNil(t, s.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: g.ID, UserID: u.ID, CreatedAt: now}))
	}
	mustNil(t, s.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: h.ID, UserID: u1.ID, CreatedAt: now}))
	mustIs(t, s.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: g.ID, UserID: u1.ID, CreatedAt: now}), storage.ErrConflict)
	mustIs(t, s.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: ids.New(), UserID: u1.ID, CreatedAt: now}), storage.ErrNotFound)
	mustIs(t, s.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: g.ID, UserID: ids.New(), CreatedAt: now}), storage.ErrNotFound)
	members, total, err := s.ListUserGroupMembers(ctx, g.ID, storage.Page{Limit: 1})
	mustNil(t, err)
	if total != 2 || len(members) != 1 {
		t.Fatalf("ListUserGroupMembers = %+v of %d", members, total)
	}
	if _, total, _ := s.ListUserGroupMembers(ctx, "", storage.Page{}); total != 3 {
		t.Fatalf("every membership: %d, want 3", total)
	}
	of, err := s.ListGroupsOfUser(ctx, ws.ID, u1.ID)
	mustNil(t, err)
	if len(of) != 2 {
		t.Fatalf("ListGroupsOfUser = %+v", of)
	}
	mustNil(t, s.RemoveUserGroupMember(ctx, g.ID, u2.ID))
	mustIs(t, s.RemoveUserGroupMember(ctx, g.ID, u2.ID), storage.ErrNotFound)
	if ok, _ := s.IsUserGroupMember(ctx, g.ID, u2.ID); ok {
		t.Fatal("still a member after RemoveUserGroupMember")
	}
	newProvider(t, s, "svc", "servers")
	mustNil(t, s.CreatePermission(ctx, newPermission("svc.servers.view", "svc", "svc/servers")))
	role := newRole(ws.ID, "r", "svc.servers.view")
	mustNil(t, s.CreateRole(ctx, role, 0))
	asg := newAssignment(ws.ID, "user-group:"+g.ID, role.ID, "grn:glp/workspaces/"+ids.Hex(ws.ID))
	mustNil(t, s.CreateAssignment(ctx, asg))
	mustIs(t, s.DeleteUserGroup(ctx, g.ID, "user-group:"+g.ID), storage.ErrInUse)
	mustNil(t, s.DeleteAssignment(ctx, asg.ID))
	mustNil(t, s.DeleteUserGroup(ctx, g.ID, "user-group:"+g.ID))
	if ok, _ := s.IsUserGroupMember(ctx, g.ID, u1.ID); ok {
		t.Fatal("a deleted group kept its members")
	}
}

// testIAMChangeLog checks that each IAM write logs the record it changed.
func testIAMChangeLog(t *testing.T, s storage.Store) {
	ctx := context.Background()
	start, err := s.LatestSeq(ctx)
	mustNil(t, err)
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	u := newUser(t, s, ws.ID)
	newProvider(t, s, "svc", "servers")
	mustNil(t, s.CreatePermission(ctx, newPermission("svc.servers.view", "svc", "svc/servers")))
	sg := &storage.ScopeGroup{ID: ids.New(), WorkspaceID: ws.ID, Name: "g", Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateScopeGroup(ctx, sg))
	_, err = s.AddGroupScopes(ctx, sg.ID, []storage.GroupScope{{ID: ids.New(), GRN: "grn:glp/x", CreatedAt: now}}, 0)
	mustNil(t, err)
	ug := &storage.UserGroup{ID: ids.New(), WorkspaceID: ws.ID, Name: "g", Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateUserGroup(ctx, ug))
	mustNil(t, s.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: ug.ID, UserID: u.ID, CreatedAt: now}))
	mustNil(t, s.DeleteUserGroup(ctx, ug.ID, "user-group:"+ug.ID))
	mustNil(t, s.RemoveMember(ctx, ws.ID, u.ID))
	changes, err := s.ChangesSince(ctx, start, 100)
	mustNil(t, err)
	var got []storage.Change
	for _, c := range changes {
		got = append(got, storage.Change{Kind: c.Kind, Key: c.Key})
	}
	want := []storage.Change{
		{Kind: storage.KindWorkspace, Key: ws.ID}, {Kind: storage.KindUser, Key: u.ID},
		{Kind: storage.KindMember, Key: ws.ID + "/" + u.ID},
		{Kind: storage.KindProvider, Key: "svc"}, {Kind: storage.KindResourceType, Key: "svc/servers"},
		{Kind: storage.KindPermission, Key: "svc.servers.view"},
		{Kind: storage.KindScopeGroup, Key: sg.ID}, {Kind: storage.KindScopeGroup, Key: sg.ID},
		{Kind: storage.KindUserGroup, Key: ug.ID}, {Kind: storage.KindUserGroupMember, Key: ug.ID + "/" + u.ID},
		{Kind: storage.KindUserGroupMember, Key: ug.ID + "/" + u.ID}, {Kind: storage.KindUserGroup, Key: ug.ID},
		{Kind: storage.KindMember, Key: ws.ID + "/" + u.ID},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changes:\n got %+v\nwant %+v", got, want)
	}
}
