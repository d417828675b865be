package enforce_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/keyhold/keyhold/client/enforce"
	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/token"
)

// counting is an HTTP transport that counts requests.
type counting struct{ n atomic.Int64 }

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// clock is a test clock: real time plus an offset the test moves.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, enforce.DefaultAlgorithms)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Headers[0].KeyID
}

// TestVerifierFollowsKeyRotation: keyhold rotates its signing key; the verifier, which has
// the old set cached, meets the new kid, fetches the set once more and verifies the token.
// Unknown kids refetch at most once per MinRefresh.
func TestVerifierFollowsKeyRotation(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	ctx := context.Background()
	fetches := &counting{}
	clk := &clock{}
	v, err := enforce.NewVerifier(enforce.Config{BaseURL: e.Base, WorkspaceIDs: []string{e.Admin.WorkspaceID},
		HTTPClient: &http.Client{Transport: fetches}, MinRefresh: time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	old := e.AdminToken(t)
	for range 2 {
		c, err := v.Verify(ctx, old)
		if err != nil {
			t.Fatal(err)
		}
		if c.ClientID != e.Admin.ClientID || c.Subject != "api-client:"+e.Admin.ClientID {
			t.Fatalf("claims %+v", c)
		}
	}
	if n := fetches.n.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches for one key, want 1", n)
	}
	if _, err := token.Rotate(ctx, e.Node.Store, jose.ES256, time.Hour, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Node.Feed.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute) // past MinRefresh since the first fetch
	fresh := e.AdminToken(t)
	if kidOf(t, fresh) == kidOf(t, old) {
		t.Fatal("keyhold did not sign with the new key")
	}
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("token of the old key, within the overlap: %v", err)
	}
	if n := fetches.n.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches, want 2", n)
	}
	// Tokens of unknown kids: one refetch, then refused without fetching until MinRefresh.
	clk.Advance(2 * time.Minute)
	forged := sign(t, newKey(t, "unknown-kid"), "at+jwt", claimsFor(e.Base, e.Admin.WorkspaceID))
	for range 5 {
		if _, err := v.Verify(ctx, forged); !errors.Is(err, enforce.ErrInvalidToken) {
			t.Fatalf("forged token: %v", err)
		}
	}
	if n := fetches.n.Load(); n != 3 {
		t.Fatalf("%d JWKS fetches after unknown kids, want 3", n)
	}
}

// key is a signing key with its public JWK.
type key struct {
	priv *ecdsa.PrivateKey
	kid  string
}

func newKey(t *testing.T, kid string) key {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key{priv: k, kid: kid}
}

func (k key) jwks() []byte {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "ES256", Use: "sig"}}})
	return b
}

func claimsFor(base, ws string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": base + "/authorization/v2/oauth2/" + hexID(ws), "sub": "api-client:c", "aud": base,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "j", "client_id": "c",
		"hpe_workspace_id": hexID(ws), "hpe_principal_type": "api-client", "hpe_token_type": "api-v1.2"}
}

func hexID(ws string) string {
	out := []byte{}
	for i := range len(ws) {
		if ws[i] != '-' {
			out = append(out, ws[i])
		}
	}
	return string(out)
}

