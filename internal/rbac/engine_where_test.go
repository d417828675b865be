package rbac_test

import (
	"context"
	"slices"
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// The workspaces and principals of the "where an assignment counts" tests: an MSP with two
// tenants, one of them in a tenant group.
const (
	wsMSP     = "0192f3a4-5b6c-7d8e-9fab-0000000000d0"
	wsTenant  = "0192f3a4-5b6c-7d8e-9fab-0000000000d1" // in tenantGrp
	wsTenant2 = "0192f3a4-5b6c-7d8e-9fab-0000000000d2" // in no group
	tenantGrp = "00000000-0000-4000-8000-0000000000d9"

	userMSPObserver = "00000000-0000-4000-8000-000000000021" // observer on the MSP's whole workspace, made in the MSP
	userMSPGroupOp  = "00000000-0000-4000-8000-000000000022" // operator on tenantGrp, made in the MSP
	userTenantAdmin = "00000000-0000-4000-8000-000000000023" // administrator of wsTenant, made there
	userRogue       = "00000000-0000-4000-8000-000000000024" // admin on the MSP's GRN, but made in wsB
	userMSPCustom   = "00000000-0000-4000-8000-000000000025" // the custom role on the MSP's whole workspace, made there
	groupOfMSP      = "00000000-0000-4000-8000-0000000000e3" // user group of the MSP: userTenantAdmin
)

// tenantGroups is a GroupMembership holding tenantGrp = {wsTenant}.
type tenantGroups struct{}

func (tenantGroups) Contains(group, tenant string) bool {
	return group == tenantGrp && tenant == wsTenant
}

// whereFixture adds the MSP, its tenants and their assignments to the group fixture. The
// rogue assignment cannot be made through the API (scopes lie in the workspace the
// assignment is made in); it stands for any assignment made elsewhere.
func whereFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := groupFixture(t)
	st := f.store
	must(t, st.CreateWorkspace(ctx, &storage.Workspace{ID: wsMSP, Name: "msp", Type: storage.WorkspaceMSP,
		Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	for _, ws := range []string{wsTenant, wsTenant2} {
		must(t, st.CreateWorkspace(ctx, &storage.Workspace{ID: ws, Name: "t" + ws[len(ws)-1:], Type: storage.WorkspaceTenant,
			ParentID: wsMSP, Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	}
	must(t, st.CreateUserGroup(ctx, &storage.UserGroup{ID: groupOfMSP, WorkspaceID: wsMSP, Name: "msp-ops", Generation: 1,
		CreatedAt: t0, UpdatedAt: t0}))
	must(t, st.CreateUser(ctx, &storage.User{ID: userTenantAdmin, Email: "ta@example.test", Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	must(t, st.AddMember(ctx, wsMSP, userTenantAdmin, t0))
	must(t, st.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: groupOfMSP, UserID: userTenantAdmin, CreatedAt: t0}))
	role := rbac.PredefinedRoleID
	f.add(t, "msp-observer", wsMSP, principal.User(userMSPObserver), role(rbac.RoleWorkspaceObserver), wsGRN(wsMSP))
	f.add(t, "msp-group-op", wsMSP, principal.User(userMSPGroupOp), role(rbac.RoleWorkspaceOperator), rbac.TenantGroupGRN(wsMSP, tenantGrp))
	f.add(t, "msp-group-of-users", wsMSP, principal.Group(groupOfMSP), role(rbac.RoleWorkspaceAdmin), wsGRN(wsMSP))
	f.add(t, "msp-custom", wsMSP, principal.User(userMSPCustom), customRole, wsGRN(wsMSP))
	f.add(t, "tenant-admin", wsTenant, principal.User(userTenantAdmin), role(rbac.RoleWorkspaceAdmin), wsGRN(wsTenant))
	f.add(t, "rogue", wsB, principal.User(userRogue), role(rbac.RoleWorkspaceAdmin), wsGRN(wsMSP), wsGRN(wsTenant))
	must(t, f.feed.Sync(ctx))
	f.eng.Groups = tenantGroups{}
	return f
}

// TestWhereAssignmentsCount checks the rule that stops rights from following a user into a
// workspace someone else controls: a decision counts only the assignments made where it is
// made (plus, in an MSP tenant, the MSP's that reach the tenant), grn:glp included.
func TestWhereAssignmentsCount(t *testing.T) {
	f := whereFixture(t)
	u := principal.User
	inB, inMSP := rbac.Where{Workspace: wsB}, rbac.Where{Workspace: wsMSP}
	inT := rbac.Where{Workspace: wsTenant, MSP: wsMSP}
	inT2 := rbac.Where{Workspace: wsTenant2, MSP: wsMSP}
	cases := []decisionCase{
		// Assignments made in another workspace count for nothing, whatever their scope.
		{name: "platform admin of A, acting in B: not on the platform", where: inB, principals: []string{u(userPlatform)},
			perm: "glp.resource-provider.edit", resource: "grn:glp"},
		{name: "platform admin of A, acting in B: not on B", where: inB, principals: []string{u(userPlatform)},
			perm: "glp.identity.edit", resource: wsGRN(wsB)},
		{name: "platform admin of A, acting in B: not on A", where: inB, principals: []string{u(userPlatform)},
			perm: "glp.authorization.view", resource: wsGRN(wsA)},
		{name: "platform admin of A, acting in A: the platform", principals: []string{u(userPlatform)},
			perm: "glp.predefined-role.edit", resource: "grn:glp", allowed: true, via: u(userPlatform), assignment: "platform"},
		{name: "workspace admin of A, acting in B: not on A", where: inB, principals: []string{u(userAdmin)},
			perm: "glp.workspace.view", resource: wsGRN(wsA)},
		{name: "custom role in A, acting in B: not on A's server", where: inB, principals: []string{u(userWhole)},
			perm: permView, resource: res(wsA, "servers/1")},
		{name: "owner's rights do not follow an api client of B", where: inB,
			principals: []string{principal.APIClient(clientOwned), u(userWhole)}, perm: permView, resource: res(wsA, "servers/1")},
		{name: "group of A, acting in B", where: inB, principals: []string{u(userInGroup)}, perm: permView, resource: res(wsA, "servers/2")},
		{name: "assignment made in B on A's GRN does not reach the MSP", where: inMSP, principals: []string{u(userRogue)},
			perm: "glp.workspace.view", resource: wsGRN(wsMSP)},
		{name: "assignment made in B on the tenant's GRN does not reach the tenant", where: inT, principals: []string{u(userRogue)},
			perm: "glp.workspace.view", resource: wsGRN(wsTenant)},
		{name: "an unknown workspace holds nothing", where: rbac.Where{Workspace: "0192f3a4-5b6c-7d8e-9fab-0000000000ff"},
			principals: []string{u(userPlatform)}, perm: "glp.workspace.view", resource: "grn:glp"},

		// MSP reach, as token exchange and tenant credentials have it.
		{name: "MSP whole-workspace assignment reaches the tenant", where: inT, principals: []string{u(userMSPObserver)},
			perm: "glp.workspace.view", resource: wsGRN(wsTenant), allowed: true, via: u(userMSPObserver), assignment: "msp-observer"},
		{name: "MSP assignment applies in the whole tenant", where: inT, principals: []string{u(userMSPCustom)},
			perm: permPower, resource: res(wsTenant, "servers/4"), allowed: true, via: u(userMSPCustom), assignment: "msp-custom"},
		{name: "MSP assignment: applicable resource types still apply", where: inT, principals: []string{u(userMSPCustom)},
			perm: permView, resource: res(wsTenant, "disks/4")},
		{name: "MSP assignment: only its role's permissions", where: inT, principals: []string{u(userMSPObserver)},
			perm: "glp.workspace.edit", resource: wsGRN(wsTenant)},
		{name: "MSP whole-workspace assignment reaches every tenant", where: inT2, principals: []string{u(userMSPObserver)},
			perm: "glp.workspace.view", resource: wsGRN(wsTenant2), allowed: true, via: u(userMSPObserver), assignment: "msp-observer"},
		{name: "MSP tenant-group assignment reaches a tenant in the group", where: inT, principals: []string{u(userMSPGroupOp)},
			perm: "glp.workspace.edit", resource: wsGRN(wsTenant), allowed: true, via: u(userMSPGroupOp), assignment: "msp-group-op"},
		{name: "MSP tenant-group assignment does not reach a tenant outside the group", where: inT2, principals: []string{u(userMSPGroupOp)},
			perm: "glp.workspace.edit", resource: wsGRN(wsTenant2)},
		{name: "MSP assignment does not apply outside the tenant", where: inT, principals: []string{u(userMSPObserver)},
			perm: "glp.workspace.view", resource: wsGRN(wsMSP)},
		{name: "MSP assignment does not apply on the platform", where: inT, principals: []string{u(userMSPObserver)},
			perm: "glp.workspace.view", resource: "grn:glp"},
		{name: "MSP assignment does not count without the MSP", where: rbac.Where{Workspace: wsTenant}, principals: []string{u(userMSPObserver)},
			perm: "glp.workspace.view", resource: wsGRN(wsTenant)},
		{name: "the MSP's own token does not hold the tenant", where: inMSP, principals: []string{u(userMSPObserver)},
			perm: "glp.workspace.view", resource: wsGRN(wsTenant)},
		{name: "an MSP's group assignment does not count in the tenant", where: inT, principals: []string{u(userTenantAdmin)},
			perm: "glp.workspace.delete", resource: wsGRN(wsTenant2)},
		{name: "the tenant's own assignments count with the MSP's", where: inT, principals: []string{u(userTenantAdmin)},
			perm: "glp.workspace.delete", resource: wsGRN(wsTenant), allowed: true, via: u(userTenantAdmin), assignment: "tenant-admin"},
		{name: "an MSP named for a workspace that is its own counts once", where: rbac.Where{Workspace: wsMSP, MSP: wsMSP},
			principals: []string{u(userMSPObserver)}, perm: "glp.workspace.view", resource: wsGRN(wsMSP),
			allowed: true, via: u(userMSPObserver), assignment: "msp-observer"},
	}
	for name, eng := range map[string]*rbac.Engine{"applied": f.eng, "loaded": f.loaded(t)} {
		eng.Groups = tenantGroups{}
		t.Run(name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { checkDecision(t, eng, f, tc) })
			}
		})
	}

	// External grants say so.
	d := f.eng.Decide(inT, []string{u(userMSPObserver)}, "glp.workspace.view", grn.MustParse(wsGRN(wsTenant)))
	if !d.External || d.Scope != wsGRN(wsMSP) {
		t.Errorf("MSP grant %+v: want External on the MSP's GRN", d)
	}
	if d := f.eng.Decide(inT, []string{u(userTenantAdmin)}, "glp.workspace.view", grn.MustParse(wsGRN(wsTenant))); d.External {
		t.Errorf("the tenant's own grant is reported external: %+v", d)
	}
	// The zero Where holds nothing, not even the platform administrator's grn:glp.
	if d, why := f.eng.Explain(rbac.Where{}, []string{u(userPlatform)}, "glp.workspace.view", grn.MustParse("grn:glp")); d.Allowed || why != rbac.DenyNoGrant {
		t.Errorf("zero Where: %+v, %q", d, why)
	}
	if _, why := f.eng.Explain(inB, []string{u(userPlatform)}, "glp.workspace.view", grn.MustParse(wsGRN(wsB))); why != rbac.DenyNoGrant {
		t.Errorf("platform admin of A in B: %q", why)
	}
}

// TestAllowedActsInTheCallersWorkspace checks Engine.Allowed, which every endpoint uses: a
// token acts with the assignments of its own workspace, whoever owns its credential.
func TestAllowedActsInTheCallersWorkspace(t *testing.T) {
	f := whereFixture(t)
	owned := func(ws, actingFrom string) *principal.Caller {
		return &principal.Caller{Subject: principal.APIClient(clientOwned), ClientID: clientOwned, OwnerID: userPlatform,
			WorkspaceID: ws, ActingFrom: actingFrom}
	}
	platform := grn.Platform(grn.DefaultPlatform)
	if !f.eng.Allowed(owned(wsA, ""), "glp.resource-provider.edit", platform) {
		t.Error("the platform administrator's token of A does not hold grn:glp")
	}
	for _, p := range []string{"glp.resource-provider.edit", "glp.predefined-role.edit"} {
		if f.eng.Allowed(owned(wsB, ""), p, platform) {
			t.Errorf("a token of B owned by A's platform administrator holds %s on grn:glp", p)
		}
	}
	for _, ws := range []string{wsA, wsB} {
		if f.eng.Allowed(owned(wsB, ""), "glp.authorization.view", grn.MustParse(wsGRN(ws))) {
			t.Errorf("a token of B owned by A's platform administrator holds glp.authorization.view on %s", ws)
		}
	}
	mspUser := &principal.Caller{Subject: principal.APIClient(clientOrphans), OwnerID: userMSPGroupOp, WorkspaceID: wsTenant, ActingFrom: wsMSP}
	if !f.eng.Allowed(mspUser, "glp.workspace.edit", grn.MustParse(wsGRN(wsTenant))) {
		t.Error("a token acting in a tenant from its MSP lacks the MSP's reaching grant")
	}
	mspUser.ActingFrom = ""
	if f.eng.Allowed(mspUser, "glp.workspace.edit", grn.MustParse(wsGRN(wsTenant))) {
		t.Error("a tenant token that does not act from the MSP holds the MSP's grant")
	}
}

// TestReachesOnlyFromTheMSP checks the token-exchange condition: an assignment made in the
// MSP workspace whose scope reaches the tenant, nothing made elsewhere.
func TestReachesOnlyFromTheMSP(t *testing.T) {
	f := whereFixture(t)
	u := principal.User
	for _, tc := range []struct {
		who         string
		msp, tenant string
		want        bool
		name        string
	}{
		{u(userMSPObserver), wsMSP, wsTenant, true, "whole MSP workspace"},
		{u(userMSPObserver), wsMSP, wsTenant2, true, "whole MSP workspace, another tenant"},
		{u(userMSPGroupOp), wsMSP, wsTenant, true, "tenant group holding the tenant"},
		{u(userMSPGroupOp), wsMSP, wsTenant2, false, "tenant group without the tenant"},
		{u(userRogue), wsMSP, wsTenant, false, "made in another workspace on the MSP's GRN"},
		{u(userRogue), wsB, wsTenant, false, "made in B, which is not the tenant's MSP's GRN"},
		{u(userTenantAdmin), wsMSP, wsTenant, false, "only through a user group"},
		{u(userPlatform), wsMSP, wsTenant, false, "grn:glp made in A"},
		{u(userMSPObserver), "", wsTenant, false, "no MSP"},
	} {
		if got := f.eng.Reaches([]string{tc.who}, tc.msp, tc.tenant); got != tc.want {
			t.Errorf("%s: Reaches = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestEffectivePermissionsWhere checks that effective permissions obey the same rule.
func TestEffectivePermissionsWhere(t *testing.T) {
	f := whereFixture(t)
	names := func(gs []rbac.Grant) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Permission)
		}
		return out
	}
	platform := grn.Platform(grn.DefaultPlatform)
	if got := f.eng.Permissions(rbac.Where{Workspace: wsB}, []string{principal.User(userPlatform)}, platform); len(got) != 0 {
		t.Errorf("platform admin of A, listed in B: %v", names(got))
	}
	if got := f.eng.Permissions(inA, []string{principal.User(userPlatform)}, platform); !slices.Contains(names(got), "glp.resource-provider.edit") {
		t.Errorf("platform admin of A, listed in A: %v", names(got))
	}
	inT := rbac.Where{Workspace: wsTenant, MSP: wsMSP}
	got := f.eng.Permissions(inT, []string{principal.User(userMSPObserver)}, grn.MustParse(wsGRN(wsTenant)))
	want := []string{"glp.audit-log.view", "glp.authorization.view", "glp.identity.view", "glp.msp-tenant.view", "glp.service-catalog.view", "glp.workspace.view"}
	if !slices.Equal(names(got), want) {
		t.Errorf("MSP observer in the tenant: %v, want %v", names(got), want)
	}
	for _, g := range got {
		if !g.External {
			t.Errorf("MSP grant not external: %+v", g)
		}
	}
	if got := f.eng.Permissions(inT, []string{principal.User(userRogue)}, grn.MustParse(wsGRN(wsTenant))); len(got) != 0 {
		t.Errorf("assignment made in B counted in the tenant: %v", names(got))
	}
}
