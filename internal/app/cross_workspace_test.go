package app_test

import (
	"net/http"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/workspace"
)

// TestRightsDoNotFollowAUserIntoAnotherWorkspace reproduces the attack of issue 9, item 1:
// the administrator of an ordinary workspace B adds the first administrator (platform
// administrator on grn:glp, administrator of workspace A) to B, creates a credential owned by
// it, and with its token tries what only A's administrator may do. Every attempt is refused:
// a token acts with the assignments made in its own workspace only.
func TestRightsDoNotFollowAUserIntoAnotherWorkspace(t *testing.T) {
	w := newIAMWorld(t)
	a, b := w.ws, w.other
	platformAdmin := w.e.Admin.UserID

	// A predefined role of the provider, as a platform administrator may make and change it.
	predefinedBody := map[string]any{"kind": "PREDEFINED", "slug": "svc.admin", "name": "Service Admin",
		"permissions": []string{permView}, "releaseStage": "BETA"}
	roleID := object(t, w.call(t, http.MethodPost, rolesAPI, w.admin, predefinedBody, http.StatusCreated))["id"].(string)

	// B's administrator adds admin@localhost to B (the existing platform-wide user) ...
	added := w.member(t, w.otherTok, workspace.DefaultAdminEmail)
	if added != platformAdmin {
		t.Fatalf("adding %s made user %s, not the existing %s", workspace.DefaultAdminEmail, added, platformAdmin)
	}
	// ... which hands B none of the user's rights elsewhere: asked in B, the user holds nothing.
	if d := w.decision(t, w.otherTok, user(platformAdmin), "glp.workspace.view", wsGRN(b)); d["decision"] != false {
		t.Fatalf("B's administrator sees A's platform administrator allowed in B: %v", d)
	}
	resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/search/action", w.otherTok,
		map[string]any{"subject": user(platformAdmin), "resource": map[string]string{"type": "workspace", "id": wsGRN(b)}})
	if resp.StatusCode != http.StatusOK || len(object(t, raw)["results"].([]any)) != 0 {
		t.Fatalf("effective permissions of the added user in B: %d %s", resp.StatusCode, raw)
	}

	// ... creates a credential owned by it and takes a token.
	cred := object(t, w.call(t, http.MethodPost, credsPath, w.otherTok,
		map[string]any{"credentialName": "borrowed", "ownerId": platformAdmin}, http.StatusCreated))
	clientID := cred["clientId"].(string)
	stolen := w.e.Token(t, b, clientID, cred["clientSecret"].(string))

	attempts := func(t *testing.T, stage string) {
		t.Helper()
		resp, raw := w.e.Do(t, http.MethodPost, "/authorization/v2alpha2/resource-providers", stolen,
			map[string]any{"id": "evil", "name": "Evil"})
		wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
		resp, raw = w.e.Do(t, http.MethodPut, rolesAPI+"/"+roleID, stolen,
			map[string]any{"name": "Service Admin", "permissions": []string{permView, permPower}})
		wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
		resp, raw = w.e.Do(t, http.MethodDelete, rolesAPI+"/"+roleID, stolen, nil)
		wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
		// Decisions about workspace A, and about the platform, are not B's to ask.
		for _, r := range []string{wsGRN(a), res(a, "servers/1"), "grn:glp"} {
			resp, raw = w.e.Do(t, http.MethodPost, "/access/v1/evaluation", stolen, map[string]any{
				"subject": user(platformAdmin), "action": map[string]string{"name": "glp.workspace.view"},
				"resource": map[string]string{"type": "workspace", "id": r}})
			wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
		}
		// Asked by A's own administrator, the token (and its credential) hold nothing in A.
		for _, subject := range []map[string]string{{"type": "token", "id": stolen}, {"type": "api-client", "id": clientID}} {
			for _, action := range []string{"glp.workspace.view", "glp.identity.edit", "glp.authorization.edit"} {
				if d := w.decision(t, w.admin, subject, action, wsGRN(a)); d["decision"] != false {
					t.Errorf("%s: %s subject holds %s in A: %v", stage, subject["type"], action, d)
				}
			}
			resp, raw = w.e.Do(t, http.MethodPost, "/access/v1/search/action", w.admin,
				map[string]any{"subject": subject, "resource": map[string]string{"type": "workspace", "id": wsGRN(a)}})
			if resp.StatusCode != http.StatusOK || len(object(t, raw)["results"].([]any)) != 0 {
				t.Errorf("%s: effective permissions of the %s subject in A: %d %s", stage, subject["type"], resp.StatusCode, raw)
			}
		}
		// Nor on the platform, asked by the platform administrator.
		if d := w.decision(t, w.admin, map[string]string{"type": "token", "id": stolen}, "glp.resource-provider.edit", "grn:glp"); d["decision"] != false {
			t.Errorf("%s: the token holds glp.resource-provider.edit on grn:glp: %v", stage, d)
		}
	}
	t.Run("no role in B", func(t *testing.T) {
		attempts(t, "no role in B")
		// Inside B it holds nothing either.
		resp, raw := w.e.Do(t, http.MethodGet, "/identity/v1/users", stolen, nil)
		wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	})
	t.Run("administrator of B", func(t *testing.T) {
		// B makes the user its own administrator, as it may: the token now passes B's own
		// checks, and still holds nothing from A or from A's grn:glp assignment.
		w.assign(t, w.otherTok, "user:"+platformAdmin, predefined(rbac.RoleWorkspaceAdmin), wsGRN(b))
		w.call(t, http.MethodGet, "/identity/v1/users", stolen, nil, http.StatusOK)
		if d := w.decision(t, stolen, map[string]string{"type": "token", "id": stolen}, "glp.workspace.delete", wsGRN(b)); d["decision"] != true {
			t.Fatalf("the token does not hold what B granted: %v", d)
		}
		attempts(t, "administrator of B")
	})

	// The same calls with A's own administrator succeed: the refusals above are about where
	// the token acts, not about the calls.
	for _, subject := range []map[string]string{{"type": "token", "id": w.admin}, user(platformAdmin),
		{"type": "api-client", "id": w.e.Admin.ClientID}} {
		if d := w.decision(t, w.admin, subject, "glp.authorization.edit", wsGRN(a)); d["decision"] != true {
			t.Errorf("%s subject of A's administrator in A: %v", subject["type"], d)
		}
	}
	if d := w.decision(t, w.admin, map[string]string{"type": "token", "id": w.admin}, "glp.resource-provider.edit", "grn:glp"); d["decision"] != true {
		t.Errorf("A's administrator's token on the platform: %v", d)
	}
	w.call(t, http.MethodPut, rolesAPI+"/"+roleID, w.admin,
		map[string]any{"name": "Service Admin", "permissions": []string{permView, permPower}}, http.StatusOK)
	w.call(t, http.MethodPost, "/authorization/v2alpha2/resource-providers", w.admin,
		map[string]any{"id": "good", "name": "Good"}, http.StatusCreated)
	// A's administrator asked about in A is still A's administrator: B's grant counts in B only.
	if d := w.decision(t, w.admin, user(platformAdmin), "glp.workspace.view", wsGRN(b)); d["decision"] != true {
		t.Errorf("the user's own grant in B, asked by the platform administrator: %v", d)
	}
}