func sign(t *testing.T, k key, typ string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), k.kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestVerifierChecks signs tokens with a key served by a stand-in JWKS and checks each rule.
func TestVerifierChecks(t *testing.T) {
	k := newKey(t, "k1")
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(k.jwks()) }))
	defer jwks.Close()
	const base, ws = "https://iam.example.test", "0123456789abcdef0123456789abcdef"
	const other = "fedcba9876543210fedcba9876543210"
	one, err := enforce.NewVerifier(enforce.Config{BaseURL: base, JWKSURL: jwks.URL, WorkspaceIDs: []string{ws}})
	if err != nil {
		t.Fatal(err)
	}
	anyWS, err := enforce.NewVerifier(enforce.Config{BaseURL: base, JWKSURL: jwks.URL})
	if err != nil {
		t.Fatal(err)
	}
	with := func(change func(map[string]any)) map[string]any {
		c := claimsFor(base, ws)
		change(c)
		return c
	}
	hs, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "k1"))
	hsTok, _ := jwt.Signed(hs).Claims(claimsFor(base, ws)).Serialize()
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		v      *enforce.Verifier
		raw    string
		accept bool
	}{
		{"valid", one, sign(t, k, "at+jwt", claimsFor(base, ws)), true},
		{"valid, media type typ", one, sign(t, k, "application/at+jwt", claimsFor(base, ws)), true},
		{"valid, any workspace", anyWS, sign(t, k, "at+jwt", claimsFor(base, other)), true},
		{"no typ", one, sign(t, k, "", claimsFor(base, ws)), false},
		{"typ JWT (an ID token, say)", one, sign(t, k, "JWT", claimsFor(base, ws)), false},
		{"HS256", one, hsTok, false},
		{"other workspace", one, sign(t, k, "at+jwt", claimsFor(base, other)), false},
		{"issuer not the token's workspace", anyWS, sign(t, k, "at+jwt", with(func(c map[string]any) { c["hpe_workspace_id"] = other })), false},
		{"foreign issuer", anyWS, sign(t, k, "at+jwt", with(func(c map[string]any) { c["iss"] = "https://evil.test/authorization/v2/oauth2/" + ws })), false},
		{"wrong audience", one, sign(t, k, "at+jwt", with(func(c map[string]any) { c["aud"] = "https://other.test" })), false},
		{"expired", one, sign(t, k, "at+jwt", with(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })), false},
		{"no exp", one, sign(t, k, "at+jwt", with(func(c map[string]any) { delete(c, "exp") })), false},
		{"not yet valid", one, sign(t, k, "at+jwt", with(func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() })), false},
		{"another key, same kid", one, sign(t, newKey(t, "k1"), "at+jwt", claimsFor(base, ws)), false},
		{"garbage", one, "a.b.c", false},
		{"DPoP-bound (cnf)", one, sign(t, k, "at+jwt", with(func(c map[string]any) { c["cnf"] = map[string]string{"jkt": "x"} })), false},
	} {
		_, err := c.v.Verify(ctx, c.raw)
		if c.accept != (err == nil) {
			t.Errorf("%s: error %v", c.name, err)
		}
		if err != nil && !errors.Is(err, enforce.ErrInvalidToken) {
			t.Errorf("%s: error %v is not ErrInvalidToken", c.name, err)
		}
	}
}

// TestVerifierKeysUnavailable: no keys could ever be fetched: ErrKeysUnavailable, not a
// verdict on the token.
func TestVerifierKeysUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	v, err := enforce.NewVerifier(enforce.Config{BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	raw := sign(t, newKey(t, "k"), "at+jwt", claimsFor(url, "0123456789abcdef0123456789abcdef"))
	if _, err := v.Verify(context.Background(), raw); !errors.Is(err, enforce.ErrKeysUnavailable) {
		t.Fatalf("error %v, want ErrKeysUnavailable", err)
	}
}

// A certificate-bound token (RFC 8705, cnf.x5t#S256) is accepted only with its certificate.
func TestVerifierCertificateBound(t *testing.T) {
	k := newKey(t, "k1")
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(k.jwks()) }))
	defer jwks.Close()
	const base, ws = "https://iam.example.test", "0123456789abcdef0123456789abcdef"
	v, err := enforce.NewVerifier(enforce.Config{BaseURL: base, JWKSURL: jwks.URL, WorkspaceIDs: []string{ws}})
	if err != nil {
		t.Fatal(err)
	}
	cert, other := selfSigned(t), selfSigned(t)
	sum := sha256.Sum256(cert.Raw)
	c := claimsFor(base, ws)
	c["cnf"] = map[string]string{"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}
	raw := sign(t, k, "at+jwt", c)
	ctx := context.Background()
	if _, err := v.VerifyPeer(ctx, raw, cert); err != nil {
		t.Fatalf("with its certificate: %v", err)
	}
	for name, peer := range map[string]*x509.Certificate{"no certificate": nil, "another certificate": other} {
		if _, err := v.VerifyPeer(ctx, raw, peer); !errors.Is(err, enforce.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
	if _, err := v.Verify(ctx, raw); !errors.Is(err, enforce.ErrInvalidToken) {
		t.Errorf("Verify (no certificate): %v", err)
	}
	// An unbound token does not need a certificate, and one bound to an unknown kind of key is refused.
	if _, err := v.VerifyPeer(ctx, sign(t, k, "at+jwt", claimsFor(base, ws)), other); err != nil {
		t.Errorf("unbound token with a certificate: %v", err)
	}
	u := claimsFor(base, ws)
	u["cnf"] = map[string]string{"kid": "x"}
	if _, err := v.VerifyPeer(ctx, sign(t, k, "at+jwt", u), cert); !errors.Is(err, enforce.ErrInvalidToken) {
		t.Errorf("unknown binding: %v", err)
	}
}

func selfSigned(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "job"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
