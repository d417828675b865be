package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

var oaHex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// A stock OAuth client library gets tokens with either client authentication method, and the
// tokens work on the API.
func TestOAuthXOAuth2Client(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"client_secret_post", oauth2.AuthStyleInParams},
		{"client_secret_basic", oauth2.AuthStyleInHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := clientcredentials.Config{ClientID: e.Admin.ClientID, ClientSecret: e.Admin.ClientSecret,
				TokenURL: e.Admin.TokenURL, AuthStyle: tc.style}
			tok, err := cfg.Token(context.Background())
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.AccessToken == "" {
				t.Fatalf("token type %q, access token %q", tok.TokenType, tok.AccessToken)
			}
			if left := time.Until(tok.Expiry); left < 14*time.Minute || left > 15*time.Minute+5*time.Second {
				t.Errorf("token expires in %s, want about 15m", left)
			}
			resp, err := cfg.Client(context.Background()).Get(e.Base + "/workspaces/v1/credentials")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET credentials with the library's client: %d", resp.StatusCode)
			}
		})
	}
}

// The token response and the JWT follow RFC 6749 §5.1, RFC 9068 and API.md §3, and the
// signature verifies with the published keys at both JWKS locations.
func TestOAuthTokenResponseAndClaims(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	start := time.Now().Add(-time.Second)
	resp, body := e.PostForm(t, e.Admin.TokenURL, oaClientForm(e.Admin.ClientID, e.Admin.ClientSecret))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["scope"]; ok {
		t.Errorf("scope echoed without being asked for or granted: %s", body)
	}
	var tr oaTokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 900 {
		t.Errorf("token_type %q expires_in %d, want Bearer 900", tr.TokenType, tr.ExpiresIn)
	}

	header, c := oaJWTParts(t, tr.AccessToken)
	if header["typ"] != "at+jwt" || header["alg"] != "ES256" {
		t.Errorf("header %v: want typ at+jwt, alg ES256", header)
	}
	kid, _ := header["kid"].(string)
	if kid == "" {
		t.Fatalf("header has no kid: %v", header)
	}
	str := func(name string) string {
		s, ok := c[name].(string)
		if !ok || s == "" {
			t.Errorf("claim %s = %v, want a non-empty string", name, c[name])
		}
		return s
	}
	num := func(name string) int64 {
		n, ok := c[name].(json.Number)
		if !ok {
			t.Errorf("claim %s = %v, want a number", name, c[name])
			return 0
		}
		v, err := n.Int64()
		if err != nil {
			t.Errorf("claim %s = %v: %v", name, n, err)
		}
		return v
	}
	if iss := str("iss"); iss != e.Admin.Issuer {
		t.Errorf("iss %q, want the bootstrap issuer %q", iss, e.Admin.Issuer)
	}
	if sub := str("sub"); sub != "api-client:"+e.Admin.ClientID {
		t.Errorf("sub %q, want api-client:%s", sub, e.Admin.ClientID)
	}
	switch aud := c["aud"].(type) {
	case string:
		if aud != e.Base {
			t.Errorf("aud %q, want %q", aud, e.Base)
		}
	case []any:
		if len(aud) != 1 || aud[0] != e.Base {
			t.Errorf("aud %v, want [%q]", aud, e.Base)
		}
	default:
		t.Errorf("aud %v", c["aud"])
	}
	iat, nbf, exp := num("iat"), num("nbf"), num("exp")
	if iat < start.Unix() || iat > time.Now().Unix() || nbf > iat || exp-iat != 900 {
		t.Errorf("iat %d nbf %d exp %d: want iat now, nbf <= iat, exp = iat+900", iat, nbf, exp)
	}
	if jti := str("jti"); len(jti) < 16 {
		t.Errorf("jti %q is too short to be unique", jti)
	}
	if cid := str("client_id"); cid != e.Admin.ClientID {
		t.Errorf("client_id %q", cid)
	}
	if tt := str("hpe_token_type"); tt != "api-v1.2" {
		t.Errorf("hpe_token_type %q", tt)
	}
	if ws := str("hpe_workspace_id"); !oaHex32.MatchString(ws) || ws != ids.Hex(e.Admin.WorkspaceID) {
		t.Errorf("hpe_workspace_id %q, want %s (32 hex)", ws, ids.Hex(e.Admin.WorkspaceID))
	}
	if pt := str("hpe_principal_type"); pt == "" {
		t.Errorf("hpe_principal_type empty")
	}
	if g := num("hpe_credential_generation"); g != 1 {
		t.Errorf("hpe_credential_generation %d, want 1", g)
	}
	if _, ok := c["act"]; ok {
		t.Errorf("a client_credentials token carries act: %v", c["act"])
	}

	for _, u := range []string{e.Admin.Issuer + "/jwks", e.Base + "/.well-known/jwks.json"} {
		set := oaJWKS(t, e, u)
		if !oaKids(set)[kid] {
			t.Fatalf("kid %s not in %s", kid, u)
		}
		oaVerify(t, tr.AccessToken, set, jose.ES256)
	}
	// Two tokens never share a jti.
	_, c2 := oaJWTParts(t, e.AdminToken(t))
	if c2["jti"] == c["jti"] {
		t.Errorf("two tokens share jti %v", c["jti"])
	}
	if got := oaAPIStatus(t, e, tr.AccessToken); got != http.StatusOK {
		t.Errorf("token on the API: %d", got)
	}
}

