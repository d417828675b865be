package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
	"github.com/keyhold/keyhold/internal/workspace"
)

const (
	testBase = "https://keyhold.test"
	testTTL  = 15 * time.Minute
)

// testClock is a settable time source shared by the issuer, the key set and the revocations.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type tokenEnv struct {
	store   *sqlstore.Store
	clk     *testClock
	start   time.Time
	keys    *KeySet
	iss     *Issuer
	creds   *credential.Index
	revoked *Revoked
	dir     *workspace.Directory
	v       *Verifier

	ws, otherWS, user, cred string
	secret                  string

	kid  string
	priv crypto.Signer
}

func tmust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newTokenEnv(t testing.TB, alg jose.SignatureAlgorithm) *tokenEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "data"))
	tmust(t, err)
	t.Cleanup(func() { st.Close() })
	start := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	e := &tokenEnv{store: st, clk: &testClock{t: start}, start: start, ws: ids.New(), otherWS: ids.New(), user: ids.New(), cred: ids.New()}
	for _, ws := range []string{e.ws, e.otherWS} {
		tmust(t, st.CreateWorkspace(ctx, &storage.Workspace{ID: ws, Name: "ws", Type: storage.WorkspaceStandard, Generation: 1,
			CreatedAt: start, UpdatedAt: start}))
	}
	tmust(t, st.CreateUser(ctx, &storage.User{ID: e.user, Email: "owner@example.com", Generation: 1, CreatedAt: start, UpdatedAt: start}))
	var hash []byte
	e.secret, hash = credential.NewSecret()
	tmust(t, st.CreateCredential(ctx, &storage.Credential{ID: e.cred, WorkspaceID: e.ws, OwnerID: e.user, Name: "ci",
		SecretHash: hash, Generation: 1, CreatedAt: start, UpdatedAt: start}, 7))
	tmust(t, EnsureKey(ctx, st, alg, testTTL+5*time.Minute, start, nil))

	e.keys = NewKeySet(e.clk.Now, nil)
	e.creds = credential.NewIndex()
	e.revoked = NewRevoked(e.clk.Now)
	e.dir = workspace.NewDirectory()
	tmust(t, e.dir.Load(ctx, st))
	tmust(t, e.keys.Load(ctx, st))
	tmust(t, e.creds.Load(ctx, st))
	tmust(t, e.revoked.Load(ctx, st))
	e.iss = &Issuer{BaseURL: testBase, Audience: testBase, TTL: testTTL, Keys: e.keys, Now: e.clk.Now}
	e.v = e.verifier(e.revoked)

	keys, err := st.ListSigningKeys(ctx)
	tmust(t, err)
	if len(keys) != 1 {
		t.Fatalf("%d signing keys", len(keys))
	}
	e.kid = keys[0].KID
	priv, err := x509.ParsePKCS8PrivateKey(keys[0].PrivateKey)
	tmust(t, err)
	e.priv = priv.(crypto.Signer)
	return e
}

// verifier is a Verifier over the env's views with an empty cache.
func (e *tokenEnv) verifier(r *Revoked) *Verifier {
	return &Verifier{Issuer: e.iss, Creds: e.creds, Revoked: r, Workspaces: e.dir}
}

// claims are what the client_credentials grant asks Mint for.
func (e *tokenEnv) claims() *Claims {
	return &Claims{Subject: principal.APIClient(e.cred), ClientID: e.cred, WorkspaceID: e.ws,
		PrincipalType: principal.TypeAPIClient, Generation: 1}
}

func (e *tokenEnv) mint(t testing.TB) (string, *Claims) {
	t.Helper()
	c := e.claims()
	raw, err := e.iss.Mint(c)
	tmust(t, err)
	return raw, c
}

