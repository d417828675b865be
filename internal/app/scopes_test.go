package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/token"
)

// scopeToken asks for a client_credentials token with the scope parameter sc (none when
// "").
func scopeToken(t *testing.T, e *apptest.Env, p apptest.Principal, sc string) (*http.Response, []byte) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {p.ClientID}, "client_secret": {p.Secret}}
	if sc != "" {
		form.Set("scope", sc)
	}
	return e.PostForm(t, e.TokenURL(p.WorkspaceID), form)
}

// scopeTokenOK is scopeToken for a request that must succeed: the token, the response's scope
// (and whether it had one) and the token's scope claim.
func scopeTokenOK(t *testing.T, e *apptest.Env, p apptest.Principal, sc string) (tok, respScope string, claim any) {
	t.Helper()
	resp, raw := scopeToken(t, e, p, sc)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token with scope %q: %d %s", sc, resp.StatusCode, raw)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	_, claims := oaJWTParts(t, tr.AccessToken)
	return tr.AccessToken, tr.Scope, claims["scope"]
}

// writeStatus is the status of creating a credential (glp.workspace.edit) with tok.
func writeStatus(t *testing.T, e *apptest.Env, tok string) int {
	t.Helper()
	resp, _ := e.Do(t, http.MethodPost, credsPath, tok, map[string]string{"credentialName": "w-" + fmt.Sprint(time.Now().UnixNano())})
	return resp.StatusCode
}

func putScopes(t *testing.T, e *apptest.Env, tok, id string, scopes []string) {
	t.Helper()
	resp, raw := e.Do(t, http.MethodPut, tsPath(id), tok, map[string]any{"scopes": scopes})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put scopes %v: %d %s", scopes, resp.StatusCode, raw)
	}
}

