package app_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// mspWorld is a standard workspace (the bootstrap one), an MSP with two tenants, and a second
// MSP with one tenant.
type mspWorld struct {
	e                  *apptest.Env
	msp, sibling       string // workspace ids
	mspToken           string // MSP administrator
	mspAdminUser       string
	t1, t2, siblingTen string
	siblingToken       string
}

func newMSPWorld(t *testing.T, cfg app.Config) *mspWorld {
	e := apptest.Start(t, cfg)
	w := &mspWorld{e: e}
	m := e.CreateWorkspace(t, "msp one", storage.WorkspaceMSP, "ops@msp-one.example")
	s := e.CreateWorkspace(t, "msp two", storage.WorkspaceMSP, "ops@msp-two.example")
	w.msp, w.sibling, w.mspAdminUser = m.WorkspaceID, s.WorkspaceID, m.UserID
	w.mspToken = e.Token(t, m.WorkspaceID, m.ClientID, m.ClientSecret)
	w.siblingToken = e.Token(t, s.WorkspaceID, s.ClientID, s.ClientSecret)
	w.t1 = e.CreateTenant(t, w.mspToken, "tenant one")
	w.t2 = e.CreateTenant(t, w.mspToken, "tenant two")
	w.siblingTen = e.CreateTenant(t, w.siblingToken, "sibling tenant")
	return w
}

func accessToken(t *testing.T, body []byte) string {
	t.Helper()
	var tr struct {
		AccessToken     string `json:"access_token"`
		IssuedTokenType string `json:"issued_token_type"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token answer %s: %v", body, err)
	}
	return tr.AccessToken
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func status(t *testing.T, e *apptest.Env, method, path, tok string, body any) int {
	t.Helper()
	resp, _ := e.Do(t, method, path, tok, body)
	return resp.StatusCode
}

func oauthError(t *testing.T, resp *http.Response, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var oe struct{ Error string }
	_ = json.Unmarshal(body, &oe)
	if resp.StatusCode != wantStatus || oe.Error != wantCode {
		t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, wantStatus, wantCode)
	}
}

func TestTokenExchangeIntoTenant(t *testing.T) {
	w := newMSPWorld(t, app.Config{})
	e := w.e
	resp, body := e.Exchange(t, w.t1, w.mspToken)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"issued_token_type":"urn:ietf:params:oauth:token-type:access_token"`) {
		t.Fatalf("exchange: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("exchange answer is cacheable")
	}
	tenantTok := accessToken(t, body)
	c := claimsOf(t, tenantTok)
	act, _ := c["act"].(map[string]any)
	if c["hpe_workspace_id"] != ids.Hex(w.t1) || act == nil || act["hpe_workspace_id"] != ids.Hex(w.msp) || act["sub"] != c["sub"] {
		t.Fatalf("exchanged claims = %v", c)
	}
	if got := status(t, e, http.MethodGet, "/workspaces/v1/workspaces/"+w.t1, tenantTok, nil); got != http.StatusOK {
		t.Fatalf("exchanged token reading its tenant: %d", got)
	}
	if got := status(t, e, http.MethodGet, "/workspaces/v1/workspaces/"+w.msp, tenantTok, nil); got != http.StatusNotFound {
		t.Fatalf("exchanged token reading the MSP: %d, want 404", got)
	}
	if got := status(t, e, http.MethodGet, "/workspaces/v1/credentials", tenantTok, nil); got != http.StatusOK {
		t.Fatalf("exchanged token listing credentials: %d", got)
	}
}

func TestTokenExchangeRefusals(t *testing.T) {
	w := newMSPWorld(t, app.Config{})
	e := w.e
	resp, body := e.Exchange(t, w.t1, w.mspToken)
	exchanged := accessToken(t, body)
	cases := []struct {
		name, target, subject string
		code                  string
	}{
		{"standard workspace is no tenant", e.Admin.WorkspaceID, w.mspToken, "invalid_request"},
		{"sibling MSP's tenant", w.siblingTen, w.mspToken, "invalid_request"},
		{"the MSP itself", w.msp, w.mspToken, "invalid_request"},
		{"exchanged token as subject", w.t2, exchanged, "invalid_request"},
		{"tenant token back to the MSP", w.msp, exchanged, "invalid_request"},
		{"malformed subject", w.t1, "not-a-token", "invalid_request"},
		{"oversized subject", w.t1, strings.Repeat("a", 5000), "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.Exchange(t, c.target, c.subject)
			oauthError(t, resp, body, http.StatusBadRequest, c.code)
		})
	}
	_ = resp
}

