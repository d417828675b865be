package app_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// The grant matrix: the escalation rules (docs/api.md, "Who may grant what") as a table over
// kinds of caller × the grants each tries in its own workspace, each cell with its expected
// answer, in the style of the isolation matrix.
//
// Callers (their own workspace in brackets):
//
//	PA  the platform administrator, S's bootstrap administrator             [S]
//	WA  a workspace administrator of S                                      [S]
//	OP  a workspace operator of S                                           [S]
//	OB  a workspace observer of S                                           [S]
//	CR  a custom role: every glp view and edit, and svc.servers.view         [S]
//	GM  a member of a user group that holds the operator role              [S]
//	MA  an MSP's administrator                                              [M]
//	MO  an operator of the MSP                                              [M]
//	X   MA's token exchanged into the MSP's tenant T                         [T]
//	XO  MO's token exchanged into T                                          [T]
//
// Expected answers: an HTTP status, or "-" where the grant does not apply to the caller. A
// refusal is a GreenLake error body; for the escalation rule (a 403 the route's own
// permission does not explain) it names the missing permission and scope. Every target
// (user, credential, custom role) is made afresh for its cell, so that cells do not depend on
// each other.
var gmCallers = []string{"PA", "WA", "OP", "OB", "CR", "GM", "MA", "MO", "X", "XO"}

// gmRows: a grant and the answer of each caller, in gmCallers' order.
var gmRows = []struct {
	grant string
	want  string
}{
	{"assign observer on the workspace", "201 201 201 403 201 201 201 201 201 201"},
	{"assign operator on the workspace", "201 201 201 403 201 201 201 201 201 201"},
	{"assign administrator on the workspace", "201 201 403 403 403 403 201 403 201 403"},
	{"assign administrator on a resource", "201 201 403 403 403 403 201 403 201 403"},
	{"assign platform administrator on grn:glp", "201 403 403 403 403 403 403 403 403 403"},
	{"assign platform administrator on the workspace", "400 400 400 403 400 400 400 400 400 400"},
	{"assign a service role on the workspace", "201 201 403 403 201 403 201 403 201 403"},
	{"assign administrator on a tenant group", "- - - - - - 201 403 - -"},
	{"assign operator on a tenant group", "- - - - - - 201 201 - -"},
	{"add a tenant to a tenant group holding administrator", "- - - - - - 201 403 - -"},
	{"add a tenant to a tenant group holding operator", "- - - - - - 201 201 - -"},
	{"add a user to a group holding administrator", "201 201 403 403 403 403 201 403 201 403"},
	{"add a user to a group holding observer", "201 201 201 403 201 201 201 201 201 201"},
	{"remove a user from a group holding administrator", "204 204 403 403 403 403 204 403 204 403"},
	{"remove a user from a group holding observer", "204 204 204 403 204 204 204 204 204 204"},
	{"delete an administrator's role assignment", "204 204 403 403 403 403 204 403 204 403"},
	{"delete an observer's role assignment", "204 204 403 403 403 403 204 403 204 403"},
	{"create a credential for an administrator", "201 201 403 403 403 403 201 403 201 403"},
	{"create a credential for the platform administrator", "- 403 403 403 403 403 - - - -"},
	{"create a credential for an observer", "201 201 201 403 201 201 201 201 201 201"},
	{"reset an administrator's credential", "200 200 403 403 403 403 200 403 200 403"},
	{"delete an administrator's credential", "204 204 403 403 403 403 204 403 204 403"},
	{"remove an administrator from the workspace", "204 204 403 403 403 403 204 403 204 403"},
	{"create a custom role holding glp.workspace.delete", "201 201 403 403 403 403 201 403 201 403"},
	{"create a custom role holding svc.servers.view", "201 201 403 403 201 403 201 403 201 403"},
	{"add glp.identity.delete to an assigned custom role", "200 200 403 403 403 403 200 403 200 403"},
	{"add svc.servers.view to an assigned custom role", "200 200 403 403 200 403 200 403 200 403"},
}

// gmCaller is one caller of the matrix.
type gmCaller struct {
	token string
	ws    string // the workspace its token acts in
	admin string // a token of an administrator of that workspace, for setting cells up
}