// fullClaims are valid registered claims, for tokens signed outside Mint.
func (e *tokenEnv) fullClaims() *Claims {
	now := e.clk.Now()
	c := e.claims()
	c.Issuer = e.iss.IssuerURL(e.ws)
	c.Audience = jwt.Audience{testBase}
	c.IssuedAt, c.NotBefore, c.Expiry = jwt.NewNumericDate(now), jwt.NewNumericDate(now), jwt.NewNumericDate(now.Add(testTTL))
	c.ID = newJTI()
	c.TokenType = TokenTypeHPE
	c.WorkspaceID = ids.Hex(e.ws)
	return c
}

// sign signs any claims with key under kid and typ, as keyhold would if it had been tricked.
func signWith(t testing.TB, alg jose.SignatureAlgorithm, key any, kid, typ string, claims any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	tmust(t, err)
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	tmust(t, err)
	return raw
}

// withKey signs claims with the store's real key and the real kid.
func (e *tokenEnv) withKey(t testing.TB, typ string, claims any) string {
	return signWith(t, jose.ES256, e.priv, e.kid, typ, claims)
}

var b64url = base64.RawURLEncoding

func jsonSegment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	tmust(t, err)
	return b64url.EncodeToString(b)
}

func splitJWS(t testing.TB, raw string) (header, payload, sig string) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", raw)
	}
	return parts[0], parts[1], parts[2]
}

func hmacSHA256(key []byte, input string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return b64url.EncodeToString(m.Sum(nil))
}

func assertInvalid(t *testing.T, v *Verifier, raw string) {
	t.Helper()
	caller, claims, err := v.Verify(raw)
	if err == nil {
		t.Fatalf("token accepted: caller %+v", caller)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v (%T) does not wrap ErrInvalid", err, err)
	}
	if caller != nil {
		t.Fatalf("refused token still yields a caller: %+v", caller)
	}
	// Verify returns the parsed claims alongside a live-check error (callers look at err
	// first); only the caller must be absent.
	_ = claims
	t.Logf("refused: %v", err)
}

func (e *tokenEnv) cacheLen() int { return e.v.CacheLen() }

func TestVerifyMintedToken(t *testing.T) {
	e := newTokenEnv(t, jose.ES256)
	raw, minted := e.mint(t)
	caller, c, err := e.v.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := principal.Caller{Subject: principal.APIClient(e.cred), ClientID: e.cred, OwnerID: e.user, WorkspaceID: e.ws,
		TokenID: minted.ID, Expiry: e.start.Add(testTTL).Unix()}
	if *caller != want {
		t.Fatalf("caller\n got %+v\nwant %+v", *caller, want)
	}
	if c.Issuer != testBase+"/authorization/v2/oauth2/"+ids.Hex(e.ws) || c.WorkspaceID != ids.Hex(e.ws) ||
		c.TokenType != TokenTypeHPE || c.Generation != 1 || len(c.ID) != 32 || !c.Audience.Contains(testBase) {
		t.Fatalf("claims %+v", c)
	}
	h, _, _ := splitJWS(t, raw)
	hb, _ := b64url.DecodeString(h)
	var hdr map[string]any
	tmust(t, json.Unmarshal(hb, &hdr))
	if hdr["typ"] != "at+jwt" || hdr["alg"] != "ES256" || hdr["kid"] != e.kid {
		t.Fatalf("header %s", hb)
	}
	// Verified again (now from the cache): the same answer.
	caller2, _, err := e.v.Verify(raw)
	if err != nil || *caller2 != want {
		t.Fatalf("second verification: %+v, %v", caller2, err)
	}
	if n := e.cacheLen(); n != 1 {
		t.Fatalf("cache holds %d tokens, want 1", n)
	}
	// Two tokens minted back to back differ (jti).
	raw2, _ := e.mint(t)
	if raw2 == raw {
		t.Fatal("two mints gave the same token")
	}
}

