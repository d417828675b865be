package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/clientauth"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// pkjKey is a client's signing key and its public JWK.
type pkjKey struct {
	priv any
	alg  jose.SignatureAlgorithm
	kid  string
}

func newPKJKey(t *testing.T, alg jose.SignatureAlgorithm) pkjKey {
	t.Helper()
	var priv any
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return pkjKey{priv: priv, alg: alg, kid: ids.New()}
}

func (k pkjKey) public() jose.JSONWebKey {
	full := jose.JSONWebKey{Key: k.priv, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
	return full.Public()
}

func jwksOf(keys ...pkjKey) jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.public())
	}
	return set
}

// assertion signs claims with k (kid in the header).
func (k pkjKey) assertion(t *testing.T, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.kid))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pkjClaims(clientID, aud string, now time.Time) map[string]any {
	return map[string]any{"iss": clientID, "sub": clientID, "aud": aud, "jti": ids.New(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
}

func assertionForm(a string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {clientauth.AssertionType},
		"client_assertion": {a}}
}

func putKeys(t *testing.T, e *apptest.Env, tok, id string, body any) (*http.Response, []byte) {
	t.Helper()
	return e.Do(t, http.MethodPut, credsPath+"/"+id+"/keys", tok, body)
}

// A client registers an inline key set and authenticates with golang.org/x/oauth2's
// client-credentials flow carrying a go-jose assertion; the token works on the API.
func TestPrivateKeyJWTInline(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	ws := e.Admin.WorkspaceID
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "signed"})
	key := newPKJKey(t, jose.ES256)
	if resp, raw := putKeys(t, e, tok, c.ID, map[string]any{"jwks": jwksOf(key)}); resp.StatusCode != http.StatusOK {
		t.Fatalf("put keys: %d %s", resp.StatusCode, raw)
	}
	resp, raw := e.Do(t, http.MethodGet, credsPath+"/"+c.ID+"/keys", tok, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), key.kid) {
		t.Fatalf("get keys: %d %s", resp.StatusCode, raw)
	}

	tokenURL := e.TokenURL(ws)
	cc := clientcredentials.Config{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: url.Values{"client_assertion_type": {clientauth.AssertionType},
			"client_assertion": {key.assertion(t, pkjClaims(c.ID, tokenURL, time.Now()))}}}
	got, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("x/oauth2 with private_key_jwt: %v", err)
	}
	if resp, raw := e.Do(t, http.MethodGet, credsPath, got.AccessToken, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the token on the API: %d %s", resp.StatusCode, raw)
	}
	// The same assertion again is a replay.
	if _, err := cc.Token(context.Background()); err == nil {
		t.Fatal("a replayed assertion obtained a token")
	}
	// The issuer URL is an accepted audience too; other algorithms work alike.
	postFormOK(t, e, tokenURL, assertionForm(key.assertion(t, pkjClaims(c.ID, e.Node.Issuer.IssuerURL(ws), time.Now()))))
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.EdDSA} {
		k := newPKJKey(t, alg)
		if resp, raw := putKeys(t, e, tok, c.ID, map[string]any{"jwks": jwksOf(key, k)}); resp.StatusCode != http.StatusOK {
			t.Fatalf("put keys: %d %s", resp.StatusCode, raw)
		}
		postFormOK(t, e, tokenURL, assertionForm(k.assertion(t, pkjClaims(c.ID, tokenURL, time.Now()))))
	}
	// The secret keeps working beside the keys; removing the keys ends assertions.
	e.Token(t, ws, c.ID, c.ClientSecret)
	if resp, raw := e.Do(t, http.MethodDelete, credsPath+"/"+c.ID+"/keys", tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete keys: %d %s", resp.StatusCode, raw)
	}
	resp, raw = e.PostForm(t, tokenURL, assertionForm(key.assertion(t, pkjClaims(c.ID, tokenURL, time.Now()))))
	wantInvalidClient(t, resp, raw, "after the keys were removed")
}

func wantInvalidClient(t *testing.T, resp *http.Response, raw []byte, what string) {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(raw, &body)
	if resp.StatusCode != http.StatusUnauthorized || body.Error != "invalid_client" {
		t.Errorf("%s: %d %s, want 401 invalid_client", what, resp.StatusCode, raw)
	}
}