type gmWorld struct {
	*iamWorld
	callers map[string]*gmCaller
	msp     string // M
	tenant  string // T
	group   string // a tenant group of M holding T
	pa      string // PA's user id
}

func newGMWorld(t *testing.T) *gmWorld {
	w := &gmWorld{iamWorld: newIAMWorld(t), callers: map[string]*gmCaller{}}
	e, s := w.e, w.ws
	w.pa = e.Admin.UserID
	tokOf := func(slug string) string { return e.TokenFor(t, e.UserWithRole(t, s, slug)) }
	w.callers["PA"] = &gmCaller{token: w.admin, ws: s, admin: w.admin}
	for key, slug := range map[string]string{"WA": rbac.RoleWorkspaceAdmin, "OP": rbac.RoleWorkspaceOperator, "OB": rbac.RoleWorkspaceObserver} {
		w.callers[key] = &gmCaller{token: tokOf(slug), ws: s, admin: w.admin}
	}
	ops := []string{rbac.PermAuditView} // a copy of the operator role
	for _, a := range rbac.Areas {
		ops = append(ops, "glp."+a+".view", "glp."+a+".edit")
	}
	cr := e.UserWithRole(t, s, "")
	w.assign(t, w.admin, "user:"+cr.UserID, w.customRole(t, w.admin, "Ops and servers", append(ops, permView)...), wsGRN(s))
	w.callers["CR"] = &gmCaller{token: e.TokenFor(t, cr), ws: s, admin: w.admin}
	gm := e.UserWithRole(t, s, "")
	g := w.userGroup(t, w.admin, "operators")
	w.assign(t, w.admin, "user-group:"+g, predefined(rbac.RoleWorkspaceOperator), wsGRN(s))
	w.call(t, http.MethodPost, "/identity/v1/user-groups/"+g+"/members", w.admin, map[string]any{"userId": gm.UserID}, http.StatusCreated)
	w.callers["GM"] = &gmCaller{token: e.TokenFor(t, gm), ws: s, admin: w.admin}

	m := e.CreateWorkspace(t, "Provider", storage.WorkspaceMSP, "msp-admin@example.test")
	w.msp = m.WorkspaceID
	ma := e.Token(t, m.WorkspaceID, m.ClientID, m.ClientSecret)
	mo := e.TokenFor(t, e.UserWithRole(t, m.WorkspaceID, rbac.RoleWorkspaceOperator))
	w.callers["MA"] = &gmCaller{token: ma, ws: m.WorkspaceID, admin: ma}
	w.callers["MO"] = &gmCaller{token: mo, ws: m.WorkspaceID, admin: ma}
	tenant := e.CreateTenant(t, ma, "Customer")
	w.tenant = tenant
	w.group = object(t, w.call(t, http.MethodPost, "/workspaces/v1beta1/groups", ma, map[string]any{"name": "gold", "description": "gold", "groupType": "TenantGroup"}, http.StatusCreated))["id"].(string)
	w.call(t, http.MethodPost, "/workspaces/v1beta1/groups/"+w.group+"/group-workspaces", ma, map[string]any{"workspaceId": tenant}, http.StatusCreated)
	x := w.exchange(t, tenant, ma)
	w.callers["X"] = &gmCaller{token: x, ws: tenant, admin: x}
	w.callers["XO"] = &gmCaller{token: w.exchange(t, tenant, mo), ws: tenant, admin: x}
	return w
}

func (w *gmWorld) exchange(t *testing.T, tenant, tok string) string {
	t.Helper()
	resp, raw := w.e.Exchange(t, tenant, tok)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("exchange into %s: %d %s", tenant, resp.StatusCode, raw)
	}
	return out.AccessToken
}

func (w *iamWorld) userGroup(t testing.TB, tok, name string) string {
	t.Helper()
	return object(t, w.call(t, http.MethodPost, "/identity/v1/user-groups", tok, map[string]any{"name": name}, http.StatusCreated))["id"].(string)
}

// gmReq is the request of one cell.
type gmReq struct {
	method, path string
	body         any
}