func TestExchangedTokenEndsWithItsGrounds(t *testing.T) {
	w := newMSPWorld(t, app.Config{})
	e := w.e
	// An MSP user whose only assignment is the observer role on a tenant group holding t1.
	u := e.UserWithRole(t, w.msp, "")
	uTok := e.TokenFor(t, u)
	resp, body := e.Do(t, http.MethodPost, "/workspaces/v1beta1/groups", w.mspToken, map[string]string{"name": "emea", "groupType": "TenantGroup"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create group: %d %s", resp.StatusCode, body)
	}
	var g struct{ ID, GRN string }
	_ = json.Unmarshal(body, &g)
	resp, body = e.Do(t, http.MethodPost, "/workspaces/v1beta1/groups/"+g.ID+"/group-workspaces", w.mspToken, map[string]string{"workspaceId": w.t1})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add tenant to group: %d %s", resp.StatusCode, body)
	}
	var member struct{ ID string }
	_ = json.Unmarshal(body, &member)
	resp, body = e.Exchange(t, w.t1, uTok)
	oauthError(t, resp, body, http.StatusBadRequest, "invalid_request") // no assignment yet
	assignment := e.Assign(t, w.msp, apptest.UserPrincipal(u.UserID), rbac.RoleWorkspaceObserver, g.GRN)
	resp, body = e.Exchange(t, w.t2, uTok)
	oauthError(t, resp, body, http.StatusBadRequest, "invalid_request") // t2 is not in the group
	resp, body = e.Exchange(t, w.t1, uTok)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange through the group: %d %s", resp.StatusCode, body)
	}
	tok := accessToken(t, body)
	if got := status(t, e, http.MethodGet, "/workspaces/v1/credentials", tok, nil); got != http.StatusOK {
		t.Fatalf("observer through the group listing: %d", got)
	}
	if got := status(t, e, http.MethodPost, "/workspaces/v1/credentials", tok, map[string]string{"credentialName": "x"}); got != http.StatusForbidden {
		t.Fatalf("observer through the group creating: %d, want 403", got)
	}
	// Removing the tenant from the group ends the exchanged token.
	if got := status(t, e, http.MethodDelete, "/workspaces/v1beta1/groups/"+g.ID+"/group-workspaces/"+member.ID, w.mspToken, nil); got != http.StatusNoContent {
		t.Fatalf("remove from group: %d", got)
	}
	if got := status(t, e, http.MethodGet, "/workspaces/v1/credentials", tok, nil); got != http.StatusUnauthorized {
		t.Fatalf("exchanged token after its tenant left the group: %d, want 401", got)
	}
	// Back in the group, a new exchange works; deleting the assignment ends it.
	if got := status(t, e, http.MethodPost, "/workspaces/v1beta1/groups/"+g.ID+"/group-workspaces", w.mspToken, map[string]string{"workspaceId": w.t1}); got != http.StatusCreated {
		t.Fatalf("re-add: %d", got)
	}
	_, body = e.Exchange(t, w.t1, uTok)
	tok = accessToken(t, body)
	if got := status(t, e, http.MethodDelete, "/workspaces/v1beta1/groups/"+g.ID, w.mspToken, nil); got != http.StatusPreconditionFailed {
		t.Fatalf("deleting a group in use: %d, want 412", got)
	}
	e.Unassign(t, assignment)
	if got := status(t, e, http.MethodGet, "/workspaces/v1/credentials", tok, nil); got != http.StatusUnauthorized {
		t.Fatalf("exchanged token after its assignment was deleted: %d, want 401", got)
	}
	// Resetting the MSP credential ends exchanged tokens too.
	e.Assign(t, w.msp, apptest.UserPrincipal(u.UserID), rbac.RoleWorkspaceObserver, g.GRN)
	_, body = e.Exchange(t, w.t1, uTok)
	tok = accessToken(t, body)
	if got := status(t, e, http.MethodPost, "/workspaces/v1/credentials/"+u.ClientID+"/reset", w.mspToken, nil); got != http.StatusOK {
		t.Fatalf("reset: %d", got)
	}
	if got := status(t, e, http.MethodGet, "/workspaces/v1/credentials", tok, nil); got != http.StatusUnauthorized {
		t.Fatalf("exchanged token after the MSP credential's reset: %d, want 401", got)
	}
}