// A credential whose owner may edit the workspace, with tokens scoped to viewing: reads
// succeed, writes are 403; the scope is in the response, the token and its introspection.
func TestScopedTokenNarrows(t *testing.T) {
	e := apptest.Start(t, app.Config{TokenTTL: 10 * time.Minute})
	admin := e.AdminToken(t)
	op := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceOperator)
	opTok := e.TokenFor(t, op)
	if st := writeStatus(t, e, opTok); st != http.StatusCreated {
		t.Fatalf("the operator's unscoped token writes: %d", st)
	}

	putScopes(t, e, admin, op.ClientID, []string{"glp.workspace.view"})
	if got := getTokenSettings(t, e, admin, op.ClientID); !slices.Equal(got.Scopes, []string{"glp.workspace.view"}) {
		t.Fatalf("stored scopes %v", got.Scopes)
	}
	tok, sc, claim := scopeTokenOK(t, e, op, "")
	if sc != "glp.workspace.view" || claim != "glp.workspace.view" {
		t.Fatalf("no request scope: response %q claim %v, want the allowed set", sc, claim)
	}
	if st := oaAPIStatus(t, e, tok); st != http.StatusOK {
		t.Fatalf("read with a view-scoped token: %d", st)
	}
	if st := writeStatus(t, e, tok); st != http.StatusForbidden {
		t.Fatalf("write with a view-scoped token: %d, want 403", st)
	}
	if got := oaIntrospect(t, e, op.WorkspaceID, op.ClientID, op.Secret, tok); got["active"] != true || got["scope"] != "glp.workspace.view" {
		t.Fatalf("introspection: %v", got)
	}
	// Outside the allowed set: invalid_scope naming the item, no token.
	for _, sc := range []string{"glp.workspace.edit", "glp.workspace.*", "glp.workspace.view glp.identity.view"} {
		resp, raw := scopeToken(t, e, op, sc)
		oe := oaWantError(t, resp, raw, http.StatusBadRequest, "invalid_scope")
		if !strings.Contains(string(raw), "glp.") {
			t.Errorf("scope %q: the error does not name the item: %+v", sc, oe)
		}
	}

	// Cleared: a token that asks for nothing is unrestricted and has no scope at all (the
	// GreenLake wire shape); one that asks is narrowed.
	putScopes(t, e, admin, op.ClientID, nil)
	resp, raw := scopeToken(t, e, op, "")
	if resp.StatusCode != http.StatusOK || strings.Contains(string(raw), "scope") {
		t.Fatalf("unscoped token answer: %d %s", resp.StatusCode, raw)
	}
	tok, _, claim = scopeTokenOK(t, e, op, "")
	if claim != nil {
		t.Fatalf("unscoped token has a scope claim %v", claim)
	}
	if st := writeStatus(t, e, tok); st != http.StatusCreated {
		t.Fatalf("unscoped write: %d", st)
	}
	if got := oaIntrospect(t, e, op.WorkspaceID, op.ClientID, op.Secret, tok); got["scope"] != nil {
		t.Fatalf("introspection of an unscoped token: %v", got)
	}
	tok, sc, _ = scopeTokenOK(t, e, op, "glp.workspace.view glp.workspace.view")
	if sc != "glp.workspace.view" {
		t.Fatalf("requested scope answered as %q", sc)
	}
	if oaAPIStatus(t, e, tok) != http.StatusOK || writeStatus(t, e, tok) != http.StatusForbidden {
		t.Fatal("a requested view scope does not narrow")
	}
	// A wildcard names every action of the type: the workspace's contact is written. (Not a
	// credential: that would hand over the owner's other areas, see
	// TestScopedTokenCannotShedItsScope.)
	tok, _, _ = scopeTokenOK(t, e, op, "glp.workspace.*")
	contact := "/workspaces/v1/workspaces/" + op.WorkspaceID + "/contact"
	if resp, raw := e.Do(t, http.MethodPut, contact, tok, map[string]any{"email": "ops@example.test"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("write with glp.workspace.*: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, http.MethodPut, contact, mustScoped(t, e, op, "glp.workspace.view"), map[string]any{"email": "x@example.test"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("write with glp.workspace.view: %d %s", resp.StatusCode, raw)
	}
}

func mustScoped(t *testing.T, e *apptest.Env, p apptest.Principal, sc string) string {
	t.Helper()
	tok, _, _ := scopeTokenOK(t, e, p, sc)
	return tok
}

// A scope wider than what the owner holds grants nothing more (scopes never widen), and a
// scoped token cannot hand out, through an assignment, what its scope leaves out.
func TestScopeNeverWidens(t *testing.T) {
	e := apptest.Start(t, app.Config{TokenTTL: 10 * time.Minute})
	obs := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceObserver)
	for _, sc := range []string{"glp.workspace.edit glp.workspace.view", "glp.workspace.*", "glp.workspace.edit"} {
		tok, _, _ := scopeTokenOK(t, e, obs, sc)
		if st := writeStatus(t, e, tok); st != http.StatusForbidden {
			t.Errorf("observer with scope %q writes: %d", sc, st)
		}
	}
	tok, _, _ := scopeTokenOK(t, e, obs, "glp.workspace.edit")
	if st := oaAPIStatus(t, e, tok); st != http.StatusForbidden {
		t.Errorf("observer scoped to edit only reads: %d, want 403 (the scope leaves view out)", st)
	}

	// The administrator's token scoped to managing assignments may not assign the
	// administrator role: it does not hold, within its scope, what the role grants.
	admin := apptest.Principal{ClientID: e.Admin.ClientID, Secret: e.Admin.ClientSecret, WorkspaceID: e.Admin.WorkspaceID}
	scoped, _, _ := scopeTokenOK(t, e, admin, "glp.authorization.* glp.identity.view")
	u := e.UserWithRole(t, e.Admin.WorkspaceID, "")
	body := map[string]any{"subject": "user:" + u.UserID, "role": predefined(rbac.RoleWorkspaceAdmin), "scope": []string{wsGRN(e.Admin.WorkspaceID)}}
	if resp, raw := e.Do(t, http.MethodPost, assignmentsV2, scoped, body); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("scoped administrator assigning the administrator role: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, http.MethodPost, assignmentsV2, e.AdminToken(t), body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("unscoped administrator assigning the administrator role: %d %s", resp.StatusCode, raw)
	}
}