// request sets up the target of a grant for caller c (cell n) and returns the request.
func (w *gmWorld) request(t *testing.T, grant string, c *gmCaller, n int) gmReq {
	e, ws := w.e, c.ws
	name := "cell " + strconv.Itoa(n)
	fresh := func(slug string) apptest.Principal { return e.UserWithRole(t, ws, slug) }
	assign := func(role string, scope ...string) gmReq {
		return gmReq{http.MethodPost, assignmentsV2, map[string]any{"subject": "user:" + fresh("").UserID, "role": role, "scope": scope}}
	}
	groupWith := func(slug string) string {
		g := w.userGroup(t, c.admin, name)
		w.assign(t, c.admin, "user-group:"+g, predefined(slug), wsGRN(ws))
		return g
	}
	assignedRole := func() string { // a custom role, assigned to someone
		r := w.customRole(t, c.admin, name, "glp.workspace.view")
		w.assign(t, c.admin, "user:"+fresh("").UserID, r, wsGRN(ws))
		return r[strings.LastIndex(r, "/")+1:]
	}
	switch grant {
	case "assign observer on the workspace":
		return assign(predefined(rbac.RoleWorkspaceObserver), wsGRN(ws))
	case "assign operator on the workspace":
		return assign(predefined(rbac.RoleWorkspaceOperator), wsGRN(ws))
	case "assign administrator on the workspace":
		return assign(predefined(rbac.RoleWorkspaceAdmin), wsGRN(ws))
	case "assign administrator on a resource":
		return assign(predefined(rbac.RoleWorkspaceAdmin), res(ws, "servers/"+strconv.Itoa(n)))
	case "assign platform administrator on grn:glp":
		return assign(predefined(rbac.RolePlatformAdmin), "grn:glp")
	case "assign platform administrator on the workspace":
		return assign(predefined(rbac.RolePlatformAdmin), wsGRN(ws))
	case "assign a service role on the workspace":
		return assign(w.customRole(t, c.admin, name, permView), wsGRN(ws))
	case "assign administrator on a tenant group":
		return assign(predefined(rbac.RoleWorkspaceAdmin), rbac.TenantGroupGRN(w.msp, w.group))
	case "assign operator on a tenant group":
		return assign(predefined(rbac.RoleWorkspaceOperator), rbac.TenantGroupGRN(w.msp, w.group))
	case "add a tenant to a tenant group holding administrator", "add a tenant to a tenant group holding operator":
		slug := rbac.RoleWorkspaceOperator
		if strings.HasSuffix(grant, "administrator") {
			slug = rbac.RoleWorkspaceAdmin
		}
		tg := object(t, w.call(t, http.MethodPost, "/workspaces/v1beta1/groups", c.admin,
			map[string]any{"name": name, "description": name, "groupType": "TenantGroup"}, http.StatusCreated))["id"].(string)
		w.assign(t, c.admin, "user:"+fresh("").UserID, predefined(slug), rbac.TenantGroupGRN(ws, tg))
		return gmReq{http.MethodPost, "/workspaces/v1beta1/groups/" + tg + "/group-workspaces", map[string]any{"workspaceId": e.CreateTenant(t, c.admin, name)}}
	case "add a user to a group holding administrator":
		return gmReq{http.MethodPost, "/identity/v1/user-groups/" + groupWith(rbac.RoleWorkspaceAdmin) + "/members", map[string]any{"userId": fresh("").UserID}}
	case "add a user to a group holding observer":
		return gmReq{http.MethodPost, "/identity/v1/user-groups/" + groupWith(rbac.RoleWorkspaceObserver) + "/members", map[string]any{"userId": fresh("").UserID}}
	case "remove a user from a group holding administrator", "remove a user from a group holding observer":
		slug := rbac.RoleWorkspaceObserver
		if strings.HasSuffix(grant, "administrator") {
			slug = rbac.RoleWorkspaceAdmin
		}
		g, u := groupWith(slug), fresh("").UserID
		w.call(t, http.MethodPost, "/identity/v1/user-groups/"+g+"/members", c.admin, map[string]any{"userId": u}, http.StatusCreated)
		return gmReq{http.MethodDelete, "/identity/v1/user-groups/" + g + "/members/" + u, nil}
	case "delete an administrator's role assignment":
		return gmReq{http.MethodDelete, assignmentsV2 + "/" + w.assign(t, c.admin, "user:"+fresh("").UserID, predefined(rbac.RoleWorkspaceAdmin), wsGRN(ws)), nil}
	case "delete an observer's role assignment":
		return gmReq{http.MethodDelete, assignmentsV2 + "/" + w.assign(t, c.admin, "user:"+fresh("").UserID, predefined(rbac.RoleWorkspaceObserver), wsGRN(ws)), nil}
	case "create a credential for an administrator":
		return gmReq{http.MethodPost, credsPath, map[string]any{"credentialName": name, "ownerId": fresh(rbac.RoleWorkspaceAdmin).UserID}}
	case "create a credential for the platform administrator":
		return gmReq{http.MethodPost, credsPath, map[string]any{"credentialName": name, "ownerId": w.pa}}
	case "create a credential for an observer":
		return gmReq{http.MethodPost, credsPath, map[string]any{"credentialName": name, "ownerId": fresh(rbac.RoleWorkspaceObserver).UserID}}
	case "reset an administrator's credential":
		return gmReq{http.MethodPost, credsPath + "/" + fresh(rbac.RoleWorkspaceAdmin).ClientID + "/reset", nil}
	case "delete an administrator's credential":
		return gmReq{http.MethodDelete, credsPath + "/" + fresh(rbac.RoleWorkspaceAdmin).ClientID, nil}
	case "remove an administrator from the workspace":
		return gmReq{http.MethodDelete, "/identity/v1/users/" + fresh(rbac.RoleWorkspaceAdmin).UserID, nil}
	case "create a custom role holding glp.workspace.delete":
		return gmReq{http.MethodPost, "/authorization/v2alpha2/roles", map[string]any{"name": name, "permissions": []string{"glp.workspace.delete"}}}
	case "create a custom role holding svc.servers.view":
		return gmReq{http.MethodPost, "/authorization/v2alpha2/roles", map[string]any{"name": name, "permissions": []string{permView}}}
	case "add glp.identity.delete to an assigned custom role":
		return gmReq{http.MethodPut, "/authorization/v2alpha2/roles/" + assignedRole(), map[string]any{"name": name, "permissions": []string{"glp.workspace.view", "glp.identity.delete"}}}
	case "add svc.servers.view to an assigned custom role":
		return gmReq{http.MethodPut, "/authorization/v2alpha2/roles/" + assignedRole(), map[string]any{"name": name, "permissions": []string{"glp.workspace.view", permView}}}
	}
	t.Fatalf("no grant %q", grant)
	return gmReq{}
}

