package clientauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// Limits of a registered key set.
const (
	MaxKeys     = 10
	MaxJWKSSize = 32 << 10
	minRSABits  = 2048
)

// Algorithms are the signature algorithms a client assertion may use.
var Algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// AlgorithmNames are Algorithms as strings (for metadata).
func AlgorithmNames() []string {
	out := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		out[i] = string(a)
	}
	return out
}

// ParseKeySet reads a JSON Web Key Set and checks that every key can only verify signatures:
// public RSA (2048 bits or more), EC or Ed25519 keys, "use" absent or "sig", distinct key ids.
// A private or symmetric key is refused (a private key pasted by mistake is a leak to report,
// a symmetric one would make a shared secret of the set).
func ParseKeySet(raw []byte) (*jose.JSONWebKeySet, error) {
	if len(raw) > MaxJWKSSize {
		return nil, fmt.Errorf("the key set is larger than %d bytes", MaxJWKSSize)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %v", err)
	}
	if len(set.Keys) == 0 || len(set.Keys) > MaxKeys {
		return nil, fmt.Errorf("a key set holds 1 to %d keys", MaxKeys)
	}
	kids := map[string]bool{}
	for i, k := range set.Keys {
		if err := checkKey(k); err != nil {
			return nil, fmt.Errorf("key %d: %v", i, err)
		}
		if kids[k.KeyID] {
			return nil, fmt.Errorf("key %d: key id %q is not unique", i, k.KeyID)
		}
		kids[k.KeyID] = true
	}
	return &set, nil
}

func checkKey(k jose.JSONWebKey) error {
	if k.Use != "" && k.Use != "sig" {
		return fmt.Errorf(`"use" must be "sig"`)
	}
	if !k.IsPublic() {
		return fmt.Errorf("not a public key (a private or symmetric key must never be registered)")
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA keys need at least %d bits", minRSABits)
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return fmt.Errorf("unsupported key type %T", k.Key)
	}
	if k.Algorithm != "" && !allowed(k.Algorithm) {
		return fmt.Errorf("algorithm %q is not allowed", k.Algorithm)
	}
	return nil
}

func allowed(alg string) bool {
	for _, a := range Algorithms {
		if string(a) == alg {
			return true
		}
	}
	return false
}
