package rbac_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/changefeed"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Fixed ids, so that failures name recognisable principals.
const (
	wsA = "0192f3a4-5b6c-7d8e-9fab-00000000000a"
	wsB = "0192f3a4-5b6c-7d8e-9fab-00000000000b"

	userWhole    = "00000000-0000-4000-8000-000000000001" // custom role on the whole of wsA
	userResource = "00000000-0000-4000-8000-000000000002" // custom role on servers/1 of wsA
	userWildcard = "00000000-0000-4000-8000-000000000003" // custom role on servers/* of wsA
	userPlatform = "00000000-0000-4000-8000-000000000004" // platform administrator on grn:glp
	userObserver = "00000000-0000-4000-8000-000000000005" // observer on wsA
	userOperator = "00000000-0000-4000-8000-000000000006" // operator on wsA
	userAdmin    = "00000000-0000-4000-8000-000000000007" // workspace administrator on wsA
	userNobody   = "00000000-0000-4000-8000-000000000008" // no assignment at all

	clientOwn     = "00000000-0000-4000-8000-0000000000c1" // api-client with its own assignment on servers/2
	clientOwned   = "00000000-0000-4000-8000-0000000000c2" // api-client with no assignment, owned by userWhole
	clientOrphans = "00000000-0000-4000-8000-0000000000c3" // api-client with no assignment, owned by userNobody

	customRole = "00000000-0000-4000-8000-00000000a001"

	permView       = "svc.servers.view"   // applicable to svc/servers and svc/nics
	permPower      = "svc.servers.power"  // fixed scope
	permLegacy     = "svc.servers.legacy" // deprecated
	permDisksOnly  = "svc.disks.view"     // applicable to svc/disks only, not in the custom role
	permUnassigned = "svc.servers.delete" // registered, held by no role
)

func hex(id string) string { return ids.Hex(id) }

// inA decides as a token of workspace A does: with the assignments made in A.
var inA = rbac.Where{Workspace: wsA}

// res is a resource GRN in ws's default region.
func res(ws, path string) string {
	return "grn:glp/workspaces/" + hex(ws) + "/regions/default/providers/svc/" + path
}

func wsGRN(ws string) string { return "grn:glp/workspaces/" + hex(ws) }

type fixture struct {
	dir   string
	store *sqlstore.Store
	feed  *changefeed.Feed
	eng   *rbac.Engine
	// assignment ids by name
	assign map[string]string
}