// The attacker's table: every assertion that must not authenticate.
func TestPrivateKeyJWTRefusals(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	ws := e.Admin.WorkspaceID
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "signed"})
	key := newPKJKey(t, jose.ES256)
	if resp, raw := putKeys(t, e, tok, c.ID, map[string]any{"jwks": jwksOf(key)}); resp.StatusCode != http.StatusOK {
		t.Fatalf("put keys: %d %s", resp.StatusCode, raw)
	}
	other := e.CreateWorkspace(t, "Other", storage.WorkspaceStandard, "pkj-other@example.test")
	tokenURL := e.TokenURL(ws)
	now := time.Now()
	with := func(change func(m map[string]any)) map[string]any {
		m := pkjClaims(c.ID, tokenURL, now)
		change(m)
		return m
	}
	stranger := newPKJKey(t, jose.ES256)
	stranger.kid = key.kid // claims the registered key's id
	pubJSON, _ := json.Marshal(key.public())
	replayed := key.assertion(t, pkjClaims(c.ID, tokenURL, now))
	postFormOK(t, e, tokenURL, assertionForm(replayed))

	for name, a := range map[string]string{
		"replayed":                replayed,
		"wrong audience":          key.assertion(t, with(func(m map[string]any) { m["aud"] = "https://elsewhere.example/token" })),
		"other workspace's aud":   key.assertion(t, with(func(m map[string]any) { m["aud"] = e.TokenURL(other.WorkspaceID) })),
		"expired":                 key.assertion(t, with(func(m map[string]any) { m["exp"] = now.Add(-time.Minute).Unix() })),
		"exp too far":             key.assertion(t, with(func(m map[string]any) { m["exp"] = now.Add(10 * time.Minute).Unix() })),
		"no exp":                  key.assertion(t, with(func(m map[string]any) { delete(m, "exp") })),
		"no jti":                  key.assertion(t, with(func(m map[string]any) { delete(m, "jti") })),
		"iss is not sub":          key.assertion(t, with(func(m map[string]any) { m["iss"] = ids.New() })),
		"nbf in the future":       key.assertion(t, with(func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() })),
		"signed by another key":   stranger.assertion(t, pkjClaims(c.ID, tokenURL, now)),
		"unknown client":          key.assertion(t, pkjClaims(ids.New(), tokenURL, now)),
		"alg none":                unsignedJWT(pkjClaims(c.ID, tokenURL, now)),
		"HMAC keyed with the JWK": hmacJWT(pkjClaims(c.ID, tokenURL, now), pubJSON),
		"not a JWT":               "not-a-jwt",
	} {
		resp, raw := e.PostForm(t, tokenURL, assertionForm(a))
		wantInvalidClient(t, resp, raw, name)
	}
	// The right assertion at another workspace's issuer.
	resp, raw := e.PostForm(t, e.TokenURL(other.WorkspaceID), assertionForm(key.assertion(t, pkjClaims(c.ID, e.TokenURL(other.WorkspaceID), now))))
	wantInvalidClient(t, resp, raw, "at another workspace's token endpoint")

	// Mixed or malformed client authentication is a 400.
	good := key.assertion(t, pkjClaims(c.ID, tokenURL, now))
	for name, form := range map[string]url.Values{
		"with a secret":      {"grant_type": {"client_credentials"}, "client_assertion_type": {clientauth.AssertionType}, "client_assertion": {good}, "client_secret": {c.ClientSecret}},
		"wrong type":         {"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:other"}, "client_assertion": {good}},
		"type without value": {"grant_type": {"client_credentials"}, "client_assertion_type": {clientauth.AssertionType}},
	} {
		resp, raw := e.PostForm(t, tokenURL, form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "invalid_request") {
			t.Errorf("%s: %d %s, want 400 invalid_request", name, resp.StatusCode, raw)
		}
	}
	form := assertionForm(good)
	form.Set("client_id", ids.New())
	resp, raw = e.PostForm(t, tokenURL, form)
	wantInvalidClient(t, resp, raw, "client_id other than the subject")
	// The failures are logged with their reasons, never with the assertion.
	logs := e.Logs.String()
	for _, reason := range []string{clientauth.FailReplayed, clientauth.FailAudience, clientauth.FailExpired, clientauth.FailLifetime,
		clientauth.FailSignature, clientauth.FailMalformed} {
		if !strings.Contains(logs, reason) {
			t.Errorf("no log line with reason %s", reason)
		}
	}
	if strings.Contains(logs, good) || strings.Contains(logs, replayed) {
		t.Error("an assertion was logged")
	}
}

