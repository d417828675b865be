package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/dpop"
	"github.com/keyhold/keyhold/internal/storage"
)

// Algorithms keyhold signs with.
var Algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

// ParseAlgorithm checks a configured algorithm name.
func ParseAlgorithm(s string) (jose.SignatureAlgorithm, error) {
	for _, a := range Algorithms {
		if string(a) == s {
			return a, nil
		}
	}
	return "", fmt.Errorf("signing algorithm %q: expected ES256, EdDSA or RS256", s)
}

// NewKey generates a signing key; its id is the RFC 7638 thumbprint of its public key.
func NewKey(alg jose.SignatureAlgorithm, now time.Time) (*storage.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 3072)
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	tp, err := (&jose.JSONWebKey{Key: priv.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return &storage.SigningKey{KID: base64.RawURLEncoding.EncodeToString(tp), Algorithm: string(alg),
		PrivateKey: der, CreatedAt: now.UTC().Truncate(time.Microsecond)}, nil
}

// EnsureKey makes sure the store holds an active key this node may sign with, creating one
// of alg (sealed by sealer, which may be nil) and retiring the others after overlap when it
// does not. alg matters only then: a store whose active key has another algorithm keeps it
// (the algorithm is a property of the key, changed by Rotate). An active key this node
// cannot open is left alone (another node may hold its key-encryption key; replacing it here
// would take its signer away): Load reports it. Safe to run on several nodes at once.
func EnsureKey(ctx context.Context, s storage.Store, alg jose.SignatureAlgorithm, overlap time.Duration, now time.Time, sealer *Sealer) error {
	return s.WithTx(ctx, func(tx storage.Store) error {
		keys, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			// With a key-encryption key a node never signs with a key stored in the clear:
			// such a key (made before the key-encryption key was configured) is replaced.
			if k.RetireAt.IsZero() && (sealer == nil || Sealed(k.PrivateKey)) {
				return nil
			}
		}
		_, err = rotate(ctx, tx, alg, overlap, now, sealer)
		return err
	})
}

// Rotate creates a new active key of alg, sealed by sealer (nil: in the clear); the previous
// keys keep verifying tokens for overlap (at least the token lifetime) and are then deleted.
func Rotate(ctx context.Context, s storage.Store, alg jose.SignatureAlgorithm, overlap time.Duration, now time.Time, sealer *Sealer) (string, error) {
	var kid string
	err := s.WithTx(ctx, func(tx storage.Store) error {
		var err error
		kid, err = rotate(ctx, tx, alg, overlap, now, sealer)
		return err
	})
	return kid, err
}

// CheckRotation refuses a rotation that would leave nodes unable to sign or verify: sealed
// keys exist but no key-encryption key is given (the new key would be stored in the clear),
// or the given key-encryption keys cannot open a key still in use (a typo, or not the key the
// nodes run with: they could not open the new key). Keys past their retirement are ignored.
func CheckRotation(ctx context.Context, s storage.Store, now time.Time, sealer *Sealer) error {
	keys, err := s.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !k.RetireAt.IsZero() && !now.Before(k.RetireAt) || !Sealed(k.PrivateKey) {
			continue
		}
		if sealer == nil {
			return fmt.Errorf("signing key %s is sealed with a key-encryption key: give it with --key-encryption-key-file (the new key would otherwise be stored unencrypted)", k.KID)
		}
		if _, err := sealer.open(k.KID, k.PrivateKey); err != nil {
			return fmt.Errorf("the key-encryption key given cannot open signing key %s, which is in use: give the key the nodes run with (to change it: --key-encryption-key-file new,old)", k.KID)
		}
	}
	return nil
}

// MinOverlap is the shortest overlap a rotation accepts for tokens of lifetime ttl: a token
// signed just before the rotation lives ttl after it, and nodes pick up the new key within a
// sync interval, their clocks a little apart.
func MinOverlap(ttl time.Duration) time.Duration { return ttl + time.Minute }

func rotate(ctx context.Context, tx storage.Store, alg jose.SignatureAlgorithm, overlap time.Duration, now time.Time, sealer *Sealer) (string, error) {
	k, err := NewKey(alg, now)
	if err != nil {
		return "", err
	}
	if k.PrivateKey, err = sealer.seal(k.KID, k.PrivateKey); err != nil {
		return "", err
	}
	if err := tx.CreateSigningKey(ctx, k); err != nil {
		return "", err
	}
	return k.KID, tx.RetireSigningKeys(ctx, k.KID, now.Add(overlap))
}

type publicKey struct {
	jwk      jose.JSONWebKey
	retireAt time.Time
}

// KeyProblem is a stored key this node cannot use, and why.
type KeyProblem struct {
	KID    string `json:"kid"`
	Reason string `json:"reason"`
}

