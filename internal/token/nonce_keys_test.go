package token

import (
	"context"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/dpop"
)

// DPoP nonce keys derive from the signing keys: two nodes on one store accept each other's
// nonces; after a rotation the new key makes nonces and the previous one's stay accepted
// (stale) until it retires; then they are refused, on a node that has not reloaded too.
func TestKeySetNonceKeys(t *testing.T) {
	ctx := context.Background()
	st := keyStore(t)
	now := time.Now()
	clock := func() time.Time { return now }
	tmust(t, EnsureKey(ctx, st, jose.ES256, time.Hour, now, nil))
	a, b := NewKeySet(clock, nil), NewKeySet(clock, nil)
	tmust(t, a.Load(ctx, st))
	tmust(t, b.Load(ctx, st))
	na, nb := &dpop.Nonces{Keys: a.NonceKeys}, &dpop.Nonces{Keys: b.NonceKeys}
	before, ok := na.Make(now)
	if !ok {
		t.Fatal("no nonce")
	}
	if nb.Check(before, now) != dpop.NonceValid {
		t.Fatal("a second node sharing the store refused the first node's nonce")
	}
	if (&dpop.Nonces{Keys: NewKeySet(clock, nil).NonceKeys}).Check(before, now) != dpop.NonceInvalid {
		t.Fatal("a node without keys accepted a nonce")
	}

	_, err := Rotate(ctx, st, jose.ES256, 10*time.Minute, now, nil)
	tmust(t, err)
	tmust(t, a.Load(ctx, st))
	after, _ := na.Make(now)
	if after == before {
		t.Fatal("the rotation did not change the nonce")
	}
	if got := na.Check(before, now); got != dpop.NonceStale {
		t.Errorf("a nonce from before the rotation: %v, want stale (accepted, a fresh one handed out)", got)
	}
	if got := nb.Check(after, now); got != dpop.NonceInvalid {
		// b has not loaded the new key yet: it cannot know the new nonce (it refuses and
		// hands out its own, which a accepts).
		t.Errorf("b before its reload: %v", got)
	}
	if own, _ := nb.Make(now); na.Check(own, now) != dpop.NonceStale {
		t.Error("a refused the nonce of a node that has not loaded the rotation yet")
	}
	// The previous key retires: its nonces are refused, even before the next load.
	now = now.Add(10 * time.Minute)
	old, _ := (&dpop.Nonces{Keys: func() [][]byte { return a.nonceKeys[1:] }}).Make(now)
	if got := na.Check(old, now); got != dpop.NonceInvalid {
		t.Errorf("a nonce of the retired key: %v, want refused", got)
	}
	if fresh, _ := na.Make(now); na.Check(fresh, now) != dpop.NonceValid {
		t.Error("the new key's nonce is refused")
	}
}