func unsignedJWT(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

func hmacJWT(claims map[string]any, key []byte) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	in := h + "." + base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Registration refuses what could not be a client's public signing key, and URLs into
// keyhold's own network; another workspace and an observer are refused.
func TestPrivateKeyJWTRegistration(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "keys"})
	ec := newPKJKey(t, jose.ES256)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	privateJWK := jose.JSONWebKey{Key: ec.priv, KeyID: "p", Algorithm: "ES256"}
	for name, tc := range map[string]struct {
		body  any
		field string
	}{
		"a private key":       {map[string]any{"jwks": map[string]any{"keys": []any{privateJWK}}}, "jwks"},
		"a symmetric key":     {map[string]any{"jwks": map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "c2VjcmV0"}}}}, "jwks"},
		"RSA 1024":            {map[string]any{"jwks": map[string]any{"keys": []any{jose.JSONWebKey{Key: &small.PublicKey, KeyID: "s"}}}}, "jwks"},
		"HS256 algorithm":     {map[string]any{"jwks": map[string]any{"keys": []any{withAlg(t, ec.public(), "HS256")}}}, "jwks"},
		"no keys":             {map[string]any{"jwks": map[string]any{"keys": []any{}}}, "jwks"},
		"not a key set":       {map[string]any{"jwks": "x"}, "jwks"},
		"neither":             {map[string]any{}, "jwks"},
		"both":                {map[string]any{"jwks": jwksOf(ec), "jwksUri": "https://example.com/jwks"}, "jwksUri"},
		"plain http":          {map[string]any{"jwksUri": "http://example.com/jwks"}, "jwksUri"},
		"loopback":            {map[string]any{"jwksUri": "https://127.0.0.1/jwks"}, "jwksUri"},
		"private":             {map[string]any{"jwksUri": "https://10.1.2.3/jwks"}, "jwksUri"},
		"link-local metadata": {map[string]any{"jwksUri": "https://169.254.169.254/latest"}, "jwksUri"},
		"IPv6 loopback":       {map[string]any{"jwksUri": "https://[::1]/jwks"}, "jwksUri"},
		"mapped loopback":     {map[string]any{"jwksUri": "https://[::ffff:127.0.0.1]/jwks"}, "jwksUri"},
		"relative":            {map[string]any{"jwksUri": "/jwks"}, "jwksUri"},
		"with user info":      {map[string]any{"jwksUri": "https://u:p@example.com/jwks"}, "jwksUri"},
	} {
		resp, raw := putKeys(t, e, tok, c.ID, tc.body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `"`+tc.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", name, resp.StatusCode, raw, tc.field)
		}
	}
	if resp, raw := e.Do(t, http.MethodGet, credsPath+"/"+c.ID+"/keys", tok, nil); !strings.Contains(string(raw), `"jwks":null`) {
		t.Errorf("refused registrations stored something: %d %s", resp.StatusCode, raw)
	}
	other := e.CreateWorkspace(t, "Other", storage.WorkspaceStandard, "pkj-reg-other@example.test")
	otherTok := e.Token(t, other.WorkspaceID, other.ClientID, other.ClientSecret)
	for _, m := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
		resp, raw := e.Do(t, m, credsPath+"/"+c.ID+"/keys", otherTok, map[string]any{"jwks": jwksOf(ec)})
		wantCredErr(t, resp, raw, http.StatusNotFound)
	}
	observer := e.TokenFor(t, e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceObserver))
	resp, raw := putKeys(t, e, observer, e.Admin.ClientID, map[string]any{"jwks": jwksOf(ec)})
	wantCredErr(t, resp, raw, http.StatusForbidden)
}

