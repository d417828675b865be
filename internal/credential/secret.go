package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"unsafe"
)

// secretBytes is the secret's entropy: 256 bits.
const secretBytes = 32

// NewSecret returns a fresh secret (64 hex digits) and its stored hash.
func NewSecret() (secret string, hash []byte) {
	b := make([]byte, secretBytes)
	rand.Read(b) // never returns an error; crashes the program if the OS has no randomness
	secret = hex.EncodeToString(b)
	return secret, Hash(secret)
}

// Hash is the stored form of a secret.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Matches compares a presented secret with a stored hash in constant time. The hash reads
// the secret's bytes in place (it never writes to its input): a copy would be an allocation
// on every token request.
func Matches(hash []byte, presented string) bool {
	h := sha256.Sum256(unsafe.Slice(unsafe.StringData(presented), len(presented)))
	return subtle.ConstantTimeCompare(h[:], hash) == 1
}

// MatchesEither compares a presented secret with two stored hashes (a credential's current
// secret and the one a rotation replaced), hashing it once; both comparisons always run, in
// constant time, so the time taken does not tell which one matched.
func MatchesEither(hash, prev []byte, presented string) (cur, old bool) {
	h := sha256.Sum256(unsafe.Slice(unsafe.StringData(presented), len(presented)))
	cur = subtle.ConstantTimeCompare(h[:], hash) == 1
	old = subtle.ConstantTimeCompare(h[:], prev) == 1
	return cur, old
}