func TestTenantCredentialsAndTenantDeletion(t *testing.T) {
	w := newMSPWorld(t, app.Config{})
	e := w.e
	resp, body := e.Do(t, http.MethodPost, "/workspaces/v1/credentials", w.mspToken, map[string]any{
		"credentialName": "for t1", "associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + ids.Hex(w.t1)}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"tenantName":"tenant one"`) {
		t.Fatalf("tenant credential: %d %s", resp.StatusCode, body)
	}
	var cred struct{ ID, ClientSecret string }
	_ = json.Unmarshal(body, &cred)
	resp, body = e.Do(t, http.MethodGet, "/workspaces/v1/credentials?filter=tenantId%20eq%20'"+w.t1+"'", w.mspToken, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), cred.ID) || !strings.Contains(string(body), `"count":1`) {
		t.Fatalf("filtered list: %d %s", resp.StatusCode, body)
	}
	tok := e.Token(t, w.t1, cred.ID, cred.ClientSecret)
	if c := claimsOf(t, tok); c["hpe_workspace_id"] != ids.Hex(w.t1) {
		t.Fatalf("tenant credential token scoped to %v", c["hpe_workspace_id"])
	}
	if got := status(t, e, http.MethodGet, "/workspaces/v1/workspaces/"+w.t1, tok, nil); got != http.StatusOK {
		t.Fatalf("tenant credential token reading its tenant: %d", got)
	}
	resp, body = e.PostForm(t, e.TokenURL(w.msp), map[string][]string{"grant_type": {"client_credentials"},
		"client_id": {cred.ID}, "client_secret": {cred.ClientSecret}})
	oauthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	// A sibling's tenant is not this MSP's: 400, and the other workspace's name does not leak.
	resp, body = e.Do(t, http.MethodPost, "/workspaces/v1/credentials", w.mspToken, map[string]any{
		"credentialName": "x", "associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + w.siblingTen}})
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "sibling") {
		t.Fatalf("sibling tenant reference: %d %s", resp.StatusCode, body)
	}
	_, body = e.Exchange(t, w.t1, w.mspToken)
	exchanged := accessToken(t, body)
	if got := status(t, e, http.MethodDelete, "/workspaces/v1/msp-tenants/"+w.t1, w.mspToken, nil); got != http.StatusNoContent {
		t.Fatalf("delete tenant: %d", got)
	}
	for name, tk := range map[string]string{"tenant credential": tok, "exchanged": exchanged} {
		if got := status(t, e, http.MethodGet, "/workspaces/v1/credentials", tk, nil); got != http.StatusUnauthorized {
			t.Errorf("%s token after its tenant was deleted: %d, want 401", name, got)
		}
	}
	resp, body = e.Do(t, http.MethodGet, "/workspaces/v1/credentials?filter=tenantId%20eq%20'"+w.t1+"'", w.mspToken, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"count":0`) {
		t.Fatalf("credentials of a deleted tenant are still listed: %s", body)
	}
}

func TestDedicatedPlatformHasNoExchange(t *testing.T) {
	w := newMSPWorld(t, app.Config{Platform: app.PlatformDedicated})
	resp, body := w.e.Exchange(t, w.t1, w.mspToken)
	oauthError(t, resp, body, http.StatusBadRequest, "unsupported_grant_type")
}

func TestProvisionsAndCredentialClaims(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	sm := knownServiceManager(t, e, tok)
	resp, body := e.Do(t, http.MethodPost, "/service-catalog/v1/service-manager-provisions", tok, map[string]string{"serviceManagerId": sm, "region": knownRegion})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create provision: %d %s", resp.StatusCode, body)
	}
	var p struct{ ID string }
	_ = json.Unmarshal(body, &p)
	resp, body = e.Do(t, http.MethodPost, "/workspaces/v1/credentials", tok, map[string]any{"credentialName": "svc",
		"associatedServiceManagerProvision": map[string]string{"resourceUri": "/service-catalog/v1beta1/service-manager-provisions/" + p.ID}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("credential for a provision: %d %s", resp.StatusCode, body)
	}
	var cred struct{ ID, ClientSecret string }
	_ = json.Unmarshal(body, &cred)
	c := claimsOf(t, e.Token(t, e.Admin.WorkspaceID, cred.ID, cred.ClientSecret))
	if c["hpe_service_manager_provision_id"] != p.ID {
		t.Fatalf("claims = %v", c)
	}
	other := e.CreateWorkspace(t, "other", storage.WorkspaceStandard, "o@example.test")
	otherTok := e.Token(t, other.WorkspaceID, other.ClientID, other.ClientSecret)
	if got := status(t, e, http.MethodGet, "/service-catalog/v1/service-manager-provisions/"+p.ID, otherTok, nil); got != http.StatusNotFound {
		t.Fatalf("another workspace reading the provision: %d, want 404", got)
	}
	resp, body = e.Do(t, http.MethodPost, "/workspaces/v1/credentials", otherTok, map[string]any{"credentialName": "svc",
		"associatedServiceManagerProvision": map[string]string{"resourceUri": "/service-catalog/v1/service-manager-provisions/" + p.ID}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("another workspace's provision reference: %d %s", resp.StatusCode, body)
	}
}
