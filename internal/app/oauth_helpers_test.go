package app_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
)

// Helpers shared by the OAuth tests of this package.

// oaIssuer is a workspace's issuer URL on a test node.
func oaIssuer(e *apptest.Env, workspaceID string) string {
	return e.Base + "/authorization/v2/oauth2/" + ids.Hex(workspaceID)
}

// oaError is RFC 6749 §5.2's error body.
type oaError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// oaWantError checks an RFC 6749 §5.2 error answer: status, JSON body with exactly
// error and error_description, the expected code, and no-store.
func oaWantError(t *testing.T, resp *http.Response, body []byte, status int, code string) oaError {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	for k := range fields {
		if k != "error" && k != "error_description" {
			t.Errorf("error body has unexpected field %q: %s", k, body)
		}
	}
	var oe oaError
	if err := json.Unmarshal(body, &oe); err != nil {
		t.Fatal(err)
	}
	if oe.Error != code {
		t.Errorf("error %q, want %q (%s)", oe.Error, code, body)
	}
	if oe.ErrorDescription == "" {
		t.Errorf("error_description is empty: %s", body)
	}
	return oe
}

// oaFormRequest builds a form POST; basic, when not nil, is sent as HTTP Basic with both parts
// form-url-encoded (RFC 6749 §2.3.1).
func oaFormRequest(t testing.TB, u string, v url.Values, basic *[2]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	return req
}

// oaClientForm is a client_credentials request with client_secret_post.
func oaClientForm(clientID, secret string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
}

// oaTokenResponse is RFC 6749 §5.1's success body.
type oaTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// oaJWTParts decodes a compact JWS's header and payload without verifying it.
func oaJWTParts(t testing.TB, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWS", tok)
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("token segment: %v", err)
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("token segment %s: %v", b, err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

// oaJWKS reads a JWK set.
func oaJWKS(t testing.TB, e *apptest.Env, u string) jose.JSONWebKeySet {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	resp, body := e.Send(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Fatalf("JWKS at %s publishes a private key (kid %s)", u, k.KeyID)
		}
	}
	return set
}

// oaKids lists a JWK set's key ids.
func oaKids(set jose.JSONWebKeySet) map[string]bool {
	m := map[string]bool{}
	for _, k := range set.Keys {
		m[k.KeyID] = true
	}
	return m
}

// oaVerify checks a token's signature with the key its kid names in set.
func oaVerify(t testing.TB, tok string, set jose.JSONWebKeySet, alg jose.SignatureAlgorithm) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("parse token as %s JWS: %v", alg, err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the JWKS", kid, len(keys))
	}
	if _, err := jws.Verify(keys[0].Key); err != nil {
		t.Fatalf("signature does not verify with the published key %s: %v", kid, err)
	}
}

// oaMetric reads one sample of /metrics by its full name with labels; absent counts as 0.
func oaMetric(t testing.TB, e *apptest.Env, series string) float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Base+"/metrics", nil)
	resp, body := e.Send(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if ok && name == series {
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", sc.Text(), err)
			}
			return f
		}
	}
	return 0
}

const oaTokensIssued = `keyhold_tokens_issued_total{grant="client_credentials"}`

// oaIntrospect asks a workspace's introspection endpoint about tok, as client id/secret.
func oaIntrospect(t testing.TB, e *apptest.Env, ws, clientID, secret, tok string) map[string]any {
	t.Helper()
	resp, body := e.PostForm(t, oaIssuer(e, ws)+"/introspect", url.Values{"token": {tok},
		"client_id": {clientID}, "client_secret": {secret}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: %d %s", resp.StatusCode, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("introspection %s: %v", body, err)
	}
	return m
}

// oaAPIStatus is the status of GET /workspaces/v1/credentials with tok.
func oaAPIStatus(t testing.TB, e *apptest.Env, tok string) int {
	t.Helper()
	resp, _ := e.Do(t, http.MethodGet, "/workspaces/v1/credentials", tok, nil)
	return resp.StatusCode
}

// oaGLError checks the JSON APIs' error format and returns it.
func oaGLError(t testing.TB, resp *http.Response, body []byte, status int) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	for _, k := range []string{"httpStatusCode", "errorCode", "message", "debugId"} {
		if _, ok := m[k]; !ok {
			t.Errorf("error body lacks %s: %s", k, body)
		}
	}
	if n, _ := m["httpStatusCode"].(float64); int(n) != status {
		t.Errorf("httpStatusCode %v, want %d", m["httpStatusCode"], status)
	}
	return m
}
