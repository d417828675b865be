package token

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
)

func keyStore(t *testing.T) storage.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data"))
	tmust(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// signedKID mints a token with ks and returns the key id in its header and its expiry.
func signedKID(t *testing.T, ks *KeySet, now time.Time) (string, time.Time) {
	t.Helper()
	iss := &Issuer{BaseURL: testBase, Audience: testBase, TTL: 15 * time.Minute, Keys: ks, Now: func() time.Time { return now }}
	raw, err := iss.Mint(&Claims{WorkspaceID: "00000000000000000000000000000001", Subject: "s"})
	tmust(t, err)
	tok, err := jwt.ParseSigned(raw, Algorithms)
	tmust(t, err)
	var c jwt.Claims
	tmust(t, tok.UnsafeClaimsWithoutVerification(&c))
	return tok.Headers[0].KeyID, c.Expiry.Time()
}

// The algorithm is a property of the key: a node signs with the newest active key whatever
// algorithm it was configured with, and starting a node with another algorithm does not
// replace the store's key (which took every other node's signer away).
func TestKeySetSignsWithTheNewestKeyWhateverItsAlgorithm(t *testing.T) {
	ctx := context.Background()
	st := keyStore(t)
	now := time.Now()
	tmust(t, EnsureKey(ctx, st, jose.ES256, time.Hour, now, nil))
	tmust(t, EnsureKey(ctx, st, jose.EdDSA, time.Hour, now, nil))
	keys, err := st.ListSigningKeys(ctx)
	tmust(t, err)
	if len(keys) != 1 || keys[0].Algorithm != "ES256" {
		t.Fatalf("a node of another algorithm changed the keys: %+v", keys)
	}
	edKID, err := Rotate(ctx, st, jose.EdDSA, time.Hour, now.Add(time.Second), nil)
	tmust(t, err)
	ks := NewKeySet(time.Now, nil)
	tmust(t, ks.Load(ctx, st))
	if kid, _ := signedKID(t, ks, time.Now()); kid != edKID {
		t.Errorf("signs with %s, want the newest key %s (EdDSA)", kid, edKID)
	}
	if _, ok := ks.Key(keys[0].KID); !ok {
		t.Error("the ES256 key no longer verifies during its overlap")
	}
	if p := ks.Problems(); len(p) != 0 {
		t.Errorf("problems: %v", p)
	}
}

// A key this node cannot open (sealed with another key-encryption key) is skipped and
// reported; loading succeeds, the node signs with the previous key until it retires (tokens
// capped at its retirement) and still verifies the new key's tokens from its public key.
func TestKeySetSkipsAKeyItCannotOpen(t *testing.T) {
	ctx := context.Background()
	st := keyStore(t)
	kek, kek2 := testSealer(t), testSealer(t)
	now := time.Now()
	tmust(t, EnsureKey(ctx, st, jose.ES256, time.Hour, now, kek))
	keys, _ := st.ListSigningKeys(ctx)
	oldKID := keys[0].KID
	newKID, err := Rotate(ctx, st, jose.ES256, 10*time.Minute, now.Add(time.Second), kek2)
	tmust(t, err)
	keys, _ = st.ListSigningKeys(ctx)
	retireAt := keys[1].RetireAt

	ks := NewKeySet(time.Now, kek)
	if err := ks.Load(ctx, st); err != nil {
		t.Fatalf("one key it cannot open failed the load: %v", err)
	}
	status := ks.Status()
	if p := status.Unusable; len(p) != 1 || p[0].KID != newKID || !strings.Contains(p[0].Reason, "key-encryption key") {
		t.Errorf("unusable %+v, want the new key reported", p)
	}
	if status.Signer != oldKID || status.SignerRetiresAt == nil || !status.SignerRetiresAt.Equal(retireAt) {
		t.Errorf("status %+v, want the previous key %s retiring at %s", status, oldKID, retireAt)
	}
	if err := ks.Healthy(); err == nil || !strings.Contains(err.Error(), newKID) {
		t.Errorf("Healthy: %v, want the unusable key named", err)
	}
	kid, exp := signedKID(t, ks, now.Add(2*time.Second))
	if kid != oldKID {
		t.Errorf("signs with %s, want the previous key %s", kid, oldKID)
	}
	if exp.After(retireAt) {
		t.Errorf("a token of the previous key expires at %s, after the key retires (%s)", exp, retireAt)
	}
	if _, ok := ks.Key(newKID); !ok {
		t.Error("the key it cannot open does not verify: its public key was not read")
	}
	// The node that holds kek2 signs with the new key.
	other := NewKeySet(time.Now, kek2)
	tmust(t, other.Load(ctx, st))
	if kid, _ := signedKID(t, other, time.Now()); kid != newKID {
		t.Errorf("a node of kek2 signs with %s, want %s", kid, newKID)
	}
	// Past the previous key's retirement nothing is left to sign with: an error, not a token.
	late := NewKeySet(func() time.Time { return retireAt.Add(time.Second) }, kek)
	tmust(t, late.Load(ctx, st))
	if _, err := late.Signer(); err == nil {
		t.Error("a signer without any usable key")
	}
}

// A node configured with a key-encryption key never signs with a key stored in the clear,
// even the newest; EnsureKey replaces an active clear key with a sealed one.
func TestKeySetWithAKeyEncryptionKeyNeverSignsInTheClear(t *testing.T) {
	ctx := context.Background()
	st := keyStore(t)
	kek := testSealer(t)
	now := time.Now()
	tmust(t, EnsureKey(ctx, st, jose.ES256, time.Hour, now, kek))
	keys, _ := st.ListSigningKeys(ctx)
	sealedKID := keys[0].KID
	clearKID, err := Rotate(ctx, st, jose.ES256, time.Hour, now.Add(time.Second), nil)
	tmust(t, err)
	ks := NewKeySet(time.Now, kek)
	tmust(t, ks.Load(ctx, st))
	if kid, _ := signedKID(t, ks, time.Now()); kid != sealedKID {
		t.Errorf("signs with %s, want the sealed key %s, not the clear %s", kid, sealedKID, clearKID)
	}
	if p := ks.Problems(); len(p) == 0 || p[0].KID != clearKID || !strings.Contains(p[0].Reason, "unencrypted") {
		t.Errorf("problems %+v, want the clear key reported", p)
	}
	if _, ok := ks.Key(clearKID); !ok {
		t.Error("the clear key does not verify")
	}
	// A node starting with the key-encryption key seals a new key.
	tmust(t, EnsureKey(ctx, st, jose.ES256, time.Hour, now.Add(2*time.Second), kek))
	keys, _ = st.ListSigningKeys(ctx)
	if !keys[0].RetireAt.IsZero() || !Sealed(keys[0].PrivateKey) || keys[0].KID == sealedKID {
		t.Errorf("EnsureKey left the clear key active: %+v", keys[0])
	}
}

// CheckRotation refuses a rotation without the key-encryption key when keys are sealed, and
// one with a key-encryption key that cannot open the keys in use.
func TestCheckRotation(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	k1, k2 := bytes.Repeat([]byte{1}, KEKSize), bytes.Repeat([]byte{2}, KEKSize)
	kek, _ := NewSealer(k1)
	kek2, _ := NewSealer(k2)
	newOld, _ := NewSealer(k2, k1)
	clear := keyStore(t)
	tmust(t, EnsureKey(ctx, clear, jose.ES256, time.Hour, now, nil))
	if err := CheckRotation(ctx, clear, now, nil); err != nil {
		t.Errorf("clear keys, no key-encryption key: %v", err)
	}
	if err := CheckRotation(ctx, clear, now, kek); err != nil {
		t.Errorf("clear keys, a key-encryption key (sealing from now on): %v", err)
	}
	sealed := keyStore(t)
	tmust(t, EnsureKey(ctx, sealed, jose.ES256, time.Hour, now, kek))
	for name, s := range map[string]*Sealer{"no key-encryption key": nil, "another one": kek2} {
		if err := CheckRotation(ctx, sealed, now, s); err == nil || !strings.Contains(err.Error(), "key-encryption-key-file") {
			t.Errorf("%s: %v, want a refusal naming --key-encryption-key-file", name, err)
		}
	}
	if err := CheckRotation(ctx, sealed, now, kek); err != nil {
		t.Errorf("the right key: %v", err)
	}
	if err := CheckRotation(ctx, sealed, now, newOld); err != nil {
		t.Errorf("changing the key-encryption key (new,old): %v", err)
	}
	// Keys past their retirement do not count.
	_, err := Rotate(ctx, sealed, jose.ES256, time.Minute, now.Add(time.Second), kek)
	tmust(t, err)
	_, err = Rotate(ctx, sealed, jose.ES256, time.Minute, now.Add(2*time.Second), nil)
	tmust(t, err)
	if err := CheckRotation(ctx, sealed, now.Add(time.Hour), nil); err != nil {
		t.Errorf("only retired keys are sealed: %v", err)
	}
}