func TestGrantMatrix(t *testing.T) {
	w := newGMWorld(t)
	n := 0
	for _, row := range gmRows {
		want := strings.Fields(row.want)
		if len(want) != len(gmCallers) {
			t.Fatalf("%s: %d answers for %d callers", row.grant, len(want), len(gmCallers))
		}
		for i, key := range gmCallers {
			if want[i] == "-" {
				continue
			}
			n++
			c := w.callers[key]
			req := w.request(t, row.grant, c, n)
			resp, raw := w.e.Do(t, req.method, req.path, c.token, req.body)
			if strconv.Itoa(resp.StatusCode) != want[i] {
				t.Errorf("%s %s: %d, want %s: %s", key, row.grant, resp.StatusCode, want[i], raw)
				continue
			}
			if resp.StatusCode >= 400 {
				wantIAMError(t, resp.StatusCode, raw, resp.StatusCode, "")
			}
			if resp.StatusCode == http.StatusForbidden && strings.Contains(string(raw), "nobody may grant more than it holds") &&
				!strings.Contains(string(raw), "needs the permission ") {
				t.Errorf("%s %s: the refusal names no permission: %s", key, row.grant, raw)
			}
			for _, other := range []string{w.ws, w.msp, w.tenant} { // never a workspace it may not know
				known := other == c.ws || other == w.msp && c.ws == w.tenant
				if !known && (strings.Contains(string(raw), other) || strings.Contains(string(raw), ids.Hex(other))) {
					t.Errorf("%s %s: the answer names another workspace: %s", key, row.grant, raw)
				}
			}
		}
	}
	t.Logf("%d cells", n)
}