// Malformed and unknown scopes are invalid_scope (RFC 6749 §5.2) naming the value; a wrong
// secret learns nothing about which permissions exist.
func TestInvalidScope(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	p := apptest.Principal{ClientID: e.Admin.ClientID, Secret: e.Admin.ClientSecret, WorkspaceID: e.Admin.WorkspaceID}
	for _, sc := range []string{"openid", "read write", "glp.nothing.view", "glp.nothing.*", "glp.workspace.view  glp.identity.view",
		"glp.workspace.view ", "glp.*.*", "glp.workspace.view\tglp.identity.view", strings.Repeat("a", 130) + ".b.c"} {
		resp, raw := scopeToken(t, e, p, sc)
		oaWantError(t, resp, raw, http.StatusBadRequest, "invalid_scope")
	}
	_, raw := scopeToken(t, e, p, "openid")
	if !strings.Contains(string(raw), "openid") {
		t.Errorf("the error does not name the value: %s", raw)
	}
	bad := p
	bad.Secret = "wrong"
	resp, raw := scopeToken(t, e, bad, "glp.nothing.view")
	oaWantError(t, resp, raw, http.StatusUnauthorized, "invalid_client")
}

// Token settings' scopes are validated: 400 naming scopes, stored settings unchanged.
func TestTokenSettingsScopesRefused(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	admin := e.AdminToken(t)
	c := createCred(t, e, admin, map[string]string{"credentialName": "scoped"})
	putScopes(t, e, admin, c.ID, []string{"glp.workspace.view", "glp.identity.*"})
	many := make([]string, 51)
	for i := range many {
		many[i] = "glp.workspace.view"
	}
	for _, body := range []any{
		map[string]any{"scopes": []string{"glp.nothing.view"}},
		map[string]any{"scopes": []string{"glp.nothing.*"}},
		map[string]any{"scopes": []string{"openid"}},
		map[string]any{"scopes": []string{""}},
		map[string]any{"scopes": []string{"glp.workspace.view glp.identity.view"}},
		map[string]any{"scopes": []string{"glp.workspace.view", "glp.workspace.view"}},
		map[string]any{"scopes": many},
		`{"scopes": "glp.workspace.view"}`,
		`{"scopes": [1]}`,
	} {
		resp, raw := e.Do(t, http.MethodPut, tsPath(c.ID), admin, body)
		wantCredBadField(t, resp, raw, "scopes")
	}
	if got := getTokenSettings(t, e, admin, c.ID); !slices.Equal(got.Scopes, []string{"glp.workspace.view", "glp.identity.*"}) {
		t.Fatalf("refused requests changed the scopes: %v", got.Scopes)
	}
	// Another workspace's administrator cannot set them on this credential (404, as for none).
	other := e.CreateWorkspace(t, "Other scopes", storage.WorkspaceStandard, "scopes-other@example.test")
	otherTok := e.Token(t, other.WorkspaceID, other.ClientID, other.ClientSecret)
	resp, raw := e.Do(t, http.MethodPut, tsPath(c.ID), otherTok, map[string]any{"scopes": []string{"glp.workspace.view"}})
	wantCredErr(t, resp, raw, http.StatusNotFound)
	if got := getTokenSettings(t, e, admin, c.ID); len(got.Scopes) != 2 {
		t.Fatalf("another workspace changed the scopes: %v", got.Scopes)
	}
}

// Token exchange (RFC 8693): a requested scope narrows the subject token's, never widens it;
// without one, the subject token's scope carries over.
func TestTokenExchangeScope(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	m := e.CreateWorkspace(t, "scope msp", storage.WorkspaceMSP, "ops@scope-msp.example")
	mp := apptest.Principal{ClientID: m.ClientID, Secret: m.ClientSecret, WorkspaceID: m.WorkspaceID}
	tenant := e.CreateTenant(t, e.Token(t, m.WorkspaceID, m.ClientID, m.ClientSecret), "scope tenant")
	exchange := func(subject, sc string) (*http.Response, []byte) {
		form := url.Values{"grant_type": {token.GrantTokenExchange}, "subject_token": {subject},
			"subject_token_type": {token.TokenTypeAccessToken}}
		if sc != "" {
			form.Set("scope", sc)
		}
		return e.PostForm(t, e.TokenURL(tenant), form)
	}
	scopeOf := func(raw []byte) any {
		_, claims := oaJWTParts(t, accessToken(t, raw))
		return claims["scope"]
	}
	tenantRead := "/workspaces/v1/workspaces/" + tenant

	unscoped, _, _ := scopeTokenOK(t, e, mp, "")
	resp, raw := exchange(unscoped, "")
	if resp.StatusCode != http.StatusOK || scopeOf(raw) != nil {
		t.Fatalf("unscoped exchange: %d %s", resp.StatusCode, raw)
	}
	resp, raw = exchange(unscoped, "glp.workspace.view")
	if resp.StatusCode != http.StatusOK || scopeOf(raw) != "glp.workspace.view" || !strings.Contains(string(raw), `"scope":"glp.workspace.view"`) {
		t.Fatalf("narrowing an unscoped token: %d %s", resp.StatusCode, raw)
	}
	narrowed := accessToken(t, raw)
	if st := status(t, e, http.MethodGet, tenantRead, narrowed, nil); st != http.StatusOK {
		t.Fatalf("narrowed exchanged token reads its tenant: %d", st)
	}
	if st := writeStatus(t, e, narrowed); st != http.StatusForbidden {
		t.Fatalf("view-scoped exchanged token writes: %d", st)
	}

	scoped, _, _ := scopeTokenOK(t, e, mp, "glp.workspace.view glp.identity.view")
	resp, raw = exchange(scoped, "")
	if resp.StatusCode != http.StatusOK || scopeOf(raw) != "glp.identity.view glp.workspace.view" {
		t.Fatalf("scoped exchange without scope: %d %s", resp.StatusCode, raw)
	}
	resp, raw = exchange(scoped, "glp.identity.view")
	if resp.StatusCode != http.StatusOK || scopeOf(raw) != "glp.identity.view" {
		t.Fatalf("narrowing a scoped token: %d %s", resp.StatusCode, raw)
	}
	for _, wider := range []string{"glp.workspace.edit", "glp.workspace.*", "glp.workspace.view glp.audit-log.view", "openid"} {
		resp, raw = exchange(scoped, wider)
		oaWantError(t, resp, raw, http.StatusBadRequest, "invalid_scope")
	}
}