// TestTenantTokensActWithTheTenantsAndTheMSPsAssignmentsOnly checks the rule in an MSP tenant:
// a credential the MSP made for a tenant acts there with the MSP assignments that reach the
// tenant and with the tenant's own assignments, never with one made in another tenant; and a
// decision about a user in a tenant counts the same.
func TestTenantTokensActWithTheTenantsAndTheMSPsAssignmentsOnly(t *testing.T) {
	w := newMSPWorld(t, app.Config{})
	e := w.e
	u := e.UserWithRole(t, w.msp, rbac.RoleWorkspaceObserver) // observer on the MSP's whole workspace
	cred := object(t, mustStatus(t, e, http.MethodPost, credsPath, w.mspToken, map[string]any{"credentialName": "for t1",
		"ownerId": u.UserID, "associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + ids.Hex(w.t1)}},
		http.StatusCreated))
	clientID := cred["clientId"].(string)
	tok := e.Token(t, w.t1, clientID, cred["clientSecret"].(string))
	// Made in another tenant of the same MSP: counts for nothing in t1.
	e.Assign(t, w.t2, apptest.UserPrincipal(u.UserID), rbac.RoleWorkspaceAdmin, wsGRN(w.t2))
	e.Assign(t, w.t2, "api-client:"+clientID, rbac.RoleWorkspaceAdmin, wsGRN(w.t2))

	self := map[string]string{"type": "token", "id": tok}
	ask := func(subject map[string]string, action string) map[string]any {
		t.Helper()
		resp, raw := e.DoWith(t, http.MethodPost, "/access/v1/evaluation", tok, map[string]any{
			"subject": subject, "action": map[string]string{"name": action},
			"resource": map[string]string{"type": "workspace", "id": wsGRN(w.t1)}}, explained)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("evaluation: %d %s", resp.StatusCode, raw)
		}
		return object(t, raw)
	}
	// The MSP's observer assignment reaches t1: view, as an EXTERNAL grant, and nothing more.
	mustStatus(t, e, http.MethodGet, "/identity/v1/users", tok, nil, http.StatusOK)
	for _, subject := range []map[string]string{self, user(u.UserID), {"type": "api-client", "id": clientID}} {
		d := ask(subject, "glp.workspace.view")
		if d["decision"] != true || d["context"].(map[string]any)["reason"].(map[string]any)["source"] != rbac.SourceExternal {
			t.Errorf("%s subject, MSP grant in t1: %v", subject["type"], d)
		}
		if d := ask(subject, "glp.identity.edit"); d["decision"] != false {
			t.Errorf("%s subject holds glp.identity.edit in t1 from an assignment made in t2: %v", subject["type"], d)
		}
	}
	resp, raw := e.Do(t, http.MethodPost, "/identity/v1/user-groups", tok, map[string]any{"name": "x"})
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")

	// The tenant's own assignment to the credential counts with the MSP's.
	e.Assign(t, w.t1, "api-client:"+clientID, rbac.RoleWorkspaceOperator, wsGRN(w.t1))
	mustStatus(t, e, http.MethodPost, "/identity/v1/user-groups", tok, map[string]any{"name": "x"}, http.StatusCreated)
	if d := ask(self, "glp.identity.edit"); d["decision"] != true {
		t.Errorf("the tenant's own grant to the credential: %v", d)
	}
	if d := ask(self, "glp.identity.delete"); d["decision"] != false {
		t.Errorf("glp.identity.delete from an assignment made in t2: %v", d)
	}
}

// mustStatus sends a request and fails unless it answers want; it returns the body.
func mustStatus(t testing.TB, e *apptest.Env, method, path, tok string, body any, want int) []byte {
	t.Helper()
	resp, raw := e.Do(t, method, path, tok, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return raw
}