// KeySet is the in-memory view of the signing keys: the signer and the public keys.
//
// It signs with the newest active key whatever its algorithm (nodes configured with other
// algorithms agree on one signer). A key it cannot open (sealed with a key-encryption key
// not configured here, or damaged), or a key stored in the clear while a key-encryption key
// is configured, is never its signer: it is skipped and reported (Problems), and the node
// signs with the newest usable key still within its overlap, tokens capped at its
// retirement. Loading never fails because of one key, so one bad key cannot stop the change
// feed. Keys sealed by this version carry their public key in the clear, so even a key this
// node cannot open verifies the tokens other nodes sign with it.
type KeySet struct {
	now    func() time.Time
	sealer *Sealer
	// Log, when set, receives a warning for each key skipped by a load.
	Log *slog.Logger

	mu       sync.RWMutex
	signer   jose.Signer
	kid      string
	alg      string
	until    time.Time // the signer's retirement; zero: none scheduled
	public   map[string]publicKey
	problems []KeyProblem
	// nonceKeys are the DPoP nonce MAC keys derived from the keys this node can open: the
	// signer's first (see NonceKeys).
	nonceKeys   [][]byte
	nonceRetire []time.Time // each nonce key's retirement (zero: none)
}

// NewKeySet makes an empty key set, loaded by the change feed; sealer (nil: none) opens the
// keys stored sealed.
func NewKeySet(now func() time.Time, sealer *Sealer) *KeySet {
	return &KeySet{now: now, sealer: sealer, public: map[string]publicKey{}}
}

// Signer returns the active signer.
func (ks *KeySet) Signer() (jose.Signer, error) {
	s, _, err := ks.active()
	return s, err
}

// active returns the signer and the time its key retires (zero: not scheduled).
func (ks *KeySet) active() (jose.Signer, time.Time, error) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if ks.signer == nil || (!ks.until.IsZero() && !ks.now().Before(ks.until)) {
		return nil, time.Time{}, errors.New("no usable signing key")
	}
	return ks.signer, ks.until, nil
}

// SignerKID is the key id of the signer ("" when there is none).
func (ks *KeySet) SignerKID() string {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.kid
}

// SignerAlgorithm is the algorithm of the signer ("" when there is none).
func (ks *KeySet) SignerAlgorithm() string {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.alg
}

// Problems lists the keys the last load could not use, newest first.
func (ks *KeySet) Problems() []KeyProblem {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return slices.Clone(ks.problems)
}

// KeyStatus is what /readyz reports of the signing keys.
type KeyStatus struct {
	// Signer is the key id tokens are signed with ("" when none is usable).
	Signer string `json:"signer"`
	// SignerRetiresAt is set when the signer is a previous key on its way out, used because
	// the active key is unusable here: issuance stops then.
	SignerRetiresAt *time.Time   `json:"signerRetiresAt,omitempty"`
	Unusable        []KeyProblem `json:"unusable,omitempty"`
}

// Status reports the signer and the unusable keys.
func (ks *KeySet) Status() KeyStatus {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	st := KeyStatus{Signer: ks.kid, Unusable: slices.Clone(ks.problems)}
	if ks.signer != nil && !ks.until.IsZero() {
		t := ks.until.UTC()
		st.SignerRetiresAt = &t
	}
	return st
}

// Healthy is nil when the node signs with an active key; otherwise it says why not (no
// usable key, or only a previous one, with the unusable keys and their reasons).
func (ks *KeySet) Healthy() error {
	st := ks.Status()
	if st.Signer != "" && st.SignerRetiresAt == nil {
		return nil
	}
	var b strings.Builder
	if st.Signer == "" {
		b.WriteString("no usable signing key")
	} else {
		fmt.Fprintf(&b, "the active signing key is unusable; signing with the previous key %s until %s", st.Signer, st.SignerRetiresAt.Format(time.RFC3339))
	}
	for _, p := range st.Unusable {
		fmt.Fprintf(&b, "; key %s: %s", p.KID, p.Reason)
	}
	return errors.New(b.String())
}

// Key returns a public key usable for verification now.
func (ks *KeySet) Key(kid string) (jose.JSONWebKey, bool) {
	ks.mu.RLock()
	pk, ok := ks.public[kid]
	ks.mu.RUnlock()
	if !ok || (!pk.retireAt.IsZero() && !ks.now().Before(pk.retireAt)) {
		return jose.JSONWebKey{}, false
	}
	return pk.jwk, true
}

