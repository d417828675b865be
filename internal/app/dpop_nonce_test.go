package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/dpop"
	"github.com/keyhold/keyhold/internal/ids"
)

// wantUseNonce checks a token endpoint answer of RFC 9449 §8: 400 use_dpop_nonce, a fresh
// nonce in DPoP-Nonce, no token. It returns the nonce.
func wantUseNonce(t *testing.T, what string, resp *http.Response, raw []byte) string {
	t.Helper()
	n := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `"error":"use_dpop_nonce"`) ||
		strings.Contains(string(raw), "access_token") || len(n) != dpop.NonceLen {
		t.Fatalf("%s: %d %s (DPoP-Nonce %q), want 400 use_dpop_nonce with a nonce", what, resp.StatusCode, raw, n)
	}
	return n
}

// wantAPIUseNonce checks an API answer of RFC 9449 §9: 401 with a DPoP use_dpop_nonce
// challenge and a fresh nonce.
func wantAPIUseNonce(t *testing.T, what string, resp *http.Response) string {
	t.Helper()
	n := resp.Header.Get("DPoP-Nonce")
	ch := strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="use_dpop_nonce"`) || len(n) != dpop.NonceLen {
		t.Fatalf("%s: %d, WWW-Authenticate %q, DPoP-Nonce %q; want 401 use_dpop_nonce with a nonce", what, resp.StatusCode, ch, n)
	}
	return n
}

func dpopTokenOf(t *testing.T, raw []byte) string {
	t.Helper()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(raw, &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token answer %s", raw)
	}
	return tr.AccessToken
}

// The use_dpop_nonce round trip at the token endpoint and on the API, with the refusals:
// missing and forged nonces; a nonce-less proof is not recorded (its jti may be signed again
// with the nonce); one nonce serves both; the failure budget is not spent on it.
func TestDPoPNonceRoundTrips(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	ws := e.Admin.WorkspaceID
	key := newDPoPKey(t)
	tokenURL := e.TokenURL(ws)
	jti := ids.New()
	sameJTI := func(m map[string]any) { m["jti"] = jti }

	resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", sameJTI))
	nonce := wantUseNonce(t, "no nonce", resp, raw)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	forged := []byte(nonce)
	forged[10] ^= 1 // another base64url character
	for name, n := range map[string]string{
		"forged":                string(forged),
		"not a nonce":           "x",
		"of another deployment": mustNonce(t, &dpop.Nonces{Keys: func() [][]byte { k, _ := dpop.NonceKey([]byte("elsewhere")); return [][]byte{k} }}),
	} {
		k := key
		k.nonce = n
		resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, k.proof(t, "POST", tokenURL, "", nil))
		if again := wantUseNonce(t, name, resp, raw); again != nonce {
			t.Errorf("%s: handed out %q, then %q in the same window", name, nonce, again)
		}
	}
	key.nonce = nonce
	resp, raw = dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", sameJTI))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the same jti with the nonce: %d %s (a nonce-less proof must not be recorded)", resp.StatusCode, raw)
	}
	if h := resp.Header.Get("DPoP-Nonce"); h != "" {
		t.Errorf("a fresh nonce was answered with another (%q): only stale ones are", h)
	}
	tok := dpopTokenOf(t, raw)

	// The API (RFC 9449 §9): the same nonce works there; without it, 401 use_dpop_nonce.
	apiURL := e.Base + credsPath
	noNonce := key
	noNonce.nonce = ""
	for i := 0; i < 60; i++ { // more than the failure budget's burst (50): not spent on nonces
		if n := wantAPIUseNonce(t, "the API without a nonce", dpopCall(t, e, "DPoP", tok, noNonce.proof(t, "GET", apiURL, tok, nil))); n != nonce {
			t.Fatalf("the API handed out %q, the token endpoint %q", n, nonce)
		}
	}
	bad := key
	bad.nonce = string(forged)
	wantAPIUseNonce(t, "the API with a forged nonce", dpopCall(t, e, "DPoP", tok, bad.proof(t, "GET", apiURL, tok, nil)))
	if r := dpopCall(t, e, "DPoP", tok, key.proof(t, "GET", apiURL, tok, nil)); r.StatusCode != http.StatusOK {
		t.Fatalf("the API with the nonce: %d", r.StatusCode)
	}
	// A bad proof is still a bad proof (invalid_token), whatever its nonce.
	other := newDPoPKey(t)
	other.nonce = nonce
	r := dpopCall(t, e, "DPoP", tok, other.proof(t, "GET", apiURL, tok, nil))
	if ch := strings.Join(r.Header.Values("WWW-Authenticate"), ", "); r.StatusCode != http.StatusUnauthorized || strings.Contains(ch, "use_dpop_nonce") {
		t.Errorf("another key's proof: %d %q", r.StatusCode, ch)
	}
}

func mustNonce(t *testing.T, n *dpop.Nonces) string {
	t.Helper()
	s, ok := n.Make(time.Now())
	if !ok {
		t.Fatal("no nonce")
	}
	return s
}

// Nonces expire with their window: one window on, a nonce still passes and the answer
// carries a fresh one (token endpoint and API); two windows on, it is refused.
func TestDPoPNonceExpiry(t *testing.T) {
	clock := newXNClock()
	// The start of a window, so that whole windows later land where the test says.
	clock.Set(clock.Now().Truncate(dpop.NonceWindow).Add(time.Second))
	e := apptest.Start(t, app.Config{Now: clock.Now})
	ws := e.Admin.WorkspaceID
	tokenURL, apiURL := e.TokenURL(ws), e.Base+credsPath
	at := func(m map[string]any) { m["iat"] = clock.Now().Unix() }
	key := newDPoPKey(t)
	resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", at))
	key.nonce = wantUseNonce(t, "no nonce", resp, raw)

	clock.Add(dpop.NonceWindow) // the next window: stale, accepted, a fresh nonce handed out
	resp, raw = dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", at))
	fresh := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != http.StatusOK || fresh == "" || fresh == key.nonce {
		t.Fatalf("a nonce of the previous window: %d %s (DPoP-Nonce %q), want 200 with a fresh nonce", resp.StatusCode, raw, fresh)
	}
	tok := dpopTokenOf(t, raw)
	r := dpopCall(t, e, "DPoP", tok, key.proof(t, "GET", apiURL, tok, at))
	if r.StatusCode != http.StatusOK || r.Header.Get("DPoP-Nonce") != fresh {
		t.Fatalf("the API with a nonce of the previous window: %d (DPoP-Nonce %q), want 200 with %q", r.StatusCode, r.Header.Get("DPoP-Nonce"), fresh)
	}

	clock.Add(dpop.NonceWindow) // two windows after it was made: expired
	resp, raw = dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", at))
	if n := wantUseNonce(t, "an expired nonce", resp, raw); n == key.nonce || n == fresh {
		t.Errorf("handed out %q again", n)
	}
	wantAPIUseNonce(t, "the API with an expired nonce", dpopCall(t, e, "DPoP", tok, key.proof(t, "GET", apiURL, tok, at)))
	key.nonce = fresh // the one handed out a window ago is still good
	if r := dpopCall(t, e, "DPoP", tok, key.proof(t, "GET", apiURL, tok, at)); r.StatusCode != http.StatusOK {
		t.Errorf("the nonce handed out a window ago: %d", r.StatusCode)
	}
}

// A nonce handed out by one node is accepted by another sharing the store (no store access:
// both derive the nonce key from the signing keys they load).
func TestDPoPNonceOnASecondNode(t *testing.T) {
	cfg := app.Config{DataDir: t.TempDir()}
	a := apptest.Start(t, cfg)
	b, _ := apptest.Reopen(t, cfg)
	b.Admin = a.Admin
	ws := a.Admin.WorkspaceID
	key := newDPoPKey(t).withNonce(t, a, ws)
	resp, raw := dpopToken(t, b, ws, a.Admin.ClientID, a.Admin.ClientSecret, key.proof(t, "POST", b.TokenURL(ws), "", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("node b with node a's nonce: %d %s", resp.StatusCode, raw)
	}
	tok := dpopTokenOf(t, raw)
	if r := dpopCall(t, b, "DPoP", tok, key.proof(t, "GET", b.Base+credsPath, tok, nil)); r.StatusCode != http.StatusOK {
		t.Fatalf("node b's API with node a's nonce: %d", r.StatusCode)
	}
}

// --dpop-nonce off: proofs need no nonce (and one they carry is ignored).
func TestDPoPNonceOff(t *testing.T) {
	e := apptest.Start(t, app.Config{DPoPNonce: app.DPoPNonceOff})
	ws := e.Admin.WorkspaceID
	key := newDPoPKey(t)
	resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", e.TokenURL(ws), "", nil))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("DPoP-Nonce") != "" {
		t.Fatalf("no nonce with nonces off: %d %s", resp.StatusCode, raw)
	}
	tok := dpopTokenOf(t, raw)
	key.nonce = "whatever"
	if r := dpopCall(t, e, "DPoP", tok, key.proof(t, "GET", e.Base+credsPath, tok, nil)); r.StatusCode != http.StatusOK {
		t.Fatalf("the API with nonces off: %d", r.StatusCode)
	}
	if _, err := app.Open(t.Context(), app.Config{DPoPNonce: "sometimes", DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "dpop-nonce") {
		t.Errorf("--dpop-nonce sometimes: %v", err)
	}
}

// A key rotation changes the nonce: one from before it is still accepted, with a fresh one
// in DPoP-Nonce, until the previous key retires; then a nonce of that key is refused even
// for the current window.
func TestDPoPNonceAcrossAKeyRotation(t *testing.T) {
	clock := newXNClock()
	e := apptest.Start(t, app.Config{Now: clock.Now})
	ws := e.Admin.WorkspaceID
	tokenURL := e.TokenURL(ws)
	at := func(m map[string]any) { m["iat"] = clock.Now().Unix() }
	stored, err := e.Node.Store.ListSigningKeys(t.Context())
	if err != nil || len(stored) != 1 {
		t.Fatalf("signing keys: %d, %v", len(stored), err)
	}
	oldNonceKey, err := dpop.NonceKey(stored[0].PrivateKey) // stored in the clear in this test
	if err != nil {
		t.Fatal(err)
	}
	key := newDPoPKey(t)
	resp, raw := dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", at))
	key.nonce = wantUseNonce(t, "no nonce", resp, raw)
	if mine := mustNonceAt(t, oldNonceKey, clock.Now()); mine != key.nonce {
		t.Fatalf("the nonce %q is not derived from the signing key (%q)", key.nonce, mine)
	}

	oaRotate(t, e, 20*time.Minute)
	resp, raw = dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", at))
	fresh := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != http.StatusOK || fresh == "" || fresh == key.nonce {
		t.Fatalf("a nonce from before the rotation: %d %s (DPoP-Nonce %q), want 200 with a new nonce", resp.StatusCode, raw, fresh)
	}

	clock.Add(21 * time.Minute) // the previous key has retired
	key.nonce = mustNonceAt(t, oldNonceKey, clock.Now())
	resp, raw = dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", at))
	if n := wantUseNonce(t, "a nonce of the retired key", resp, raw); n == key.nonce {
		t.Fatal("handed out a nonce of the retired key")
	} else {
		key.nonce = n
	}
	resp, raw = dpopToken(t, e, ws, e.Admin.ClientID, e.Admin.ClientSecret, key.proof(t, "POST", tokenURL, "", at))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the new key's nonce: %d %s", resp.StatusCode, raw)
	}
}

// mustNonceAt is the nonce the MAC key nk makes at now.
func mustNonceAt(t *testing.T, nk []byte, now time.Time) string {
	t.Helper()
	s, ok := (&dpop.Nonces{Keys: func() [][]byte { return [][]byte{nk} }}).Make(now)
	if !ok {
		t.Fatal("no nonce")
	}
	return s
}