// A node configured for EdDSA signs with Ed25519 and publishes an OKP key.
func TestOAuthEdDSATokens(t *testing.T) {
	e := apptest.Start(t, app.Config{SigningAlg: "EdDSA"})
	tok := e.AdminToken(t)
	header, _ := oaJWTParts(t, tok)
	if header["alg"] != "EdDSA" || header["typ"] != "at+jwt" {
		t.Fatalf("header %v, want alg EdDSA typ at+jwt", header)
	}
	for _, u := range []string{e.Admin.Issuer + "/jwks", e.Base + "/.well-known/jwks.json"} {
		oaVerify(t, tok, oaJWKS(t, e, u), jose.EdDSA)
	}
	if got := oaAPIStatus(t, e, tok); got != http.StatusOK {
		t.Errorf("EdDSA token on the API: %d", got)
	}
}

// Both metadata locations serve the same RFC 8414 document, naming the bootstrap issuer.
func TestOAuthMetadata(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	hex := ids.Hex(e.Admin.WorkspaceID)
	var docs [][]byte
	for _, u := range []string{
		e.Base + "/.well-known/oauth-authorization-server/authorization/v2/oauth2/" + hex,
		e.Admin.Issuer + "/.well-known/openid-configuration",
	} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		resp, body := e.Send(t, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", u, ct)
		}
		docs = append(docs, body)
	}
	var a, b map[string]any
	if err := json.Unmarshal(docs[0], &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(docs[1], &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("the two metadata documents differ:\n%s\n%s", docs[0], docs[1])
	}
	iss := e.Admin.Issuer
	for k, want := range map[string]string{"issuer": iss, "token_endpoint": e.Admin.TokenURL, "jwks_uri": iss + "/jwks",
		"introspection_endpoint": iss + "/introspect", "revocation_endpoint": iss + "/revoke"} {
		if a[k] != want {
			t.Errorf("%s = %v, want %s", k, a[k], want)
		}
	}
	has := func(k, v string) {
		list, _ := a[k].([]any)
		for _, x := range list {
			if x == v {
				return
			}
		}
		t.Errorf("%s = %v lacks %s", k, a[k], v)
	}
	has("grant_types_supported", "client_credentials")
	has("token_endpoint_auth_methods_supported", "client_secret_basic")
	has("token_endpoint_auth_methods_supported", "client_secret_post")
	_, c := oaJWTParts(t, e.AdminToken(t))
	if c["iss"] != a["issuer"] {
		t.Errorf("JWT iss %v differs from the metadata issuer %v", c["iss"], a["issuer"])
	}
	// The hyphenated workspace id is accepted in the path too, but the issuer stays 32-hex.
	req, _ := http.NewRequest(http.MethodGet, e.Base+"/authorization/v2/oauth2/"+e.Admin.WorkspaceID+"/.well-known/openid-configuration", nil)
	if resp, body := e.Send(t, req); resp.StatusCode == http.StatusOK {
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if m["issuer"] != iss {
			t.Errorf("metadata via the hyphenated id names issuer %v, want %s", m["issuer"], iss)
		}
	}
}

