package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/rbac"
)

// wantDenied expects a 403 GreenLake error whose message names the missing permission and
// the scope it is missing on.
func wantDenied(t testing.TB, resp *http.Response, raw []byte, perm, scope string) {
	t.Helper()
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	var body struct{ ErrorCode, Message string }
	if err := json.Unmarshal(raw, &body); err != nil || body.ErrorCode != "HPE_GL_ERROR_FORBIDDEN" {
		t.Fatalf("not a forbidden body: %s", raw)
	}
	if !strings.Contains(body.Message, perm) || !strings.Contains(body.Message, scope) {
		t.Fatalf("the refusal does not name %s on %s: %s", perm, scope, body.Message)
	}
}

// TestOperatorCannotBecomeAdministrator replays issue 9 item 2 exactly: a
// glp.workspace-operator of the first workspace assigns itself glp.workspace-administrator,
// assigns glp.platform-administrator on its workspace, and creates (or resets) a credential
// owned by the administrator, whose token would then delete others' credentials and register
// providers. Every step is refused, and afterwards the operator still holds only its own
// rights.
func TestOperatorCannotBecomeAdministrator(t *testing.T) {
	w := newIAMWorld(t)
	ws := wsGRN(w.ws)
	op := w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceOperator)
	opTok := w.e.TokenFor(t, op)

	// 1. Assign itself the administrator role, in both API versions.
	for _, v := range []struct{ base, field string }{{assignmentsV2, "subject"}, {assignmentsV1, "principal"}} {
		resp, raw := w.e.Do(t, http.MethodPost, v.base, opTok, map[string]any{v.field: "user:" + op.UserID,
			"role": predefined(rbac.RoleWorkspaceAdmin), "scope": []string{ws}})
		wantDenied(t, resp, raw, ".delete", ws)
	}
	// 2. The platform administrator role: on its workspace it is not assignable at all; on
	// grn:glp only a platform administrator may assign it.
	resp, raw := w.e.Do(t, http.MethodPost, assignmentsV2, opTok, map[string]any{"subject": "user:" + op.UserID,
		"role": predefined(rbac.RolePlatformAdmin), "scope": []string{ws}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "scope")
	resp, raw = w.e.Do(t, http.MethodPost, assignmentsV2, opTok, map[string]any{"subject": "user:" + op.UserID,
		"role": predefined(rbac.RolePlatformAdmin), "scope": []string{"grn:glp"}})
	wantDenied(t, resp, raw, "glp.", "grn:glp")
	// 3. A credential owned by the administrator; resetting or deleting the administrator's.
	// (The administrator holds its role on the workspace and the platform role on grn:glp;
	// the refusal names whichever the check met first.)
	resp, raw = w.e.Do(t, http.MethodPost, credsPath, opTok, map[string]any{"credentialName": "mine now", "ownerId": w.e.Admin.UserID})
	wantDenied(t, resp, raw, ".delete", "grn:glp")
	resp, raw = w.e.Do(t, http.MethodPost, credsPath+"/"+w.e.Admin.ClientID+"/reset", opTok, nil)
	wantDenied(t, resp, raw, ".delete", "grn:glp")
	resp, raw = w.e.Do(t, http.MethodDelete, credsPath+"/"+w.e.Admin.ClientID, opTok, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "") // glp.workspace.delete, which it lacks anyway
	// 4. A PUT that widens an administrator assignment it can see onto the whole workspace.
	kate := w.member(t, w.admin, "kate@example.test")
	narrow := w.assign(t, w.admin, "user:"+kate, predefined(rbac.RoleWorkspaceAdmin), res(w.ws, "servers/1"))
	for _, v := range []struct{ base, field string }{{assignmentsV2, "subject"}, {assignmentsV1, "principal"}} {
		resp, raw = w.e.Do(t, http.MethodPut, v.base+"/"+narrow, opTok, map[string]any{"id": narrow, v.field: "user:" + kate,
			"role": predefined(rbac.RoleWorkspaceAdmin), "scope": []string{ws}})
		wantDenied(t, resp, raw, ".delete", ws)
	}

	// Nothing of it took: the operator's own token still cannot delete or register.
	resp, raw = w.e.Do(t, http.MethodDelete, credsPath+"/"+w.e.Admin.ClientID, opTok, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	resp, raw = w.e.Do(t, http.MethodPost, "/authorization/v2alpha2/resource-providers", opTok, map[string]any{"id": "evil", "name": "Evil"})
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	list := w.call(t, http.MethodGet, assignmentsV2+"?filter="+url.QueryEscape("subject in ('user:"+op.UserID+"')"), w.admin, nil, http.StatusOK)
	if n := object(t, list)["count"]; n != float64(1) {
		t.Fatalf("the operator holds %v assignments, want its one: %s", n, list)
	}

	// The administrator may do each of these (the rule refuses escalation, not management).
	w.assign(t, w.admin, "user:"+op.UserID, predefined(rbac.RoleWorkspaceAdmin), ws)
	w.assign(t, w.admin, "user:"+kate, predefined(rbac.RolePlatformAdmin), "grn:glp")
	createCred(t, w.e, w.admin, map[string]any{"credentialName": "for kate", "ownerId": kate})
}

// TestEscalationThroughRolesGroupsAndScopeGroups: an operator cannot raise its rights (or
// anyone's) by editing a custom role that is assigned, joining a user group that holds more,
// or adding a scope to a scope group that an administrator assignment names.
func TestEscalationThroughRolesGroupsAndScopeGroups(t *testing.T) {
	w := newIAMWorld(t)
	ws := wsGRN(w.ws)
	op := w.e.UserWithRole(t, w.ws, "")
	opTok := w.e.TokenFor(t, op)
	// The operator holds a custom copy of the operator role, assigned by the administrator.
	opPerms := []string{rbac.PermAuditView}
	for _, a := range rbac.Areas {
		opPerms = append(opPerms, "glp."+a+".view", "glp."+a+".edit")
	}
	opsRole := w.customRole(t, w.admin, "Ops", opPerms...)
	w.assign(t, w.admin, "user:"+op.UserID, opsRole, ws)
	opsID := opsRole[strings.LastIndex(opsRole, "/")+1:]

	// Editing its own role to add a delete permission, or making a role that has one.
	resp, raw := w.e.Do(t, http.MethodPut, "/authorization/v2alpha2/roles/"+opsID, opTok,
		map[string]any{"name": "Ops", "permissions": append(append([]string{}, opPerms...), "glp.identity.delete")})
	wantDenied(t, resp, raw, "glp.identity.delete", ws)
	resp, raw = w.e.Do(t, http.MethodPost, "/authorization/v2alpha2/roles", opTok,
		map[string]any{"name": "Deleter", "permissions": []string{"glp.workspace.delete"}})
	wantDenied(t, resp, raw, "glp.workspace.delete", ws)
	resp, raw = w.e.Do(t, http.MethodPost, "/authorization/v2alpha2/roles", opTok,
		map[string]any{"name": "Viewer", "permissions": []string{permView}})
	wantDenied(t, resp, raw, permView, ws)
	// Renaming it, or removing a permission, adds nothing: allowed.
	w.call(t, http.MethodPut, "/authorization/v2alpha2/roles/"+opsID, opTok,
		map[string]any{"name": "Ops renamed", "permissions": opPerms}, http.StatusOK)
	// The administrator may add anything to a custom role.
	w.call(t, http.MethodPut, "/authorization/v2alpha2/roles/"+opsID, w.admin,
		map[string]any{"name": "Ops", "permissions": append(append([]string{}, opPerms...), permView)}, http.StatusOK)

	// Joining a user group that holds the administrator role.
	admins := object(t, w.call(t, http.MethodPost, "/identity/v1/user-groups", w.admin, map[string]any{"name": "admins"}, http.StatusCreated))["id"].(string)
	w.assign(t, w.admin, "user-group:"+admins, predefined(rbac.RoleWorkspaceAdmin), ws)
	resp, raw = w.e.Do(t, http.MethodPost, "/identity/v1/user-groups/"+admins+"/members", opTok, map[string]any{"userId": op.UserID})
	wantDenied(t, resp, raw, ".delete", ws)
	// A group holding only what the operator holds is fine.
	viewers := object(t, w.call(t, http.MethodPost, "/identity/v1/user-groups", opTok, map[string]any{"name": "viewers"}, http.StatusCreated))["id"].(string)
	w.assign(t, opTok, "user-group:"+viewers, predefined(rbac.RoleWorkspaceObserver), ws)
	w.call(t, http.MethodPost, "/identity/v1/user-groups/"+viewers+"/members", opTok, map[string]any{"userId": op.UserID}, http.StatusCreated)

	// A scope group that an administrator assignment names: adding a scope extends it.
	sg := object(t, w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups", w.admin,
		map[string]any{"name": "fleet", "description": "servers"}, http.StatusCreated))
	kate := w.member(t, w.admin, "kate@example.test")
	w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups/"+sg["id"].(string)+"/scopes/batch", w.admin,
		map[string]any{"items": []any{map[string]any{"grn": res(w.ws, "servers/1"), "description": "one"}}}, http.StatusOK)
	adminRole := w.customRole(t, w.admin, "Server admin", permView, "glp.identity.delete")
	w.assign(t, w.admin, "user:"+kate, adminRole, sg["grn"].(string))
	out := object(t, w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups/"+sg["id"].(string)+"/scopes/batch", opTok,
		map[string]any{"items": []any{map[string]any{"grn": res(w.ws, "servers/2"), "description": "two"}}}, http.StatusOK))
	if out["successCount"] != float64(0) || out["errorCount"] != float64(1) || !strings.Contains(string(mustJSON(t, out)), "403") {
		t.Fatalf("the operator extended an administrator's scope group: %v", out)
	}
	// The operator may assign a role it holds on that group; the administrator may extend it.
	w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups/"+sg["id"].(string)+"/scopes/batch", w.admin,
		map[string]any{"items": []any{map[string]any{"grn": res(w.ws, "servers/2"), "description": "two"}}}, http.StatusOK)
	w.assign(t, opTok, "user:"+kate, predefined(rbac.RoleWorkspaceObserver), sg["grn"].(string))
	resp, raw = w.e.Do(t, http.MethodPost, assignmentsV2, opTok, map[string]any{"subject": "user:" + kate,
		"role": adminRole, "scope": []string{sg["grn"].(string)}})
	wantDenied(t, resp, raw, "", res(w.ws, "servers/"))
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A credential an MSP makes for a tenant acts there with what the tenant assigns to it: an MSP
// operator may not reset it (and so take its secret) when the tenant made it administrator,
// although its owner holds no more than the operator in the MSP.
func TestMSPOperatorCannotTakeOverATenantCredential(t *testing.T) {
	w := newIAMWorld(t)
	m := w.e.CreateWorkspace(t, "Provider", "MSP", "msp-admin@example.test")
	ma := w.e.Token(t, m.WorkspaceID, m.ClientID, m.ClientSecret)
	mo := w.e.TokenFor(t, w.e.UserWithRole(t, m.WorkspaceID, rbac.RoleWorkspaceOperator))
	tenant := w.e.CreateTenant(t, ma, "Customer")
	observer := w.e.UserWithRole(t, m.WorkspaceID, rbac.RoleWorkspaceObserver)
	cred := createCred(t, w.e, ma, map[string]any{"credentialName": "for the tenant", "ownerId": observer.UserID,
		"associatedTenant": map[string]any{"resourceUri": "/workspaces/v1/workspaces/" + tenant}})
	resp, raw := w.e.Exchange(t, tenant, ma)
	var x struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &x) != nil {
		t.Fatalf("exchange: %d %s", resp.StatusCode, raw)
	}
	// The operator may reset it while it holds nothing in the tenant beyond the operator.
	w.call(t, http.MethodPost, credsPath+"/"+cred.ID+"/reset", mo, nil, http.StatusOK)
	// The tenant makes it its administrator: now the operator may not.
	w.assign(t, x.AccessToken, "api-client:"+cred.ID, predefined(rbac.RoleWorkspaceAdmin), wsGRN(tenant))
	resp, raw = w.e.Do(t, http.MethodPost, credsPath+"/"+cred.ID+"/reset", mo, nil)
	wantDenied(t, resp, raw, ".delete", wsGRN(tenant))
	w.call(t, http.MethodPost, credsPath+"/"+cred.ID+"/reset", ma, nil, http.StatusOK)
}
