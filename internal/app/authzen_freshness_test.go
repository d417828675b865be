package app_test

import (
	"net/http"
	"testing"
)

// TestWritesRevokeOnTheNextRequest checks that each acknowledged write that takes a right
// away is reflected by the very next decision (the node polls only once an hour here, so
// only the write's own sync can make the decision change).
func TestWritesRevokeOnTheNextRequest(t *testing.T) {
	cases := []struct {
		name    string
		subject func(w *decisionWorld) map[string]string
		action  string
		path    string
		write   func(t *testing.T, w *decisionWorld)
	}{
		{"assignment deleted (v2alpha2)", func(w *decisionWorld) map[string]string { return user(w.direct) }, permView, "servers/1",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodDelete, "/authorization/v2alpha2/role-assignments/"+w.assignDirect, w.admin, nil, http.StatusNoContent)
			}},
		{"assignment deleted (v1beta1)", func(w *decisionWorld) map[string]string { return user(w.direct) }, permView, "servers/1",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodDelete, "/authorization/v1beta1/role-assignments/"+w.assignDirect, w.admin, nil, http.StatusNoContent)
			}},
		{"assignment scope changed", func(w *decisionWorld) map[string]string { return user(w.direct) }, permView, "servers/1",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodPut, "/authorization/v2alpha2/role-assignments/"+w.assignDirect, w.admin, map[string]any{
					"id": w.assignDirect, "subject": "user:" + w.direct, "role": w.role, "scope": []string{res(w.ws, "servers/9")}}, http.StatusOK)
			}},
		{"role changed", func(w *decisionWorld) map[string]string { return user(w.direct) }, permLegacy, "servers/1",
			func(t *testing.T, w *decisionWorld) {
				id := roleID(w.role)
				w.call(t, http.MethodPut, "/authorization/v2alpha2/roles/"+id, w.admin, map[string]any{
					"name": "Servers", "permissions": []string{permView, permPower}}, http.StatusOK)
			}},
		{"user removed from its group", func(w *decisionWorld) map[string]string { return user(w.inGroup) }, permView, "servers/2",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodDelete, "/identity/v1/user-groups/"+w.group+"/members/"+w.inGroup, w.admin, nil, http.StatusNoContent)
			}},
		{"group's assignment deleted", func(w *decisionWorld) map[string]string { return user(w.inGroup) }, permView, "servers/2",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodDelete, "/authorization/v2alpha2/role-assignments/"+w.assignGroup, w.admin, nil, http.StatusNoContent)
			}},
		{"scope removed from the scope group", func(w *decisionWorld) map[string]string { return user(w.scoped) }, permView, "servers/3",
			func(t *testing.T, w *decisionWorld) {
				raw := w.call(t, http.MethodDelete, "/authorization/v1beta1/scope-groups/"+w.scopeGroup+"/scopes/bulk", w.admin,
					map[string]any{"items": []map[string]string{{"id": w.sgScope}}}, http.StatusOK)
				if object(t, raw)["successCount"] != float64(1) {
					t.Fatalf("bulk delete: %s", raw)
				}
			}},
		{"user removed from the workspace", func(w *decisionWorld) map[string]string { return user(w.direct) }, permView, "servers/1",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodDelete, "/identity/v1/users/"+w.direct, w.admin, nil, http.StatusNoContent)
			}},
		{"credential owner removed from the workspace", func(w *decisionWorld) map[string]string {
			return map[string]string{"type": "api-client", "id": w.clientOwnGrant}
		}, permView, "servers/5",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodDelete, "/identity/v1/users/"+w.nobody, w.admin, nil, http.StatusNoContent)
			}},
		{"credential deleted through the credentials API", func(w *decisionWorld) map[string]string {
			return map[string]string{"type": "api-client", "id": w.clientOwnGrant}
		}, permView, "servers/5",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodDelete, "/workspaces/v1/credentials/"+w.clientOwnGrant, w.admin, nil, http.StatusNoContent)
			}},
		{"permission made fixed-scope", func(w *decisionWorld) map[string]string { return user(w.direct) }, permView, "servers/1",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodPut, "/authorization/v2alpha2/resource-providers/svc/permissions/"+permView, w.admin, map[string]any{
					"releaseStage": "STABLE", "customRoleUse": "ALLOW", "fixedScope": true,
					"applicableResourceTypes": []string{"svc/servers", "svc/nics"}}, http.StatusOK)
			}},
		{"permission no longer applies to the type", func(w *decisionWorld) map[string]string { return user(w.direct) }, permView, "servers/1",
			func(t *testing.T, w *decisionWorld) {
				w.call(t, http.MethodPut, "/authorization/v2alpha2/resource-providers/svc/permissions/"+permView, w.admin, map[string]any{
					"releaseStage": "STABLE", "customRoleUse": "ALLOW", "applicableResourceTypes": []string{"svc/nics"}}, http.StatusOK)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newDecisionWorld(t)
			subject, resource := tc.subject(w), res(w.ws, tc.path)
			if !w.allowed(t, subject, tc.action, resource) {
				t.Fatal("precondition: allowed before the write")
			}
			tc.write(t, w)
			if w.allowed(t, subject, tc.action, resource) {
				t.Fatal("still allowed on the request right after the write returned")
			}
		})
	}
}

// TestRemovedUserTokensAreRefused checks that removing a user ends its credentials and the
// tokens issued under them at once.
func TestRemovedUserTokensAreRefused(t *testing.T) {
	w := newDecisionWorld(t)
	tok := w.e.Token(t, w.ws, w.client, w.clientSecret)
	bearer := map[string]string{"type": "token", "id": tok}
	if !w.allowed(t, bearer, permView, res(w.ws, "servers/4")) {
		t.Fatal("precondition: the owner's token is allowed")
	}
	w.call(t, http.MethodGet, "/authorization/v2alpha2/roles", tok, nil, http.StatusForbidden) // valid, but no glp rights
	w.call(t, http.MethodDelete, "/identity/v1/users/"+w.owner, w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodGet, "/authorization/v2alpha2/roles", tok, nil, http.StatusUnauthorized)
	if w.allowed(t, bearer, permView, res(w.ws, "servers/4")) {
		t.Fatal("a removed user's token is still allowed")
	}
	w.call(t, http.MethodGet, "/identity/v1/users/"+w.owner, w.admin, nil, http.StatusNotFound)
	resp, body := w.e.PostForm(t, w.e.TokenURL(w.ws), map[string][]string{"grant_type": {"client_credentials"},
		"client_id": {w.client}, "client_secret": {w.clientSecret}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a removed user's credential still gets tokens: %d %s", resp.StatusCode, body)
	}
}

// roleID is the id at the end of a role GRN.
func roleID(grn string) string {
	for i := len(grn) - 1; i >= 0; i-- {
		if grn[i] == '/' {
			return grn[i+1:]
		}
	}
	return grn
}