func TestOAuthIntrospection(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	b := e.CreateWorkspace(t, "other", "", "b-admin@example.test")
	tokA := e.AdminToken(t)
	tokB := e.Token(t, b.WorkspaceID, b.ClientID, b.ClientSecret)
	a := e.Admin
	hexA := ids.Hex(a.WorkspaceID)

	t.Run("active", func(t *testing.T) {
		m := oaIntrospect(t, e, a.WorkspaceID, a.ClientID, a.ClientSecret, tokA)
		_, c := oaJWTParts(t, tokA)
		if m["active"] != true || m["client_id"] != a.ClientID || m["sub"] != "api-client:"+a.ClientID ||
			m["hpe_workspace_id"] != hexA || m["iss"] != a.Issuer {
			t.Errorf("introspection %v", m)
		}
		tokExp, _ := c["exp"].(json.Number).Int64()
		if exp, _ := m["exp"].(float64); exp == 0 || int64(exp) != tokExp {
			t.Errorf("exp %v, token exp %v", m["exp"], c["exp"])
		}
	})
	for _, tc := range []struct{ name, tok string }{
		{"garbage", "not-a-token"},
		{"empty-looking JWS", "e30.e30.e30"},
		{"another workspace's token", tokB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.PostForm(t, a.Issuer+"/introspect", url.Values{"token": {tc.tok},
				"client_id": {a.ClientID}, "client_secret": {a.ClientSecret}})
			if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"active":false}` {
				t.Errorf("introspection: %d %s, want 200 {\"active\":false}", resp.StatusCode, body)
			}
		})
	}
	t.Run("longer than any token", func(t *testing.T) {
		// Not a token this server issued, so inactive (RFC 7662 §2.2); the verifier refuses
		// it by its length before parsing anything.
		resp, body := e.PostForm(t, a.Issuer+"/introspect", url.Values{"token": {tokA + strings.Repeat("a", 4097)},
			"client_id": {a.ClientID}, "client_secret": {a.ClientSecret}})
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"active":false}` {
			t.Errorf("introspection: %d %s, want 200 {\"active\":false}", resp.StatusCode, body)
		}
	})
	t.Run("B's token at B's issuer", func(t *testing.T) {
		if m := oaIntrospect(t, e, b.WorkspaceID, b.ClientID, b.ClientSecret, tokB); m["active"] != true {
			t.Errorf("introspection %v", m)
		}
	})
	t.Run("B's client at A's issuer", func(t *testing.T) {
		resp, body := e.PostForm(t, a.Issuer+"/introspect", url.Values{"token": {tokB},
			"client_id": {b.ClientID}, "client_secret": {b.ClientSecret}})
		oaWantError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("no client authentication", func(t *testing.T) {
		resp, body := e.PostForm(t, a.Issuer+"/introspect", url.Values{"token": {tokA}})
		oaWantError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("Basic authentication", func(t *testing.T) {
		resp, body := e.Send(t, oaFormRequest(t, a.Issuer+"/introspect", url.Values{"token": {tokA}},
			&[2]string{a.ClientID, a.ClientSecret}))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"active":true`) {
			t.Errorf("introspection with Basic: %d %s", resp.StatusCode, body)
		}
	})
}

func TestOAuthRevocation(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	a := e.Admin
	tok1, tok2 := e.AdminToken(t), e.AdminToken(t)
	obs := e.UserWithRole(t, a.WorkspaceID, rbac.RoleWorkspaceObserver)
	tokObs := e.TokenFor(t, obs)
	for _, tok := range []string{tok1, tok2, tokObs} {
		if got := oaAPIStatus(t, e, tok); got != http.StatusOK {
			t.Fatalf("before revocation: %d", got)
		}
	}
	revoke := func(tok string) (*http.Response, []byte) {
		return e.PostForm(t, a.Issuer+"/revoke", url.Values{"token": {tok},
			"client_id": {a.ClientID}, "client_secret": {a.ClientSecret}})
	}

	if resp, body := revoke(tok1); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke own token: %d %s", resp.StatusCode, body)
	}
	resp, body := e.Do(t, http.MethodGet, "/workspaces/v1/credentials", tok1, nil)
	oaGLError(t, resp, body, http.StatusUnauthorized)
	if m := oaIntrospect(t, e, a.WorkspaceID, a.ClientID, a.ClientSecret, tok1); m["active"] != false || len(m) != 1 {
		t.Errorf("revoked token introspects as %v", m)
	}
	if got := oaAPIStatus(t, e, tok2); got != http.StatusOK {
		t.Errorf("another token of the same client after revocation: %d", got)
	}
	if resp, body := revoke(tok1); resp.StatusCode != http.StatusOK {
		t.Errorf("revoking a revoked token again: %d %s", resp.StatusCode, body)
	}
	if resp, body := revoke("garbage"); resp.StatusCode != http.StatusOK {
		t.Errorf("revoke garbage: %d %s", resp.StatusCode, body)
	}
	if resp, body := revoke(tok2 + strings.Repeat("a", 5000)); resp.StatusCode != http.StatusOK {
		t.Errorf("revoke a token longer than any token: %d %s", resp.StatusCode, body)
	}
	if got := oaAPIStatus(t, e, tok2); got != http.StatusOK {
		t.Errorf("token after revoking a longer text that starts with it: %d", got)
	}
	resp, body = revoke(tokObs)
	oaWantError(t, resp, body, http.StatusBadRequest, "unauthorized_client")
	if got := oaAPIStatus(t, e, tokObs); got != http.StatusOK {
		t.Errorf("another client's token after a refused revocation: %d", got)
	}
	// The owner of that token can revoke it.
	resp, body = e.PostForm(t, a.Issuer+"/revoke", url.Values{"token": {tokObs},
		"client_id": {obs.ClientID}, "client_secret": {obs.Secret}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("owner revokes: %d %s", resp.StatusCode, body)
	}
	if got := oaAPIStatus(t, e, tokObs); got != http.StatusUnauthorized {
		t.Errorf("revoked observer token: %d", got)
	}
	// Revocation needs client authentication.
	resp, body = e.PostForm(t, a.Issuer+"/revoke", url.Values{"token": {tok2}})
	oaWantError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	if got := oaAPIStatus(t, e, tok2); got != http.StatusOK {
		t.Errorf("token after an unauthenticated revocation attempt: %d", got)
	}
}
