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
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

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

// EnsureKey makes sure an active key of alg exists, creating one (sealed by sealer, which may
// be nil) and retiring the others after overlap when it does not. Safe to run on several
// nodes at once.
func EnsureKey(ctx context.Context, s storage.Store, alg jose.SignatureAlgorithm, overlap time.Duration, now time.Time, sealer *Sealer) error {
	return s.WithTx(ctx, func(tx storage.Store) error {
		keys, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.RetireAt.IsZero() && k.Algorithm == string(alg) {
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

// KeySet is the in-memory view of the signing keys: the active signer and the public keys.
type KeySet struct {
	alg    jose.SignatureAlgorithm
	now    func() time.Time
	sealer *Sealer

	mu     sync.RWMutex
	signer jose.Signer
	kid    string
	public map[string]publicKey
}

// NewKeySet signs with the newest active key of alg once loaded by the change feed; sealer
// (nil: none) opens the keys stored sealed.
func NewKeySet(alg jose.SignatureAlgorithm, now func() time.Time, sealer *Sealer) *KeySet {
	return &KeySet{alg: alg, now: now, sealer: sealer, public: map[string]publicKey{}}
}

// Signer returns the active signer.
func (ks *KeySet) Signer() (jose.Signer, error) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if ks.signer == nil {
		return nil, errors.New("no active signing key")
	}
	return ks.signer, nil
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

// Load implements changefeed.Handler.
func (ks *KeySet) Load(ctx context.Context, s storage.Store) error {
	keys, err := s.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	public := make(map[string]publicKey, len(keys))
	var signer jose.Signer
	var kid string
	for _, k := range keys { // newest first
		der, err := ks.sealer.open(k.KID, k.PrivateKey)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", k.KID, err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", k.KID, err)
		}
		pub := priv.(crypto.Signer).Public()
		public[k.KID] = publicKey{jose.JSONWebKey{Key: pub, KeyID: k.KID, Algorithm: k.Algorithm, Use: "sig"}, k.RetireAt}
		if signer == nil && k.RetireAt.IsZero() && k.Algorithm == string(ks.alg) {
			if signer, err = newSigner(k, priv); err != nil {
				return err
			}
			kid = k.KID
		}
	}
	ks.mu.Lock()
	ks.signer, ks.kid, ks.public = signer, kid, public
	ks.mu.Unlock()
	return nil
}

func newSigner(k storage.SigningKey, priv any) (jose.Signer, error) {
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm),
		Key: jose.JSONWebKey{Key: priv, KeyID: k.KID}}, opts)
}
