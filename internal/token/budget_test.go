package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/storage"
)

// unknownKidTokens are n tokens with keyhold's claims, signed by a key nobody knows under
// made-up key ids.
func unknownKidTokens(t testing.TB, e *tokenEnv, n int) []string {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmust(t, err)
	out := make([]string, n)
	for i := range out {
		out[i] = signWith(t, jose.ES256, priv, "forged-"+strconv.Itoa(i), "at+jwt", e.fullClaims())
	}
	return out
}

// TestUnknownKidSyncsOncePerInterval: tokens with unknown key ids, one after another or all
// at once, cause one sync of the views per refresh interval for the whole Verifier, where
// each used to cause one (a store read per token subject of a decision request).
func TestUnknownKidSyncsOncePerInterval(t *testing.T) {
	e := newTokenEnv(t, jose.ES256)
	var syncs atomic.Int64
	e.v.Sync = func() error { syncs.Add(1); time.Sleep(time.Millisecond); return nil }
	e.v.RefreshInterval = time.Hour
	toks := unknownKidTokens(t, e, 200)
	for _, raw := range toks {
		assertInvalid(t, e.v, raw)
	}
	var wg sync.WaitGroup
	for _, raw := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := e.v.Verify(raw); err == nil {
				t.Error("a token with an unknown kid verified")
			}
		}()
	}
	wg.Wait()
	if n := syncs.Load(); n != 1 || e.v.KeyRefreshes() != 1 {
		t.Fatalf("400 tokens with unknown key ids caused %d syncs (%d counted), want 1", n, e.v.KeyRefreshes())
	}
	// Once the interval has passed, the next unknown key id syncs again: a key rotated in on
	// another node is found.
	e.v.refreshMu.Lock()
	e.v.lastRefresh = time.Now().Add(-2 * time.Hour)
	e.v.refreshMu.Unlock()
	assertInvalid(t, e.v, toks[0])
	if n := syncs.Load(); n != 2 {
		t.Fatalf("after the interval: %d syncs, want 2", n)
	}
	// Concurrent callers share the sync in flight.
	e.v.refreshMu.Lock()
	e.v.lastRefresh = time.Now().Add(-2 * time.Hour)
	e.v.refreshMu.Unlock()
	release := make(chan struct{})
	e.v.Sync = func() error { syncs.Add(1); <-release; return nil }
	for i := range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _, _ = e.v.Verify(toks[i]) }()
	}
	time.Sleep(20 * time.Millisecond) // let them pile up on the sync in flight
	close(release)
	wg.Wait()
	if n := syncs.Load(); n != 3 {
		t.Fatalf("50 concurrent unknown key ids: %d syncs in all, want 3", n)
	}
}

// TestCheckTokenBudget: a caller's invalid tokens (forged key ids, bad signatures under the
// real key id) cost it its budget; out of budget, tokens it has not had verified before are
// not looked at (no sync, no signature check), cached ones are still answered, and other
// callers are unaffected.
func TestCheckTokenBudget(t *testing.T) {
	e := newTokenEnv(t, jose.ES256)
	var syncs atomic.Int64
	e.v.Sync = func() error { syncs.Add(1); return nil }
	e.v.RefreshInterval = time.Nanosecond // every unknown kid would sync: the budget must stop it
	s := &Server{Verifier: e.v, TokenChecks: ratelimit.New[string](10, time.Hour, time.Hour), Observer: nopObserver{}}
	good, _ := e.mint(t)
	if _, _, err := s.CheckToken("caller", good); err != nil {
		t.Fatal(err)
	}
	forged := unknownKidTokens(t, e, 30)
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmust(t, err)
	badSig := signWith(t, jose.ES256, otherKey, e.kid, "at+jwt", e.fullClaims())
	for i := range 10 {
		raw := forged[i]
		if i%2 == 1 {
			raw = badSig
		}
		if _, _, err := s.CheckToken("caller", raw); !errors.Is(err, ErrInvalid) {
			t.Fatalf("invalid token %d: %v", i, err)
		}
	}
	before := syncs.Load()
	for i := 10; i < 30; i++ {
		_, _, err := s.CheckToken("caller", forged[i])
		var be *BudgetError
		if !errors.As(err, &be) || be.Wait <= 0 {
			t.Fatalf("invalid token %d after the budget: %v, want a BudgetError", i, err)
		}
	}
	if n := syncs.Load(); n != before {
		t.Fatalf("out of budget, %d more syncs", n-before)
	}
	fresh, _ := e.mint(t)
	if _, _, err := s.CheckToken("caller", fresh); !errors.As(err, new(*BudgetError)) {
		t.Fatalf("an uncached token out of budget: %v, want a BudgetError", err)
	}
	if caller, _, err := s.CheckToken("caller", good); err != nil || caller.ClientID != e.cred {
		t.Fatalf("a cached token out of budget: %v", err)
	}
	if _, _, err := s.CheckToken("other caller", fresh); err != nil {
		t.Fatalf("another caller: %v", err)
	}
	// A cached token whose credential is gone is refused out of budget without a sync.
	ctx := context.Background()
	tmust(t, e.store.DeleteCredential(ctx, e.cred))
	tmust(t, e.creds.Apply(ctx, e.store, storage.Change{Kind: storage.KindCredential, Key: e.cred}))
	before = syncs.Load()
	if _, _, err := s.CheckToken("caller", good); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a cached token of a deleted credential out of budget: %v", err)
	}
	if n := syncs.Load(); n != before {
		t.Fatalf("out of budget, a cached token of a deleted credential caused %d syncs", n-before)
	}
}