func TestVerifyRefuses(t *testing.T) {
	e := newTokenEnv(t, jose.ES256)
	good, _ := e.mint(t)
	h, p, s := splitJWS(t, good)
	payload, err := b64url.DecodeString(p)
	tmust(t, err)
	sig, err := b64url.DecodeString(s)
	tmust(t, err)
	var claimsMap map[string]any
	tmust(t, json.Unmarshal(payload, &claimsMap))

	tamperedClaims := func(mod func(map[string]any)) string {
		m := map[string]any{}
		for k, v := range claimsMap {
			m[k] = v
		}
		mod(m)
		return jsonSegment(t, m)
	}
	pub := e.priv.Public().(*ecdsa.PublicKey)
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	tmust(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	ecdhPub, err := pub.ECDH()
	tmust(t, err)
	jwkJSON, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: e.kid, Algorithm: "ES256", Use: "sig"})
	tmust(t, err)
	jwks, err := e.keys.JWKS()
	tmust(t, err)

	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmust(t, err)

	cases := map[string]func() string{
		"empty":       func() string { return "" },
		"garbage":     func() string { return "not a token" },
		"two parts":   func() string { return h + "." + p },
		"four parts":  func() string { return good + ".x" },
		"bad base64":  func() string { return h + ".!!!." + s },
		"JSON header": func() string { return `{"alg":"ES256"}.` + p + "." + s },
		"tampered payload (subject)": func() string {
			return h + "." + tamperedClaims(func(m map[string]any) { m["sub"] = principal.APIClient(ids.New()) }) + "." + s
		},
		"tampered payload (generation)": func() string {
			return h + "." + tamperedClaims(func(m map[string]any) { m["hpe_credential_generation"] = 2 }) + "." + s
		},
		"tampered payload (expiry)": func() string {
			return h + "." + tamperedClaims(func(m map[string]any) { m["exp"] = e.start.Add(24 * time.Hour).Unix() }) + "." + s
		},
		"tampered header (typ)": func() string {
			return jsonSegment(t, map[string]any{"alg": "ES256", "kid": e.kid, "typ": "JWT"}) + "." + p + "." + s
		},
		"tampered signature (bit flip)": func() string {
			bad := append([]byte(nil), sig...)
			bad[10] ^= 0x01
			return h + "." + p + "." + b64url.EncodeToString(bad)
		},
		"tampered signature (truncated)":  func() string { return h + "." + p + "." + b64url.EncodeToString(sig[:63]) },
		"tampered signature (zeros)":      func() string { return h + "." + p + "." + b64url.EncodeToString(make([]byte, 64)) },
		"tampered signature (empty)":      func() string { return h + "." + p + "." },
		"signature of another token":      func() string { other, _ := e.mint(t); _, _, os := splitJWS(t, other); return h + "." + p + "." + os },
		"payload swapped under signature": func() string { other, _ := e.mint(t); _, op, _ := splitJWS(t, other); return h + "." + op + "." + s },
		"alg none": func() string {
			return jsonSegment(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": e.kid}) + "." + p + "."
		},
		"alg None with a signature": func() string {
			return jsonSegment(t, map[string]any{"alg": "None", "typ": "at+jwt", "kid": e.kid}) + "." + p + "." + s
		},
		"alg NONE without kid": func() string {
			return jsonSegment(t, map[string]any{"alg": "NONE", "typ": "at+jwt"}) + "." + p + "."
		},
		"alg ES384 header over an ES256 signature": func() string {
			return jsonSegment(t, map[string]any{"alg": "ES384", "typ": "at+jwt", "kid": e.kid}) + "." + p + "." + s
		},
		"alg EdDSA header over an ES256 signature": func() string {
			return jsonSegment(t, map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": e.kid}) + "." + p + "." + s
		},
		"a different ES256 key with the same kid": func() string {
			return signWith(t, jose.ES256, otherKey, e.kid, "at+jwt", e.fullClaims())
		},
		"unknown kid": func() string {
			return signWith(t, jose.ES256, otherKey, "no-such-key", "at+jwt", e.fullClaims())
		},
		"no kid": func() string { return signWith(t, jose.ES256, e.priv, "", "at+jwt", e.fullClaims()) },
		"embedded jwk": func() string {
			opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("at+jwt")
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: otherKey}, opts)
			tmust(t, err)
			raw, err := jwt.Signed(signer).Claims(e.fullClaims()).Serialize()
			tmust(t, err)
			return raw
		},
		"typ JWT":             func() string { return e.withKey(t, "JWT", e.fullClaims()) },
		"typ missing":         func() string { return e.withKey(t, "", e.fullClaims()) },
		"typ at+jwt-ish":      func() string { return e.withKey(t, "at+jwtx", e.fullClaims()) },
		"typ application/jwt": func() string { return e.withKey(t, "application/jwt", e.fullClaims()) },
		"typ id_token-ish":    func() string { return e.withKey(t, "id+jwt", e.fullClaims()) },
		"not JSON claims":     func() string { return h + "." + b64url.EncodeToString([]byte("hello")) + "." + s },
		"wrong issuer (another workspace's issuer URL)": func() string {
			c := e.fullClaims()
			c.Issuer = e.iss.IssuerURL(e.otherWS)
			return e.withKey(t, "at+jwt", c)
		},
		"wrong issuer (another base URL)": func() string {
			c := e.fullClaims()
			c.Issuer = "https://evil.example/authorization/v2/oauth2/" + ids.Hex(e.ws)
			return e.withKey(t, "at+jwt", c)
		},
		"wrong issuer (hyphenated workspace in the URL)": func() string {
			c := e.fullClaims()
			c.Issuer = testBase + "/authorization/v2/oauth2/" + e.ws
			return e.withKey(t, "at+jwt", c)
		},
		"hyphenated hpe_workspace_id": func() string {
			c := e.fullClaims()
			c.WorkspaceID = e.ws
			return e.withKey(t, "at+jwt", c)
		},
		"missing hpe_workspace_id": func() string {
			c := e.fullClaims()
			c.WorkspaceID = ""
			c.Issuer = testBase + "/authorization/v2/oauth2/"
			return e.withKey(t, "at+jwt", c)
		},
		"wrong audience": func() string {
			c := e.fullClaims()
			c.Audience = jwt.Audience{"https://evil.example"}
			return e.withKey(t, "at+jwt", c)
		},
		"empty audience": func() string {
			c := e.fullClaims()
			c.Audience = jwt.Audience{}
			return e.withKey(t, "at+jwt", c)
		},
		"no expiry": func() string {
			c := e.fullClaims()
			c.Expiry = nil
			return e.withKey(t, "at+jwt", c)
		},
		"no jti": func() string {
			c := e.fullClaims()
			c.ID = ""
			return e.withKey(t, "at+jwt", c)
		},
		"credential of another workspace": func() string {
			c := e.fullClaims()
			c.WorkspaceID, c.Issuer = ids.Hex(e.otherWS), e.iss.IssuerURL(e.otherWS)
			return e.withKey(t, "at+jwt", c)
		},
		"unknown client id": func() string {
			c := e.fullClaims()
			c.ClientID = ids.New()
			c.Subject = principal.APIClient(c.ClientID)
			return e.withKey(t, "at+jwt", c)
		},
		"act naming an unknown client": func() string {
			c := e.fullClaims()
			c.Act = &Actor{Subject: principal.APIClient(e.cred), WorkspaceID: ids.Hex(e.ws), ClientID: ids.New()}
			return e.withKey(t, "at+jwt", c)
		},
		"act naming another workspace": func() string {
			c := e.fullClaims()
			c.Act = &Actor{Subject: principal.APIClient(e.cred), WorkspaceID: ids.Hex(e.otherWS), ClientID: e.cred}
			return e.withKey(t, "at+jwt", c)
		},
		"expired an hour ago": func() string {
			c := e.fullClaims()
			c.IssuedAt, c.NotBefore = jwt.NewNumericDate(e.start.Add(-2*time.Hour)), jwt.NewNumericDate(e.start.Add(-2*time.Hour))
			c.Expiry = jwt.NewNumericDate(e.start.Add(-time.Hour))
			return e.withKey(t, "at+jwt", c)
		},
		"expired within the leeway": func() string {
			c := e.fullClaims()
			c.Expiry = jwt.NewNumericDate(e.start.Add(-10 * time.Second))
			return e.withKey(t, "at+jwt", c)
		},
		"nbf beyond the leeway": func() string {
			c := e.fullClaims()
			c.NotBefore = jwt.NewNumericDate(e.start.Add(leeway + 5*time.Second))
			return e.withKey(t, "at+jwt", c)
		},
		"iat beyond the leeway": func() string {
			c := e.fullClaims()
			c.IssuedAt = jwt.NewNumericDate(e.start.Add(leeway + 5*time.Second))
			return e.withKey(t, "at+jwt", c)
		},
		"longer than MaxTokenLen (validly signed)": func() string {
			c := e.fullClaims()
			c.Scope = strings.Repeat("a", MaxTokenLen)
			raw := e.withKey(t, "at+jwt", c)
			if len(raw) <= MaxTokenLen {
				t.Fatalf("token of %d bytes", len(raw))
			}
			return raw
		},
		"far longer than MaxTokenLen": func() string { return strings.Repeat("A", 1<<20) },
	}
	for i, key := range [][]byte{pkix, pemKey, ecdhPub.Bytes(), jwkJSON, jwks, []byte(e.kid), nil} {
		cases[fmt.Sprintf("HS256 keyed with public key form %d", i)] = func() string {
			hdr := jsonSegment(t, map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": e.kid})
			return hdr + "." + p + "." + hmacSHA256(key, hdr+"."+p)
		}
	}

	// Tokens keyhold really signed may sit in the cache with their immutable checks done (the
	// live checks run on every use); nothing else may.
	signedButDead := map[string]bool{"credential of another workspace": true, "unknown client id": true,
		"act naming an unknown client": true, "act naming another workspace": true, "expired within the leeway": true}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			raw := mk()
			before := e.cacheLen()
			assertInvalid(t, e.v, raw)
			if grew := e.cacheLen() != before; grew && !signedButDead[name] {
				t.Fatal("a token refused by its immutable checks was cached")
			}
			assertInvalid(t, e.v, raw) // and refused again, cached or not
		})
	}
	// The honest token was never disturbed.
	if _, _, err := e.v.Verify(good); err != nil {
		t.Fatalf("the untampered token: %v", err)
	}
}

