package rbac_test

import (
	"context"
	"slices"
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

const (
	groupOps     = "00000000-0000-4000-8000-0000000000e1" // user group of wsA: userInGroup
	groupEmpty   = "00000000-0000-4000-8000-0000000000e2" // user group of wsA without members
	scopeLab     = "00000000-0000-4000-8000-0000000000f1" // scope group of wsA: servers/3, nics/*
	scopeOfB     = "00000000-0000-4000-8000-0000000000f2" // scope group of wsB: servers/3 of wsB
	userInGroup  = "00000000-0000-4000-8000-000000000011"
	userScoped   = "00000000-0000-4000-8000-000000000012" // custom role on scopeLab
	userForeign  = "00000000-0000-4000-8000-000000000013" // custom role on a GRN naming scopeOfB in wsA
	scopeLabScp1 = "00000000-0000-4000-8000-0000000000a1"
)

// groupFixture adds user groups and scope groups to the decision fixture.
func groupFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t)
	st := f.store
	for _, u := range []string{userInGroup, userScoped, userForeign} {
		must(t, st.CreateUser(ctx, &storage.User{ID: u, Email: u + "@example.test", Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
		must(t, st.AddMember(ctx, wsA, u, t0))
	}
	for _, g := range []string{groupOps, groupEmpty} {
		must(t, st.CreateUserGroup(ctx, &storage.UserGroup{ID: g, WorkspaceID: wsA, Name: g, Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	}
	must(t, st.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: groupOps, UserID: userInGroup, CreatedAt: t0}))
	f.add(t, "group", wsA, principal.Group(groupOps), customRole, res(wsA, "servers/2"))
	f.add(t, "empty group", wsA, principal.Group(groupEmpty), customRole, wsGRN(wsA))
	for _, g := range []struct{ id, ws string }{{scopeLab, wsA}, {scopeOfB, wsB}} {
		must(t, st.CreateScopeGroup(ctx, &storage.ScopeGroup{ID: g.id, WorkspaceID: g.ws, Name: "g", Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	}
	_, err := st.AddGroupScopes(ctx, scopeLab, []storage.GroupScope{
		{ID: scopeLabScp1, GRN: res(wsA, "servers/3"), Description: "lab", CreatedAt: t0},
		{ID: ids.New(), GRN: res(wsA, "nics/*"), Description: "nics", CreatedAt: t0}}, 0)
	must(t, err)
	_, err = st.AddGroupScopes(ctx, scopeOfB, []storage.GroupScope{{ID: ids.New(), GRN: res(wsB, "servers/3"), Description: "b", CreatedAt: t0}}, 0)
	must(t, err)
	f.add(t, "scoped", wsA, principal.User(userScoped), customRole, rbac.ScopeGroupGRN(wsA, scopeLab))
	// A GRN that names workspace A but a scope group of workspace B reaches nothing.
	f.add(t, "foreign", wsA, principal.User(userForeign), customRole, rbac.ScopeGroupGRN(wsA, scopeOfB))
	must(t, f.feed.Sync(ctx))
	return f
}

func groupDecisionTable() []decisionCase {
	u, g := principal.User, principal.Group
	return []decisionCase{
		{name: "member through its group", principals: []string{u(userInGroup)}, perm: permView, resource: res(wsA, "servers/2"),
			allowed: true, via: g(groupOps), assignment: "group"},
		{name: "member: the group's scope only", principals: []string{u(userInGroup)}, perm: permView, resource: res(wsA, "servers/1")},
		{name: "the group itself", principals: []string{g(groupOps)}, perm: permView, resource: res(wsA, "servers/2/nics/1"),
			allowed: true, via: g(groupOps), assignment: "group"},
		{name: "a group's assignment does not reach non-members", principals: []string{u(userNobody)}, perm: permView, resource: wsGRN(wsA)},
		{name: "member of an api client's owner", principals: []string{principal.APIClient(clientOrphans), u(userInGroup)}, perm: permView,
			resource: res(wsA, "servers/2"), allowed: true, via: g(groupOps), assignment: "group"},
		{name: "scope group: a scope in it", principals: []string{u(userScoped)}, perm: permView, resource: res(wsA, "servers/3"),
			allowed: true, via: u(userScoped), assignment: "scoped"},
		{name: "scope group: under a scope in it", principals: []string{u(userScoped)}, perm: permView, resource: res(wsA, "servers/3/nics/0"),
			allowed: true, via: u(userScoped), assignment: "scoped"},
		{name: "scope group: a wildcard scope in it", principals: []string{u(userScoped)}, perm: permView, resource: res(wsA, "nics/9"),
			allowed: true, via: u(userScoped), assignment: "scoped"},
		{name: "scope group: outside it", principals: []string{u(userScoped)}, perm: permView, resource: res(wsA, "servers/4")},
		{name: "scope group: not the whole workspace", principals: []string{u(userScoped)}, perm: permView, resource: wsGRN(wsA)},
		{name: "scope group: fixed-scope permission", principals: []string{u(userScoped)}, perm: permPower, resource: res(wsA, "servers/3")},
		{name: "scope group: deprecated permission", principals: []string{u(userScoped)}, perm: permLegacy, resource: res(wsA, "servers/3"),
			allowed: true, via: u(userScoped), assignment: "scoped", deprecated: true},
		{name: "scope group of another workspace", principals: []string{u(userForeign)}, perm: permView, resource: res(wsA, "servers/3")},
		{name: "scope group of another workspace, its own resource", principals: []string{u(userForeign)}, perm: permView, resource: res(wsB, "servers/3")},
	}
}

func TestDecideGroups(t *testing.T) {
	f := groupFixture(t)
	for name, eng := range map[string]*rbac.Engine{"applied": f.eng, "loaded": f.loaded(t)} {
		t.Run(name, func(t *testing.T) {
			for _, tc := range groupDecisionTable() {
				t.Run(tc.name, func(t *testing.T) { checkDecision(t, eng, f, tc) })
			}
			// The general table still holds with groups present.
			for _, tc := range decisionTable() {
				t.Run("base/"+tc.name, func(t *testing.T) { checkDecision(t, eng, f, tc) })
			}
		})
	}
}

func TestDecisionExplainsGroupsAndScopeGroups(t *testing.T) {
	f := groupFixture(t)
	d := f.eng.Decide(inA, []string{principal.User(userInGroup)}, permView, grn.MustParse(res(wsA, "servers/2")))
	if d.Principal != principal.Group(groupOps) || d.Via != principal.User(userInGroup) || d.ScopeGroup != "" {
		t.Fatalf("group decision %+v", d)
	}
	d = f.eng.Decide(inA, []string{principal.User(userScoped)}, permView, grn.MustParse(res(wsA, "nics/9")))
	if d.ScopeGroup != rbac.ScopeGroupGRN(wsA, scopeLab) || d.Scope != res(wsA, "nics/*") || d.Via != "" {
		t.Fatalf("scope group decision %+v", d)
	}
	for _, tc := range []struct {
		perm, resource string
		want           rbac.DenyReason
	}{
		{"svc.none.view", res(wsA, "servers/1"), rbac.DenyUnknownPermission},
		{permView, res(wsA, "disks/1"), rbac.DenyNotApplicable},
		{permView, res(wsA, "servers/9"), rbac.DenyNoGrant},
	} {
		if _, why := f.eng.Explain(inA, []string{principal.User(userScoped)}, tc.perm, grn.MustParse(tc.resource)); why != tc.want {
			t.Errorf("%s on %s: %q, want %q", tc.perm, tc.resource, why, tc.want)
		}
	}
	if _, why := f.eng.Explain(inA, nil, permView, grn.GRN{}); why != rbac.DenyNoResource {
		t.Errorf("zero resource: %q", why)
	}
}

func TestEffectivePermissions(t *testing.T) {
	f := groupFixture(t)
	names := func(gs []rbac.Grant) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Permission)
		}
		return out
	}
	for _, tc := range []struct {
		who      string
		resource string
		want     []string
	}{
		{principal.User(userWhole), res(wsA, "servers/1"), []string{permLegacy, permPower, permView}},
		{principal.User(userResource), res(wsA, "servers/1"), []string{permLegacy, permView}},
		{principal.User(userInGroup), res(wsA, "servers/2"), []string{permLegacy, permView}},
		{principal.User(userScoped), res(wsA, "nics/1"), []string{permView}},
		{principal.User(userNobody), res(wsA, "servers/1"), nil},
		{principal.User(userObserver), wsGRN(wsA), []string{"glp.audit-log.view", "glp.authorization.view", "glp.identity.view", "glp.msp-tenant.view",
			"glp.service-catalog.view", "glp.workspace.view"}},
	} {
		got := names(f.eng.Permissions(inA, []string{tc.who}, grn.MustParse(tc.resource)))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s on %s: %v, want %v", tc.who, tc.resource, got, tc.want)
		}
	}
	for _, g := range f.eng.Permissions(inA, []string{principal.User(userInGroup)}, grn.MustParse(res(wsA, "servers/2"))) {
		if !g.Allowed || g.Principal != principal.Group(groupOps) || g.Deprecated != (g.Permission == permLegacy) {
			t.Errorf("grant %+v", g)
		}
	}
}

func TestFreshnessOfGroups(t *testing.T) {
	ctx := context.Background()
	f := groupFixture(t)
	decide := func(who, perm, resource string) bool {
		return f.eng.Decide(inA, []string{who}, perm, grn.MustParse(resource)).Allowed
	}
	member, scoped := principal.User(userInGroup), principal.User(userScoped)
	steps := []struct {
		name  string
		write func()
		who   string
		res   string
		after bool
	}{
		{"scope removed from the scope group", func() {
			_, err := f.store.RemoveGroupScopes(ctx, scopeLab, []string{scopeLabScp1})
			must(t, err)
		}, scoped, res(wsA, "servers/3"), false},
		{"scope added to the scope group", func() {
			_, err := f.store.AddGroupScopes(ctx, scopeLab, []storage.GroupScope{{ID: ids.New(), GRN: res(wsA, "servers/8"), Description: "x", CreatedAt: t0}}, 0)
			must(t, err)
		}, scoped, res(wsA, "servers/8"), true},
		{"user removed from the group", func() { must(t, f.store.RemoveUserGroupMember(ctx, groupOps, userInGroup)) },
			member, res(wsA, "servers/2"), false},
		{"user added back", func() {
			must(t, f.store.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: groupOps, UserID: userInGroup, CreatedAt: t0}))
		}, member, res(wsA, "servers/2"), true},
		{"group's assignment deleted and group deleted", func() {
			must(t, f.store.DeleteAssignment(ctx, f.assign["group"]))
			must(t, f.store.DeleteUserGroup(ctx, groupOps, principal.Group(groupOps)))
		}, member, res(wsA, "servers/2"), false},
		{"scope group's assignment deleted and group deleted", func() {
			must(t, f.store.DeleteAssignment(ctx, f.assign["scoped"]))
			must(t, f.store.DeleteScopeGroup(ctx, scopeLab, rbac.ScopeGroupGRN(wsA, scopeLab)))
		}, scoped, res(wsA, "nics/1"), false},
	}
	for _, s := range steps {
		s.write()
		must(t, f.feed.Sync(ctx))
		if got := decide(s.who, permView, s.res); got != s.after {
			t.Fatalf("%s: allowed=%v, want %v", s.name, got, s.after)
		}
	}
	if len(f.eng.GroupsOf(member)) != 0 {
		t.Fatalf("a deleted group is still known: %v", f.eng.GroupsOf(member))
	}
	// A fresh load agrees.
	if f.loaded(t).Decide(inA, []string{scoped}, permView, grn.MustParse(res(wsA, "servers/8"))).Allowed {
		t.Fatal("a loaded engine still allows through a deleted scope group")
	}
}