// NonceKeys returns the DPoP nonce MAC keys (dpop.Nonces.Keys): derived with dpop.NonceKey
// from the private key of the signer (first, it makes nonces) and of every other key of the
// last load this node could open (accepted, so that nonces made by nodes that have not yet
// picked up a rotation, or made before it, still pass). Every node holding the same keys
// derives the same MAC keys: nonces need no storage of their own and rotate with the
// signing keys (`keyhold keys rotate`). The slice must not be modified.
func (ks *KeySet) NonceKeys() [][]byte {
	ks.mu.RLock()
	keys, retire := ks.nonceKeys, ks.nonceRetire
	ks.mu.RUnlock()
	now := ks.now()
	for i, r := range retire {
		if !r.IsZero() && !now.Before(r) {
			// A key retired since the last load: leave out every retired one (rare: a copy).
			live := make([][]byte, 0, len(keys))
			for j, k := range keys[i:] {
				if r := retire[i+j]; r.IsZero() || now.Before(r) {
					live = append(live, k)
				}
			}
			return append(slices.Clone(keys[:i]), live...)
		}
	}
	return keys
}

// JWKS returns the published key set as JSON.
func (ks *KeySet) JWKS() ([]byte, error) {
	ks.mu.RLock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	now := ks.now()
	for _, pk := range ks.public {
		if pk.retireAt.IsZero() || now.Before(pk.retireAt) {
			set.Keys = append(set.Keys, pk.jwk)
		}
	}
	ks.mu.RUnlock()
	return json.Marshal(set)
}

// Kinds implements changefeed.Handler.
func (ks *KeySet) Kinds() []string { return []string{storage.KindSigningKey} }

// Apply implements changefeed.Handler; keys are few, so any change reloads them all.
func (ks *KeySet) Apply(ctx context.Context, s storage.Store, _ storage.Change) error {
	return ks.Load(ctx, s)
}

// Load implements changefeed.Handler. It fails only when the store cannot be read.
func (ks *KeySet) Load(ctx context.Context, s storage.Store) error {
	keys, err := s.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	now := ks.now()
	public := make(map[string]publicKey, len(keys))
	var problems []KeyProblem
	var signer jose.Signer
	var kid, alg string
	var until time.Time
	nonceKeys := map[string][]byte{}
	retireAt := map[string]time.Time{}
	for _, k := range keys { // newest first
		if !k.RetireAt.IsZero() && !now.Before(k.RetireAt) {
			continue // retired: neither signs nor verifies
		}
		priv, pub, err := ks.sealer.openKey(k)
		if pub != nil {
			public[k.KID] = publicKey{jose.JSONWebKey{Key: pub, KeyID: k.KID, Algorithm: k.Algorithm, Use: "sig"}, k.RetireAt}
		}
		switch {
		case err != nil:
			problems = append(problems, KeyProblem{k.KID, err.Error()})
			continue
		case ks.sealer != nil && !Sealed(k.PrivateKey):
			if k.RetireAt.IsZero() {
				problems = append(problems, KeyProblem{k.KID, "stored unencrypted although a key-encryption key is configured: never used to sign here; run `keyhold keys rotate` with the key-encryption key"})
			}
			continue
		}
		if der, err := ks.sealer.open(k.KID, k.PrivateKey); err == nil {
			if nk, err := dpop.NonceKey(der); err == nil {
				nonceKeys[k.KID], retireAt[k.KID] = nk, k.RetireAt
			}
		}
		// An active key beats one on its way out (a fallback), whatever their order.
		if signer == nil || (!until.IsZero() && k.RetireAt.IsZero()) {
			s, err := newSigner(k, priv)
			if err != nil {
				problems = append(problems, KeyProblem{k.KID, err.Error()})
				continue
			}
			signer, kid, alg, until = s, k.KID, k.Algorithm, k.RetireAt
		}
	}
	ordered := make([][]byte, 0, len(nonceKeys))
	var orderedRetire []time.Time
	if nk, ok := nonceKeys[kid]; ok && signer != nil {
		ordered, orderedRetire = append(ordered, nk), append(orderedRetire, retireAt[kid])
	}
	for _, k := range keys { // newest first after the signer's
		if nk, ok := nonceKeys[k.KID]; ok && k.KID != kid {
			ordered, orderedRetire = append(ordered, nk), append(orderedRetire, k.RetireAt)
		}
	}
	ks.mu.Lock()
	ks.signer, ks.kid, ks.alg, ks.until, ks.public, ks.problems = signer, kid, alg, until, public, problems
	ks.nonceKeys, ks.nonceRetire = ordered, orderedRetire
	ks.mu.Unlock()
	if ks.Log != nil {
		for _, p := range problems {
			ks.Log.Warn("signing key unusable on this node", "kid", p.KID, "reason", p.Reason)
		}
		if signer == nil {
			ks.Log.Error("no usable signing key: this node cannot issue tokens")
		} else if !until.IsZero() {
			ks.Log.Warn("signing with a previous key until it retires: the active key is unusable on this node",
				"kid", kid, "retire_at", until.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

func newSigner(k storage.SigningKey, priv crypto.Signer) (jose.Signer, error) {
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm),
		Key: jose.JSONWebKey{Key: priv, KeyID: k.KID}}, opts)
}
