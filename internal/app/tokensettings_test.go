package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/storage"
)

type tokenSettings struct {
	TokenLifetime int64    `json:"tokenLifetime"`
	Audiences     []string `json:"audiences"`
	Scopes        []string `json:"scopes,omitempty"`
}

func tsPath(id string) string { return credsPath + "/" + id + "/token-settings" }

func getTokenSettings(t *testing.T, e *apptest.Env, tok, id string) tokenSettings {
	t.Helper()
	resp, raw := e.Do(t, http.MethodGet, tsPath(id), tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get token settings: %d %s", resp.StatusCode, raw)
	}
	var ts tokenSettings
	if err := json.Unmarshal(raw, &ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

// tsToken asks for a client_credentials token, with a resource when res != "".
func tsToken(t *testing.T, e *apptest.Env, ws string, c credResp, res string) (*http.Response, []byte) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	if res != "" {
		form.Set("resource", res)
	}
	return e.PostForm(t, e.TokenURL(ws), form)
}

func tsTokenOK(t *testing.T, e *apptest.Env, ws string, c credResp, res string) (tok string, expiresIn int64, claims map[string]any) {
	t.Helper()
	resp, raw := tsToken(t, e, ws, c, res)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token (resource %q): %d %s", res, resp.StatusCode, raw)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	_, claims = oaJWTParts(t, tr.AccessToken)
	return tr.AccessToken, tr.ExpiresIn, claims
}

// A credential's token lifetime and allowed audiences shape its tokens: the lifetime within
// the server's bounds, a requested resource only when allowed (RFC 8707), as the token's only
// audience; such a token is not accepted by keyhold's own API.
func TestCredentialTokenSettings(t *testing.T) {
	e := apptest.Start(t, app.Config{TokenTTL: 10 * time.Minute})
	ws := e.Admin.WorkspaceID
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "settings"})
	if got := getTokenSettings(t, e, tok, c.ID); got.TokenLifetime != 0 || got.Audiences == nil || len(got.Audiences) != 0 {
		t.Fatalf("a new credential's settings: %+v", got)
	}
	_, exp, claims := tsTokenOK(t, e, ws, c, "")
	defaultAud := claims["aud"]
	if exp != 600 {
		t.Fatalf("default expires_in %d, want the server's 600", exp)
	}

	want := tokenSettings{TokenLifetime: 120, Audiences: []string{"https://reports.example.com/api", "urn:example:billing"}}
	resp, raw := e.Do(t, http.MethodPut, tsPath(c.ID), tok, want)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put token settings: %d %s", resp.StatusCode, raw)
	}
	if got := getTokenSettings(t, e, tok, c.ID); got.TokenLifetime != 120 || strings.Join(got.Audiences, " ") != strings.Join(want.Audiences, " ") {
		t.Fatalf("stored settings %+v", got)
	}

	// No resource: keyhold's own audience, the credential's lifetime; the API takes it.
	plain, exp, claims := tsTokenOK(t, e, ws, c, "")
	if exp != 120 || claims["aud"] != defaultAud || numClaim(t, claims["exp"])-numClaim(t, claims["iat"]) != 120 {
		t.Fatalf("without resource: expires_in %d claims %v", exp, claims)
	}
	if st := oaAPIStatus(t, e, plain); st != http.StatusOK {
		t.Fatalf("the API with the credential's token: %d", st)
	}
	// An allowed resource is the token's only audience; keyhold's API refuses it.
	forRes, exp, claims := tsTokenOK(t, e, ws, c, "urn:example:billing")
	if exp != 120 || claims["aud"] != "urn:example:billing" {
		t.Fatalf("with resource: expires_in %d aud %v", exp, claims["aud"])
	}
	if st := oaAPIStatus(t, e, forRes); st != http.StatusUnauthorized {
		t.Fatalf("keyhold's API with a token for another resource: %d, want 401", st)
	}
	// Introspection is for keyhold's own tokens: a resource server verifies its tokens with
	// the issuer's JWKS.
	if got := oaIntrospect(t, e, ws, c.ClientID, c.ClientSecret, forRes); got["active"] != false {
		t.Fatalf("introspection of a token for another resource: %v", got)
	}
	// Resources the credential does not list: invalid_target, no token.
	for _, res := range []string{"https://evil.example.com", "https://reports.example.com/api/", "https://reports.example.com",
		"URN:example:billing", fmt.Sprint(defaultAud)} {
		resp, raw := tsToken(t, e, ws, c, res)
		oaWantError(t, resp, raw, http.StatusBadRequest, "invalid_target")
	}
	resp, raw = e.PostForm(t, e.TokenURL(ws), url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID},
		"client_secret": {c.ClientSecret}, "resource": {""}})
	oaWantError(t, resp, raw, http.StatusBadRequest, "invalid_target")
	// A wrong secret learns nothing about the audiences: the client fails first.
	bad := c
	bad.ClientSecret = "wrong"
	resp, raw = tsToken(t, e, ws, bad, "urn:example:billing")
	oaWantError(t, resp, raw, http.StatusUnauthorized, "invalid_client")

	// Clearing the settings: the server's lifetime again, and no resource is allowed.
	resp, raw = e.Do(t, http.MethodPut, tsPath(c.ID), tok, map[string]any{})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("clear token settings: %d %s", resp.StatusCode, raw)
	}
	if _, exp, _ = tsTokenOK(t, e, ws, c, ""); exp != 600 {
		t.Fatalf("after clearing: expires_in %d", exp)
	}
	resp, raw = tsToken(t, e, ws, c, "urn:example:billing")
	oaWantError(t, resp, raw, http.StatusBadRequest, "invalid_target")
	// The longest allowed lifetime is the server's.
	resp, raw = e.Do(t, http.MethodPut, tsPath(c.ID), tok, tokenSettings{TokenLifetime: 600})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lifetime 600: %d %s", resp.StatusCode, raw)
	}
}