func TestVerifyTimes(t *testing.T) {
	e := newTokenEnv(t, jose.ES256)

	t.Run("expired", func(t *testing.T) {
		raw, _ := e.mint(t)
		e.clk.Set(e.start.Add(testTTL - time.Second))
		if _, _, err := e.v.Verify(raw); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
		e.clk.Set(e.start.Add(testTTL))
		assertInvalid(t, e.v, raw) // exactly at exp (from the cache)
		e.clk.Set(e.start.Add(testTTL + time.Second))
		assertInvalid(t, e.v, raw)
		fresh := e.verifier(e.revoked) // and uncached
		assertInvalid(t, fresh, raw)
		e.clk.Set(e.start)
	})

	t.Run("nbf in the future beyond leeway", func(t *testing.T) {
		e.clk.Set(e.start.Add(time.Hour))
		raw, _ := e.mint(t)
		e.clk.Set(e.start)
		assertInvalid(t, e.v, raw)
		// Once its time comes, the same token is good: refusing it did not poison the cache.
		e.clk.Set(e.start.Add(time.Hour))
		if _, _, err := e.v.Verify(raw); err != nil {
			t.Fatalf("at its nbf: %v", err)
		}
		e.clk.Set(e.start)
	})

	t.Run("nbf in the future within leeway", func(t *testing.T) {
		e.clk.Set(e.start.Add(leeway - 10*time.Second))
		raw, _ := e.mint(t)
		e.clk.Set(e.start)
		if _, _, err := e.v.Verify(raw); err != nil {
			t.Fatalf("testClock skew within the leeway: %v", err)
		}
	})

	t.Run("Mint caps a longer expiry at the TTL", func(t *testing.T) {
		c := e.claims()
		c.Expiry = jwt.NewNumericDate(e.start.Add(24 * time.Hour))
		raw, err := e.iss.Mint(c)
		tmust(t, err)
		caller, _, err := e.v.Verify(raw)
		tmust(t, err)
		if caller.Expiry != e.start.Add(testTTL).Unix() {
			t.Fatalf("expiry %d", caller.Expiry)
		}
	})
}