func openStore(t testing.TB, dir string) *sqlstore.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newFixture loads an engine from an empty store through a feed, then writes the scenario,
// so that the engine is built by Apply; loaded() builds a second engine by Load.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	f := &fixture{dir: dir, store: openStore(t, dir), eng: rbac.NewEngine(), assign: map[string]string{}}
	f.feed = changefeed.New(f.store, slog.New(slog.DiscardHandler), f.eng)
	must(t, f.feed.Load(ctx))

	st := f.store
	must(t, rbac.EnsureBuiltins(ctx, st, t0))
	for _, ws := range []string{wsA, wsB} {
		must(t, st.CreateWorkspace(ctx, &storage.Workspace{ID: ws, Name: "ws-" + ws[len(ws)-1:], Type: storage.WorkspaceStandard,
			Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	}
	perm := func(name string, types []string, fixed bool, stage string) {
		must(t, st.UpsertPermission(ctx, &storage.Permission{Name: name, Provider: "svc", Description: name,
			ReleaseStage: stage, CustomRoleUse: rbac.CustomAllow, ResourceTypes: types, FixedScope: fixed,
			Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	}
	perm(permView, []string{"svc/servers", "svc/nics"}, false, rbac.StageStable)
	perm(permPower, []string{"svc/servers"}, true, rbac.StageStable)
	perm(permLegacy, []string{"svc/servers"}, false, rbac.StageDeprecated)
	perm(permDisksOnly, []string{"svc/disks"}, false, rbac.StageStable)
	perm(permUnassigned, []string{"svc/servers"}, false, rbac.StageStable)
	must(t, st.UpsertRole(ctx, &storage.Role{ID: customRole, WorkspaceID: wsA, Slug: "server-operator", Name: "Server operator",
		Kind: rbac.KindCustom, ReleaseStage: rbac.StageStable, Permissions: []string{permView, permPower, permLegacy},
		Generation: 1, CreatedAt: t0, UpdatedAt: t0}))

	f.add(t, "whole", wsA, principal.User(userWhole), customRole, wsGRN(wsA))
	f.add(t, "resource", wsA, principal.User(userResource), customRole, res(wsA, "servers/1"))
	f.add(t, "wildcard", wsA, principal.User(userWildcard), customRole, res(wsA, "servers/*"))
	f.add(t, "platform", wsA, principal.User(userPlatform), rbac.PredefinedRoleID(rbac.RolePlatformAdmin), "grn:glp")
	f.add(t, "observer", wsA, principal.User(userObserver), rbac.PredefinedRoleID(rbac.RoleWorkspaceObserver), wsGRN(wsA))
	f.add(t, "operator", wsA, principal.User(userOperator), rbac.PredefinedRoleID(rbac.RoleWorkspaceOperator), wsGRN(wsA))
	f.add(t, "admin", wsA, principal.User(userAdmin), rbac.PredefinedRoleID(rbac.RoleWorkspaceAdmin), wsGRN(wsA))
	f.add(t, "client", wsA, principal.APIClient(clientOwn), customRole, res(wsA, "servers/2"))
	must(t, f.feed.Sync(ctx))
	return f
}

func (f *fixture) add(t testing.TB, name, ws, subject, role string, scopes ...string) {
	t.Helper()
	id := ids.New()
	must(t, f.store.CreateAssignment(context.Background(), &storage.Assignment{ID: id, WorkspaceID: ws, Subject: subject,
		RoleID: role, Scopes: scopes, Source: "LOCAL", Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	f.assign[name] = id
}

// loaded returns a second engine built from the store by Load alone.
func (f *fixture) loaded(t *testing.T) *rbac.Engine {
	t.Helper()
	e := rbac.NewEngine()
	must(t, changefeed.New(f.store, slog.New(slog.DiscardHandler), e).Load(context.Background()))
	return e
}

type decisionCase struct {
	name       string
	principals []string
	perm       string
	resource   string
	allowed    bool
	// checked only when allowed
	via        string // principal that allowed it
	assignment string // fixture assignment name
	deprecated bool
	// where the decision is made; the zero value stands for inA
	where rbac.Where
}

func decisionTable() []decisionCase {
	u, c := principal.User, principal.APIClient
	return []decisionCase{
		// whole-workspace scope
		{name: "workspace scope allows a server in it", principals: []string{u(userWhole)}, perm: permView,
			resource: res(wsA, "servers/1"), allowed: true, via: u(userWhole), assignment: "whole"},
		{name: "workspace scope allows a nested resource", principals: []string{u(userWhole)}, perm: permView,
			resource: res(wsA, "servers/7/nics/0"), allowed: true, via: u(userWhole), assignment: "whole"},
		{name: "workspace scope covers every region", principals: []string{u(userWhole)}, perm: permView,
			resource: "grn:glp/workspaces/" + hex(wsA) + "/regions/eu-west/providers/svc/servers/1", allowed: true, via: u(userWhole), assignment: "whole"},
		{name: "a whole-workspace resource skips the type check", principals: []string{u(userWhole)}, perm: permView,
			resource: wsGRN(wsA), allowed: true, via: u(userWhole), assignment: "whole"},
		{name: "another workspace's resource is denied", principals: []string{u(userWhole)}, perm: permView,
			resource: res(wsB, "servers/1")},
		{name: "another workspace is denied", principals: []string{u(userWhole)}, perm: permView, resource: wsGRN(wsB)},
		{name: "workspace scope does not reach the platform root", principals: []string{u(userWhole)}, perm: permView, resource: "grn:glp"},
		{name: "another platform is denied", principals: []string{u(userWhole)}, perm: permView,
			resource: "grn:other/workspaces/" + hex(wsA) + "/regions/default/providers/svc/servers/1"},

		// resource scope
		{name: "resource scope allows itself", principals: []string{u(userResource)}, perm: permView,
			resource: res(wsA, "servers/1"), allowed: true, via: u(userResource), assignment: "resource"},
		{name: "resource scope allows a descendant", principals: []string{u(userResource)}, perm: permView,
			resource: res(wsA, "servers/1/nics/0"), allowed: true, via: u(userResource), assignment: "resource"},
		{name: "resource scope does not cover servers/10", principals: []string{u(userResource)}, perm: permView,
			resource: res(wsA, "servers/10")},
		{name: "resource scope does not cover servers/10 descendants", principals: []string{u(userResource)}, perm: permView,
			resource: res(wsA, "servers/10/nics/0")},
		{name: "resource scope does not cover a sibling", principals: []string{u(userResource)}, perm: permView,
			resource: res(wsA, "servers/2")},
		{name: "resource scope does not cover the whole workspace", principals: []string{u(userResource)}, perm: permView,
			resource: wsGRN(wsA)},
		{name: "resource scope does not cover another region", principals: []string{u(userResource)}, perm: permView,
			resource: "grn:glp/workspaces/" + hex(wsA) + "/regions/eu-west/providers/svc/servers/1"},
		{name: "resource scope does not cover the same path in another workspace", principals: []string{u(userResource)}, perm: permView,
			resource: res(wsB, "servers/1")},

		// wildcard
		{name: "wildcard covers servers/1", principals: []string{u(userWildcard)}, perm: permView,
			resource: res(wsA, "servers/1"), allowed: true, via: u(userWildcard), assignment: "wildcard"},
		{name: "wildcard covers servers/10", principals: []string{u(userWildcard)}, perm: permView,
			resource: res(wsA, "servers/10"), allowed: true, via: u(userWildcard), assignment: "wildcard"},
		{name: "wildcard covers descendants", principals: []string{u(userWildcard)}, perm: permView,
			resource: res(wsA, "servers/10/nics/3"), allowed: true, via: u(userWildcard), assignment: "wildcard"},
		{name: "wildcard does not cover another workspace", principals: []string{u(userWildcard)}, perm: permView,
			resource: res(wsB, "servers/1")},
		{name: "wildcard does not cover the workspace", principals: []string{u(userWildcard)}, perm: permView,
			resource: wsGRN(wsA)},

		// platform root
		{name: "platform root covers workspace A", principals: []string{u(userPlatform)}, perm: "glp.workspace.delete",
			resource: wsGRN(wsA), allowed: true, via: u(userPlatform), assignment: "platform"},
		{name: "platform root covers workspace B", principals: []string{u(userPlatform)}, perm: "glp.identity.edit",
			resource: wsGRN(wsB), allowed: true, via: u(userPlatform), assignment: "platform"},
		{name: "platform root covers itself", principals: []string{u(userPlatform)}, perm: "glp.resource-provider.edit",
			resource: "grn:glp", allowed: true, via: u(userPlatform), assignment: "platform"},
		{name: "platform root covers a workspace that does not exist yet", principals: []string{u(userPlatform)}, perm: "glp.workspace.view",
			resource: "grn:glp/workspaces/" + strings.Repeat("ab", 16), allowed: true, via: u(userPlatform), assignment: "platform"},
		{name: "platform admin does not hold provider permissions", principals: []string{u(userPlatform)}, perm: permView,
			resource: res(wsA, "servers/1")},

		// fixed scope
		{name: "fixed-scope permission through a whole-workspace scope", principals: []string{u(userWhole)}, perm: permPower,
			resource: res(wsA, "servers/1"), allowed: true, via: u(userWhole), assignment: "whole"},
		{name: "fixed-scope permission denied through a resource scope", principals: []string{u(userResource)}, perm: permPower,
			resource: res(wsA, "servers/1")},
		{name: "fixed-scope permission denied through a wildcard scope", principals: []string{u(userWildcard)}, perm: permPower,
			resource: res(wsA, "servers/1")},

		// resource types
		{name: "permission for svc/servers denied on svc/disks", principals: []string{u(userWhole)}, perm: permView,
			resource: res(wsA, "disks/1")},
		{name: "permission for svc/servers denied on a disk inside a server", principals: []string{u(userResource)}, perm: permView,
			resource: res(wsA, "servers/1/disks/1")},
		{name: "fixed-scope permission denied on another type", principals: []string{u(userWhole)}, perm: permPower,
			resource: res(wsA, "servers/1/nics/0")},
		{name: "type match does not help without the permission in the role", principals: []string{u(userWhole)}, perm: permDisksOnly,
			resource: res(wsA, "disks/1")},

		// deprecated
		{name: "deprecated permission still allowed", principals: []string{u(userWhole)}, perm: permLegacy,
			resource: res(wsA, "servers/1"), allowed: true, via: u(userWhole), assignment: "whole", deprecated: true},
		{name: "deprecated permission through a resource scope", principals: []string{u(userResource)}, perm: permLegacy,
			resource: res(wsA, "servers/1"), allowed: true, via: u(userResource), assignment: "resource", deprecated: true},

		// unknown or unheld permissions
		{name: "unknown permission denied", principals: []string{u(userWhole)}, perm: "svc.servers.nope", resource: res(wsA, "servers/1")},
		{name: "unknown permission denied to the platform admin", principals: []string{u(userPlatform)}, perm: "svc.servers.nope", resource: wsGRN(wsA)},
		{name: "empty permission denied", principals: []string{u(userPlatform)}, perm: "", resource: wsGRN(wsA)},
		{name: "registered permission held by no role", principals: []string{u(userWhole)}, perm: permUnassigned, resource: res(wsA, "servers/1")},

		// deny by default
		{name: "no assignment denied", principals: []string{u(userNobody)}, perm: permView, resource: res(wsA, "servers/1")},
		{name: "no principals denied", principals: nil, perm: permView, resource: res(wsA, "servers/1")},
		{name: "unknown principal type denied", principals: []string{"user-group:" + userWhole}, perm: permView, resource: res(wsA, "servers/1")},
		{name: "subject id without its type denied", principals: []string{userWhole}, perm: permView, resource: res(wsA, "servers/1")},
		{name: "zero resource denied", principals: []string{u(userPlatform)}, perm: "glp.workspace.view", resource: ""},

		// api clients and principal union
		{name: "api-client's own assignment", principals: []string{c(clientOwn)}, perm: permView,
			resource: res(wsA, "servers/2/nics/1"), allowed: true, via: c(clientOwn), assignment: "client"},
		{name: "api-client's own assignment does not reach servers/1", principals: []string{c(clientOwn)}, perm: permView,
			resource: res(wsA, "servers/1")},
		{name: "api-client allowed through its owner", principals: []string{c(clientOwned), u(userWhole)}, perm: permView,
			resource: res(wsA, "servers/1"), allowed: true, via: u(userWhole), assignment: "whole"},
		{name: "union: client's own grant is found first", principals: []string{c(clientOwn), u(userResource)}, perm: permView,
			resource: res(wsA, "servers/2"), allowed: true, via: c(clientOwn), assignment: "client"},
		{name: "union: owner's grant where the client has none", principals: []string{c(clientOwn), u(userResource)}, perm: permView,
			resource: res(wsA, "servers/1"), allowed: true, via: u(userResource), assignment: "resource"},
		{name: "union still denies what neither holds", principals: []string{c(clientOwn), u(userResource)}, perm: permView,
			resource: res(wsA, "servers/3")},
		{name: "api-client whose owner has nothing", principals: []string{c(clientOrphans), u(userNobody)}, perm: permView,
			resource: res(wsA, "servers/1")},
	}
}

func checkDecision(t *testing.T, eng *rbac.Engine, f *fixture, tc decisionCase) {
	t.Helper()
	var r grn.GRN
	if tc.resource != "" {
		r = grn.MustParse(tc.resource)
	}
	w := tc.where
	if w == (rbac.Where{}) {
		w = inA
	}
	d := eng.Decide(w, tc.principals, tc.perm, r)
	if d.Allowed != tc.allowed {
		t.Fatalf("Decide(%+v, %v, %q, %s) = %+v, want allowed=%v", w, tc.principals, tc.perm, tc.resource, d, tc.allowed)
	}
	if !tc.allowed {
		if !reflect.DeepEqual(d, rbac.Decision{}) {
			t.Fatalf("a denial carries details: %+v", d)
		}
		return
	}
	if d.Principal != tc.via {
		t.Errorf("Principal = %q, want %q", d.Principal, tc.via)
	}
	if want := f.assign[tc.assignment]; d.AssignmentID != want {
		t.Errorf("AssignmentID = %q, want %q (%s)", d.AssignmentID, want, tc.assignment)
	}
	if d.Deprecated != tc.deprecated {
		t.Errorf("Deprecated = %v, want %v", d.Deprecated, tc.deprecated)
	}
	if d.RoleID == "" || d.Scope == "" {
		t.Errorf("allowed without role or scope: %+v", d)
	}
	if _, err := grn.Parse(d.Scope); err != nil {
		t.Errorf("Scope %q does not parse: %v", d.Scope, err)
	}
}

func TestDecide(t *testing.T) {
	f := newFixture(t)
	engines := map[string]*rbac.Engine{"applied": f.eng, "loaded": f.loaded(t)}
	for _, name := range []string{"applied", "loaded"} {
		eng := engines[name]
		t.Run(name, func(t *testing.T) {
			for _, tc := range decisionTable() {
				t.Run(tc.name, func(t *testing.T) { checkDecision(t, eng, f, tc) })
			}
		})
	}
}

func TestAllowedUsesOwner(t *testing.T) {
	f := newFixture(t)
	r := grn.MustParse(res(wsA, "servers/1"))
	owned := &principal.Caller{Subject: principal.APIClient(clientOwned), ClientID: clientOwned, OwnerID: userWhole, WorkspaceID: wsA}
	if !f.eng.Allowed(owned, permView, r) {
		t.Fatal("api-client without assignments is not allowed through its owner")
	}
	ownerless := &principal.Caller{Subject: principal.APIClient(clientOwned), ClientID: clientOwned, WorkspaceID: wsA}
	if f.eng.Allowed(ownerless, permView, r) {
		t.Fatal("api-client without assignments and without owner is allowed")
	}
	other := &principal.Caller{Subject: principal.APIClient(clientOrphans), ClientID: clientOrphans, OwnerID: userNobody, WorkspaceID: wsA}
	if f.eng.Allowed(other, permView, r) {
		t.Fatal("api-client whose owner has no assignment is allowed")
	}
}

// TestPredefinedRoles checks the contents of the four predefined roles as definitions and as
// the engine decides them.
func TestPredefinedRoles(t *testing.T) {
	perms, roles := rbac.Builtins()
	var all, views, edits, platform, audit []string
	for _, p := range perms {
		all = append(all, p.Name)
		parts := strings.Split(p.Name, ".")
		switch {
		case len(parts) != 3 || parts[0] != "glp":
			t.Errorf("built-in permission %q is not glp.<area>.<action>", p.Name)
		case slices.Contains(rbac.Areas, parts[1]) && parts[2] == "view":
			views = append(views, p.Name)
		case slices.Contains(rbac.Areas, parts[1]) && parts[2] == "edit":
			edits = append(edits, p.Name)
		case slices.Contains(rbac.Areas, parts[1]) && parts[2] == "delete":
		case parts[1] == "resource-provider" || parts[1] == "predefined-role":
			platform = append(platform, p.Name)
		case p.Name == rbac.PermAuditView:
			audit = append(audit, p.Name)
		default:
			t.Errorf("unexpected built-in permission %q", p.Name)
		}
	}
	if len(views) != 5 || len(edits) != 5 || len(audit) != 1 || len(all) != 16+len(platform) || len(platform) == 0 {
		t.Fatalf("built-ins: %d views, %d edits, %d platform, %d in all", len(views), len(edits), len(platform), len(all))
	}
	for _, a := range []string{"workspace", "authorization", "identity", "msp-tenant", "service-catalog"} {
		for _, act := range []string{"view", "edit", "delete"} {
			if !slices.Contains(all, "glp."+a+"."+act) {
				t.Errorf("missing glp.%s.%s", a, act)
			}
		}
	}
	workspacePerms := slices.DeleteFunc(slices.Clone(all), func(p string) bool { return slices.Contains(platform, p) })
	want := map[string][]string{
		rbac.RoleWorkspaceObserver: append(slices.Clone(views), audit...),
		rbac.RoleWorkspaceOperator: append(append(slices.Clone(views), edits...), audit...),
		rbac.RoleWorkspaceAdmin:    workspacePerms,
		rbac.RolePlatformAdmin:     all,
	}
	if len(roles) != len(want) {
		t.Fatalf("%d predefined roles, want %d", len(roles), len(want))
	}
	for _, r := range roles {
		w, ok := want[r.Slug]
		if !ok {
			t.Errorf("unexpected predefined role %q", r.Slug)
			continue
		}
		if got := slices.Sorted(slices.Values(r.Permissions)); !slices.Equal(got, slices.Sorted(slices.Values(w))) {
			t.Errorf("%s holds %v, want %v", r.Slug, got, slices.Sorted(slices.Values(w)))
		}
		if r.ID != rbac.PredefinedRoleID(r.Slug) || r.Kind != rbac.KindPredefined || r.WorkspaceID != "" {
			t.Errorf("%s: id %s kind %s workspace %q", r.Slug, r.ID, r.Kind, r.WorkspaceID)
		}
		if _, err := grn.Parse(rbac.PredefinedRoleGRN(r.Slug)); err != nil {
			t.Errorf("%s: GRN: %v", r.Slug, err)
		}
	}

	// The same, as stored and decided.
	f := newFixture(t)
	ctx := context.Background()
	for slug, w := range want {
		r, err := f.store.GetRole(ctx, rbac.PredefinedRoleID(slug))
		must(t, err)
		if !slices.Equal(r.Permissions, slices.Sorted(slices.Values(w))) {
			t.Errorf("stored %s holds %v", slug, r.Permissions)
		}
	}
	holders := map[string]struct {
		user  string
		scope string
	}{
		rbac.RoleWorkspaceObserver: {userObserver, wsGRN(wsA)},
		rbac.RoleWorkspaceOperator: {userOperator, wsGRN(wsA)},
		rbac.RoleWorkspaceAdmin:    {userAdmin, wsGRN(wsA)},
		rbac.RolePlatformAdmin:     {userPlatform, "grn:glp"},
	}
	for slug, h := range holders {
		for _, p := range all {
			got := f.eng.Decide(inA, []string{principal.User(h.user)}, p, grn.MustParse(h.scope)).Allowed
			if exp := slices.Contains(want[slug], p); got != exp {
				t.Errorf("%s on %s: %s allowed=%v, want %v", slug, h.scope, p, got, exp)
			}
		}
		// Nothing outside glp, and nothing in another workspace (except from the platform root).
		if f.eng.Decide(inA, []string{principal.User(h.user)}, permView, grn.MustParse(res(wsA, "servers/1"))).Allowed {
			t.Errorf("%s holds %s", slug, permView)
		}
		inB := f.eng.Decide(inA, []string{principal.User(h.user)}, "glp.workspace.view", grn.MustParse(wsGRN(wsB))).Allowed
		if inB != (slug == rbac.RolePlatformAdmin) {
			t.Errorf("%s on workspace B: allowed=%v", slug, inB)
		}
	}
}