// A token narrowed by its credential's scope cannot shed the scope through its owner's
// credentials: creating one, resetting or rotating one, retiring its previous secret, or
// editing the token settings of one (its own included) hands over or changes what the owner acts with, so it
// needs a scope covering everything the owner holds. Reads stay allowed, and an unscoped
// token, or a scope that covers the owner's holdings, may still do all of it.
func TestScopedTokenCannotShedItsScope(t *testing.T) {
	e := apptest.Start(t, app.Config{TokenTTL: 10 * time.Minute})
	admin := e.AdminToken(t)
	op := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceOperator) // views and edits every area
	other := createCred(t, e, e.TokenFor(t, op), map[string]string{"credentialName": "op's second"})
	putScopes(t, e, admin, op.ClientID, []string{"glp.workspace.*"})
	tok, _, _ := scopeTokenOK(t, e, op, "")
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, credsPath, map[string]string{"credentialName": "unscoped twin"}},
		{http.MethodPost, credsPath + "/" + other.ID + "/reset", nil},
		{http.MethodPost, credsPath + "/" + op.ClientID + "/rotate", map[string]any{"overlapSeconds": 3600}},
		{http.MethodPut, tsPath(op.ClientID), map[string]any{"scopes": []string{}}},
		{http.MethodPut, tsPath(other.ID), map[string]any{"tokenLifetime": 300}},
		{http.MethodDelete, credsPath + "/" + op.ClientID + "/secrets/previous", nil},
	} {
		resp, raw := e.Do(t, c.method, c.path, tok, c.body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
		if !strings.Contains(string(raw), "needs the permission glp.") || strings.Contains(string(raw), "permission glp.workspace.") {
			t.Errorf("%s %s: the refusal does not name what the scope leaves out: %s", c.method, c.path, raw)
		}
	}
	if got := getTokenSettings(t, e, admin, op.ClientID); !slices.Equal(got.Scopes, []string{"glp.workspace.*"}) {
		t.Fatalf("the credential's scopes changed to %v", got.Scopes)
	}
	if st := oaAPIStatus(t, e, tok); st != http.StatusOK {
		t.Fatalf("the scoped token reads: %d", st)
	}
	if resp, raw := e.Do(t, http.MethodGet, tsPath(op.ClientID), tok, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the scoped token reads its own token settings: %d %s", resp.StatusCode, raw)
	}
	// A scope covering every permission the operator holds may: it hands over nothing more.
	putScopes(t, e, admin, op.ClientID, nil)
	wide, _, _ := scopeTokenOK(t, e, op, "glp.workspace.* glp.authorization.* glp.identity.* glp.msp-tenant.* glp.service-catalog.* glp.audit-log.*")
	if resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+other.ID+"/reset", wide, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("reset with a scope covering the owner: %d %s", resp.StatusCode, raw)
	}
}