// TestVerifyLiveChecks covers what changes after issuance; each is checked both for a token
// never seen and for one already in the cache (the cache must never skip these checks).
func TestVerifyLiveChecks(t *testing.T) {
	ctx := context.Background()
	credChange := func(e *tokenEnv) storage.Change { return storage.Change{Kind: storage.KindCredential, Key: e.cred} }

	t.Run("credential reset", func(t *testing.T) {
		e := newTokenEnv(t, jose.ES256)
		cached, _ := e.mint(t)
		uncached, _ := e.mint(t)
		if _, _, err := e.v.Verify(cached); err != nil {
			t.Fatal(err)
		}
		secret, hash := credential.NewSecret()
		c, err := e.store.ResetCredential(ctx, e.cred, hash, e.start)
		tmust(t, err)
		if c.Generation != 2 {
			t.Fatalf("generation %d after reset", c.Generation)
		}
		tmust(t, e.creds.Apply(ctx, e.store, credChange(e)))
		if e.cacheLen() != 1 {
			t.Fatal("the cached token left the cache; this test would not cover the cache")
		}
		assertInvalid(t, e.v, cached)
		assertInvalid(t, e.v, uncached)
		if _, ok := e.creds.Authenticate(e.cred, e.secret); ok {
			t.Fatal("the old secret still authenticates")
		}
		if _, ok := e.creds.Authenticate(e.cred, secret); !ok {
			t.Fatal("the new secret does not authenticate")
		}
		// A token of the new generation is good.
		cl := e.claims()
		cl.Generation = 2
		raw, err := e.iss.Mint(cl)
		tmust(t, err)
		if _, _, err := e.v.Verify(raw); err != nil {
			t.Fatalf("new-generation token: %v", err)
		}
	})

	t.Run("owner deactivated", func(t *testing.T) {
		// The owner's state alone refuses the tokens (their generation unchanged): the
		// verifier reads OwnerInactive, which the user's change sets and clears.
		e := newTokenEnv(t, jose.ES256)
		cached, _ := e.mint(t)
		if _, _, err := e.v.Verify(cached); err != nil {
			t.Fatal(err)
		}
		setActive := func(active bool) {
			u, err := e.store.GetUser(ctx, e.user)
			tmust(t, err)
			u.Inactive = !active
			tmust(t, e.store.UpdateUser(ctx, u, 0))
			tmust(t, e.creds.Apply(ctx, e.store, storage.Change{Kind: storage.KindUser, Key: e.user}))
		}
		setActive(false)
		assertInvalid(t, e.v, cached)
		uncached, _ := e.mint(t)
		assertInvalid(t, e.v, uncached)
		if _, _, cached, err := e.v.VerifyIfCached(cached); !cached || err == nil {
			t.Fatalf("VerifyIfCached of a deactivated owner's token: cached %v, err %v", cached, err)
		}
		setActive(true)
		if _, _, err := e.v.Verify(cached); err != nil {
			t.Fatalf("without a generation change, reactivation restores the token: %v", err)
		}
	})

	t.Run("credential deleted", func(t *testing.T) {
		e := newTokenEnv(t, jose.ES256)
		cached, _ := e.mint(t)
		uncached, _ := e.mint(t)
		if _, _, err := e.v.Verify(cached); err != nil {
			t.Fatal(err)
		}
		tmust(t, e.store.DeleteCredential(ctx, e.cred))
		tmust(t, e.creds.Apply(ctx, e.store, credChange(e)))
		if _, ok := e.creds.Get(e.cred); ok {
			t.Fatal("deleted credential still in the index")
		}
		assertInvalid(t, e.v, cached)
		assertInvalid(t, e.v, uncached)
	})

	t.Run("jti revoked", func(t *testing.T) {
		e := newTokenEnv(t, jose.ES256)
		cached, cc := e.mint(t)
		uncached, uc := e.mint(t)
		bystander, _ := e.mint(t)
		if _, _, err := e.v.Verify(cached); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*Claims{cc, uc} {
			tmust(t, e.store.RevokeToken(ctx, storage.RevokedToken{JTI: c.ID, ExpiresAt: c.Expiry.Time()}))
			tmust(t, e.revoked.Apply(ctx, e.store, storage.Change{Kind: storage.KindRevocation, Key: c.ID}))
		}
		assertInvalid(t, e.v, cached)
		assertInvalid(t, e.v, uncached)
		if _, _, err := e.v.Verify(bystander); err != nil {
			t.Fatalf("revoking two tokens refused a third: %v", err)
		}
		// A node that starts now loads the revocations.
		r2 := NewRevoked(e.clk.Now)
		tmust(t, r2.Load(ctx, e.store))
		assertInvalid(t, e.verifier(r2), cached)
	})

	t.Run("signing key retired", func(t *testing.T) {
		e := newTokenEnv(t, jose.ES256)
		old, _ := e.mint(t)
		_, err := Rotate(ctx, e.store, jose.ES256, time.Minute, e.start, nil)
		tmust(t, err)
		tmust(t, e.keys.Load(ctx, e.store))
		if _, _, err := e.v.Verify(old); err != nil {
			t.Fatalf("during the overlap: %v", err)
		}
		fresh, _ := e.mint(t)
		if _, _, err := e.v.Verify(fresh); err != nil {
			t.Fatalf("token of the new key: %v", err)
		}
		e.clk.Set(e.start.Add(2 * time.Minute))
		assertInvalid(t, e.verifier(e.revoked), old)
		assertInvalid(t, e.v, old) // also once cached: a cached token lives no longer than its key
		if _, _, err := e.v.Verify(fresh); err != nil {
			t.Fatalf("token of the new key after the old one retired: %v", err)
		}
	})
}