// Bad token settings are 400s naming the field and change nothing; another workspace's
// administrator and a caller without edit rights cannot read or change them.
func TestCredentialTokenSettingsRefused(t *testing.T) {
	e := apptest.Start(t, app.Config{TokenTTL: 10 * time.Minute})
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "settings"})
	stored := tokenSettings{TokenLifetime: 300, Audiences: []string{"https://a.example.com"}}
	if resp, raw := e.Do(t, http.MethodPut, tsPath(c.ID), tok, stored); resp.StatusCode != http.StatusOK {
		t.Fatalf("put: %d %s", resp.StatusCode, raw)
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("https://r%d.example.com", i)
	}
	for _, b := range []struct {
		body  any
		field string
	}{
		{map[string]any{"tokenLifetime": 59}, "tokenLifetime"},
		{map[string]any{"tokenLifetime": 601}, "tokenLifetime"},
		{map[string]any{"tokenLifetime": -1}, "tokenLifetime"},
		{map[string]any{"tokenLifetime": 1 << 62}, "tokenLifetime"},
		{`{"tokenLifetime": "300"}`, "tokenLifetime"},
		{map[string]any{"audiences": []string{"reports"}}, "audiences"},
		{map[string]any{"audiences": []string{"/relative/path"}}, "audiences"},
		{map[string]any{"audiences": []string{"https://a.example.com#frag"}}, "audiences"},
		{map[string]any{"audiences": []string{"https:///nohost"}}, "audiences"},
		{map[string]any{"audiences": []string{"https://a.example.com/ x"}}, "audiences"},
		{map[string]any{"audiences": []string{""}}, "audiences"},
		{map[string]any{"audiences": []string{"https://" + strings.Repeat("a", 600) + ".example.com"}}, "audiences"},
		{map[string]any{"audiences": []string{"https://b.example.com", "https://b.example.com"}}, "audiences"},
		{map[string]any{"audiences": many}, "audiences"},
		{`{"audiences": "https://b.example.com"}`, "audiences"},
		{`{"ttl": 300}`, "ttl"},
	} {
		resp, raw := e.Do(t, http.MethodPut, tsPath(c.ID), tok, b.body)
		wantCredBadField(t, resp, raw, b.field)
	}
	if got := getTokenSettings(t, e, tok, c.ID); got.TokenLifetime != 300 || len(got.Audiences) != 1 || got.Audiences[0] != stored.Audiences[0] {
		t.Fatalf("bad requests changed the settings: %+v", got)
	}

	// Another workspace's administrator: 404 for the real credential, the same as for none.
	other := e.CreateWorkspace(t, "Other", storage.WorkspaceStandard, "ts-other@example.test")
	otherTok := e.Token(t, other.WorkspaceID, other.ClientID, other.ClientSecret)
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		var body any
		if m == http.MethodPut {
			body = tokenSettings{Audiences: []string{"https://attacker.example.com"}}
		}
		resp, raw := e.Do(t, m, tsPath(c.ID), otherTok, body)
		wantCredErr(t, resp, raw, http.StatusNotFound)
		resp2, raw2 := e.Do(t, m, tsPath("0192a8b0-0000-7000-8000-000000000000"), otherTok, body)
		wantCredErr(t, resp2, raw2, http.StatusNotFound)
		if credWithoutDebugID(t, raw) != credWithoutDebugID(t, raw2) {
			t.Errorf("%s: the other workspace tells a real credential from none:\n%s\n%s", m, raw, raw2)
		}
	}
	if got := getTokenSettings(t, e, tok, c.ID); len(got.Audiences) != 1 || got.Audiences[0] != stored.Audiences[0] {
		t.Fatalf("another workspace changed the settings: %+v", got)
	}
	// Without a token: 401.
	if resp, _ := e.Do(t, http.MethodGet, tsPath(c.ID), "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", resp.StatusCode)
	}
	// An allowed resource at another workspace's token endpoint is still another workspace.
	resp, raw := tsToken(t, e, other.WorkspaceID, c, "https://a.example.com")
	oaWantError(t, resp, raw, http.StatusUnauthorized, "invalid_client")
}

func numClaim(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("claim %v is not a number", v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}