// A jwks_uri is fetched, cached, and fetched again when an assertion names a new key; a name
// that resolves to loopback is not fetched unless private addresses are allowed.
func TestPrivateKeyJWTKeysURI(t *testing.T) {
	k1, k2 := newPKJKey(t, jose.ES256), newPKJKey(t, jose.ES256)
	var mu sync.Mutex
	served, fetches := jwksOf(k1), 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		_ = json.NewEncoder(w).Encode(served)
	}))
	defer srv.Close()

	e := apptest.Start(t, app.Config{JWKSAllowPrivate: true})
	ws := e.Admin.WorkspaceID
	tok := e.AdminToken(t)
	tokenURL := e.TokenURL(ws)
	c := createCred(t, e, tok, map[string]string{"credentialName": "by url"})
	if resp, raw := putKeys(t, e, tok, c.ID, map[string]any{"jwksUri": srv.URL + "/jwks"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("put jwksUri: %d %s", resp.StatusCode, raw)
	}
	postFormOK(t, e, tokenURL, assertionForm(k1.assertion(t, pkjClaims(c.ID, tokenURL, time.Now()))))
	postFormOK(t, e, tokenURL, assertionForm(k1.assertion(t, pkjClaims(c.ID, tokenURL, time.Now()))))
	mu.Lock()
	if fetches != 1 {
		t.Errorf("%d fetches for two assertions with a known key, want 1 (cached)", fetches)
	}
	served = jwksOf(k1, k2) // the client rotates
	mu.Unlock()
	resp, raw := e.PostForm(t, tokenURL, assertionForm(k2.assertion(t, pkjClaims(c.ID, tokenURL, time.Now()))))
	// Within refetchAfter of the first fetch a new kid is not fetched at once; either answer
	// is allowed here, but the fetch count must stay bounded.
	_ = resp
	_ = raw
	mu.Lock()
	if fetches > 2 {
		t.Errorf("%d fetches: an unknown kid must not refetch every time", fetches)
	}
	mu.Unlock()

	// The default node refuses to fetch from loopback even through a name.
	d := apptest.Start(t, app.Config{})
	dtok := d.AdminToken(t)
	dc := createCred(t, d, dtok, map[string]string{"credentialName": "ssrf"})
	u, _ := url.Parse(srv.URL)
	uri := "https://localhost:" + u.Port() + "/jwks"
	if resp, raw := putKeys(t, d, dtok, dc.ID, map[string]any{"jwksUri": uri}); resp.StatusCode != http.StatusOK {
		t.Fatalf("put %s: %d %s", uri, resp.StatusCode, raw)
	}
	mu.Lock()
	before := fetches
	mu.Unlock()
	dURL := d.TokenURL(d.Admin.WorkspaceID)
	resp, raw = d.PostForm(t, dURL, assertionForm(k1.assertion(t, pkjClaims(dc.ID, dURL, time.Now()))))
	wantInvalidClient(t, resp, raw, "keys behind a loopback name")
	mu.Lock()
	if fetches != before {
		t.Error("keyhold connected to a loopback address for a jwks_uri")
	}
	mu.Unlock()
}

func TestPrivateKeyJWTMetadata(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	resp, raw := e.Do(t, http.MethodGet, "/.well-known/oauth-authorization-server/authorization/v2/oauth2/"+ids.Hex(e.Admin.WorkspaceID), "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata: %d %s", resp.StatusCode, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	methods, _ := m["token_endpoint_auth_methods_supported"].([]any)
	algs, _ := m["token_endpoint_auth_signing_alg_values_supported"].([]any)
	if !containsAny(methods, "private_key_jwt") || len(algs) == 0 {
		t.Fatalf("metadata %s: want private_key_jwt and its algorithms", raw)
	}
	for _, a := range algs {
		if s := a.(string); s == "none" || strings.HasPrefix(s, "HS") {
			t.Errorf("metadata advertises %s for client assertions", s)
		}
	}
}

func containsAny(list []any, want string) bool {
	for _, v := range list {
		if v == want {
			return true
		}
	}
	return false
}

// postFormOK posts a token request that must succeed.
func postFormOK(t *testing.T, e *apptest.Env, u string, v url.Values) {
	t.Helper()
	if resp, raw := e.PostForm(t, u, v); resp.StatusCode != http.StatusOK {
		t.Fatalf("token request: %d %s", resp.StatusCode, raw)
	}
}

// withAlg is k as a JSON object with its "alg" replaced.
func withAlg(t *testing.T, k jose.JSONWebKey, alg string) map[string]any {
	t.Helper()
	raw, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["alg"] = alg
	return m
}