// TestVerifyConcurrent exercises the cache from many goroutines (run with -race).
func TestVerifyConcurrent(t *testing.T) {
	e := newTokenEnv(t, jose.ES256)
	toks := make([]string, 8)
	for i := range toks {
		toks[i], _ = e.mint(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if _, _, err := e.v.Verify(toks[(g+i)%len(toks)]); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					e.v.Prune()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// FuzzVerify: whatever is presented, Verify does not panic, refuses with ErrInvalid, or
// accepts only what stands for the one credential there is.
func FuzzVerify(f *testing.F) {
	e := newTokenEnv(f, jose.ES256)
	good, _ := e.mint(f)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		caller, _, err := e.v.Verify(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if caller.ClientID != e.cred || caller.OwnerID != e.user || caller.WorkspaceID != e.ws {
			t.Fatalf("accepted a token for %+v", caller)
		}
	})
}

func BenchmarkMint(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			e := newTokenEnv(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.iss.Mint(e.claims()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			e := newTokenEnv(b, alg)
			raw, _ := e.mint(b)
			benchVerifyCached(b, e.v, raw)
		})
	}
}

// benchVerifyCached measures Verify of raw once it is in v's cache (the first call puts it
// there).
func benchVerifyCached(b *testing.B, v *Verifier, raw string) {
	if _, _, err := v.Verify(raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := v.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyUncached(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			e := newTokenEnv(b, alg)
			raw, _ := e.mint(b)
			b.ReportAllocs()
			for b.Loop() {
				// A verifier with an empty cache each time: signature, claims and live checks.
				v := e.verifier(e.revoked)
				if _, _, err := v.Verify(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
