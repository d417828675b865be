package app_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/dpop"
	"github.com/keyhold/keyhold/internal/ids"
)

// dpopKey is a client's DPoP key, and the server nonce its proofs carry ("" none).
type dpopKey struct {
	priv  *ecdsa.PrivateKey
	nonce string
}

func newDPoPKey(t *testing.T) dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return dpopKey{priv: k}
}

// withNonce is k with proofs carrying the nonce e hands out (--dpop-nonce required, the
// default): a proof without one is answered use_dpop_nonce with a DPoP-Nonce header.
func (k dpopKey) withNonce(t *testing.T, e *apptest.Env, ws string) dpopKey {
	t.Helper()
	resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, k.proof(t, "POST", e.TokenURL(ws), "", nil))
	n := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `"use_dpop_nonce"`) || n == "" {
		t.Fatalf("a proof without a nonce: %d %s (DPoP-Nonce %q), want 400 use_dpop_nonce with a nonce", resp.StatusCode, raw, n)
	}
	k.nonce = n
	return k
}

func (k dpopKey) jkt(t *testing.T) string {
	t.Helper()
	tp, err := (&jose.JSONWebKey{Key: &k.priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// proof signs a DPoP proof for method and u; change edits the claims first.
func (k dpopKey) proof(t *testing.T, method, u, accessToken string, change func(map[string]any)) string {
	t.Helper()
	c := map[string]any{"jti": ids.New(), "htm": method, "htu": u, "iat": time.Now().Unix()}
	if k.nonce != "" {
		c["nonce"] = k.nonce
	}
	if accessToken != "" {
		c["ath"] = dpop.TokenHash(accessToken)
	}
	if change != nil {
		change(c)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dpopToken(t *testing.T, e *apptest.Env, ws, id, secret, proof string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.TokenURL(ws), strings.NewReader(url.Values{"grant_type": {"client_credentials"},
		"client_id": {id}, "client_secret": {secret}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return e.Send(t, req)
}

func dpopCall(t *testing.T, e *apptest.Env, scheme, tok, proof string) *http.Response {
	t.Helper()
	h := http.Header{"Authorization": {scheme + " " + tok}}
	if proof != "" {
		h["Dpop"] = []string{proof}
	}
	resp, _ := e.DoWith(t, http.MethodGet, credsPath, "", nil, h)
	return resp
}

func TestDPoPBoundTokens(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	ws := e.Admin.WorkspaceID
	key := newDPoPKey(t).withNonce(t, e, ws)
	tokenURL := e.TokenURL(ws)
	resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token with DPoP: %d %s", resp.StatusCode, raw)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	_ = json.Unmarshal(raw, &tr)
	if tr.TokenType != "DPoP" {
		t.Fatalf("token_type %q, want DPoP", tr.TokenType)
	}
	parsed, err := jwt.ParseSigned(tr.AccessToken, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	_ = parsed.UnsafeClaimsWithoutVerification(&claims)
	if claims.Cnf.JKT != key.jkt(t) {
		t.Fatalf("cnf.jkt %q, want the key's thumbprint %q", claims.Cnf.JKT, key.jkt(t))
	}
	apiURL := e.Base + credsPath
	tok := tr.AccessToken

	good := key.proof(t, "GET", apiURL, tok, nil)
	if r := dpopCall(t, e, "DPoP", tok, good); r.StatusCode != http.StatusOK {
		t.Fatalf("DPoP call: %d", r.StatusCode)
	}
	other := newDPoPKey(t)
	other.nonce = key.nonce
	for name, c := range map[string]struct{ scheme, proof string }{
		"replayed proof":      {"DPoP", good},
		"as a bearer token":   {"Bearer", ""},
		"bearer with a proof": {"Bearer", key.proof(t, "GET", apiURL, tok, nil)},
		"no proof":            {"DPoP", ""},
		"another key's proof": {"DPoP", other.proof(t, "GET", apiURL, tok, nil)},
		"wrong method":        {"DPoP", key.proof(t, "POST", apiURL, tok, nil)},
		"wrong URL":           {"DPoP", key.proof(t, "GET", e.Base+"/workspaces/v1/other", tok, nil)},
		"no ath":              {"DPoP", key.proof(t, "GET", apiURL, "", nil)},
		"old iat":             {"DPoP", key.proof(t, "GET", apiURL, tok, func(m map[string]any) { m["iat"] = time.Now().Add(-5 * time.Minute).Unix() })},
		"iat in the future":   {"DPoP", key.proof(t, "GET", apiURL, tok, func(m map[string]any) { m["iat"] = time.Now().Add(time.Minute).Unix() })},
		"no jti":              {"DPoP", key.proof(t, "GET", apiURL, tok, func(m map[string]any) { delete(m, "jti") })},
		"alg none":            {"DPoP", unsignedJWT(map[string]any{"jti": ids.New(), "htm": "GET", "htu": apiURL, "iat": time.Now().Unix()})},
	} {
		r := dpopCall(t, e, c.scheme, tok, c.proof)
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, r.StatusCode)
		}
	}
	// A bearer token presented with the DPoP scheme is refused too.
	if r := dpopCall(t, e, "DPoP", e.AdminToken(t), key.proof(t, "GET", apiURL, e.AdminToken(t), nil)); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unbound token with the DPoP scheme: %d", r.StatusCode)
	}

	// Introspection reports the binding.
	resp, raw = e.PostForm(t, e.Node.Issuer.IssuerURL(ws)+"/introspect", url.Values{"token": {tok},
		"client_id": {e.Admin.ClientID}, "client_secret": {e.Admin.ClientSecret}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"jkt":"`+key.jkt(t)+`"`) || !strings.Contains(string(raw), `"token_type":"DPoP"`) {
		t.Errorf("introspection: %d %s, want cnf.jkt and token_type DPoP", resp.StatusCode, raw)
	}
	// A bound token cannot be exchanged.
	resp, raw = e.PostForm(t, tokenURL, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token": {tok}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"resource": {"/workspaces/v1/workspaces/" + ws}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("exchange of a bound token: %d %s", resp.StatusCode, raw)
	}
}

// The token endpoint's proof checks: each refused with 400 invalid_dpop_proof, no token.
func TestDPoPTokenEndpointRefusals(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	ws := e.Admin.WorkspaceID
	key := newDPoPKey(t).withNonce(t, e, ws)
	tokenURL := e.TokenURL(ws)
	used := key.proof(t, "POST", tokenURL, "", nil)
	if resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, used); resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, raw)
	}
	privJWK, _ := json.Marshal(jose.JSONWebKey{Key: key.priv})
	for name, proof := range map[string]string{
		"replayed":           used,
		"other issuer's htu": key.proof(t, "POST", e.Base+"/authorization/v2/oauth2/"+ids.Hex(ids.New())+"/token", "", nil),
		"wrong method":       key.proof(t, "GET", tokenURL, "", nil),
		"old":                key.proof(t, "POST", tokenURL, "", func(m map[string]any) { m["iat"] = time.Now().Add(-2 * time.Minute).Unix() }),
		"alg none":           unsignedJWT(map[string]any{"jti": ids.New(), "htm": "POST", "htu": tokenURL, "iat": time.Now().Unix()}),
		"HS256":              hmacJWT(map[string]any{"jti": ids.New(), "htm": "POST", "htu": tokenURL, "iat": time.Now().Unix()}, privJWK),
		"garbage":            "x.y.z",
	} {
		resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, proof)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "invalid_dpop_proof") {
			t.Errorf("%s: %d %s, want 400 invalid_dpop_proof", name, resp.StatusCode, raw)
		}
	}
	// Without DPoP the token is a bearer token, as before.
	resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"token_type":"Bearer"`) {
		t.Errorf("no DPoP: %d %s", resp.StatusCode, raw)
	}
	// The metadata lists the proof algorithms.
	resp, raw = e.Do(t, http.MethodGet, "/.well-known/oauth-authorization-server/authorization/v2/oauth2/"+ids.Hex(ws), "", nil)
	if !strings.Contains(string(raw), "dpop_signing_alg_values_supported") {
		t.Errorf("metadata: %d %s", resp.StatusCode, raw)
	}
}
