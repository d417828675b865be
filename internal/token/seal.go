package token

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// sealedMagic starts a sealed private key as stored. A PKCS#8 key in the clear starts with
// an ASN.1 SEQUENCE (0x30), so the two never mix up.
var sealedMagic = []byte("KHK1")

// KEKSize is the length of a key-encryption key: AES-256.
const KEKSize = 32

// Sealer encrypts signing keys at rest with a key-encryption key (AES-256-GCM, a random
// nonce per key, the key id as additional data so that a sealed key cannot be moved to
// another key's row). With it, a copy of the database alone cannot mint tokens. A nil
// *Sealer stores keys in the clear, and every Sealer still reads keys stored in the clear
// (from before a key-encryption key was configured). A Sealer may hold earlier
// key-encryption keys too: it seals with the first and opens with any, which is how the
// key-encryption key itself is changed.
type Sealer struct {
	aeads []cipher.AEAD
}

// NewSealer makes a Sealer of 32-byte key-encryption keys, the one to seal with first.
func NewSealer(keks ...[]byte) (*Sealer, error) {
	if len(keks) == 0 {
		return nil, errors.New("key-encryption key: none given")
	}
	s := &Sealer{}
	for _, kek := range keks {
		if len(kek) != KEKSize {
			return nil, fmt.Errorf("key-encryption key: %d bytes, want %d", len(kek), KEKSize)
		}
		block, err := aes.NewCipher(kek)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// LoadSealer reads key-encryption key files, the one to seal with first: each holds 64 hex
// digits (32 random bytes, e.g. from `openssl rand -hex 32`), surrounding whitespace ignored.
// No paths means no sealing.
func LoadSealer(paths ...string) (*Sealer, error) {
	var keks [][]byte
	for _, path := range paths {
		if path == "" {
			continue
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("key-encryption key: %w", err)
		}
		kek, err := hex.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(kek) != KEKSize {
			return nil, fmt.Errorf("key-encryption key %s: want %d hex digits (32 random bytes)", path, 2*KEKSize)
		}
		keks = append(keks, kek)
	}
	if len(keks) == 0 {
		return nil, nil
	}
	return NewSealer(keks...)
}

// seal returns der encrypted for key kid, or der itself when s is nil.
func (s *Sealer) seal(kid string, der []byte) ([]byte, error) {
	if s == nil {
		return der, nil
	}
	aead := s.aeads[0]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append(bytes.Clone(sealedMagic), nonce...)
	return aead.Seal(out, nonce, der, []byte(kid)), nil
}

// Sealed reports whether a stored private key is sealed.
func Sealed(stored []byte) bool { return bytes.HasPrefix(stored, sealedMagic) }

// ErrSealed is returned for a sealed key when no (or another) key-encryption key is set.
var ErrSealed = errors.New("the signing key is encrypted with a key-encryption key that is not configured here (--key-encryption-key-file)")

// open returns the PKCS#8 key of kid as stored: decrypted if sealed, as is if in the clear.
func (s *Sealer) open(kid string, stored []byte) ([]byte, error) {
	if !Sealed(stored) {
		return stored, nil
	}
	if s == nil {
		return nil, ErrSealed
	}
	rest := stored[len(sealedMagic):]
	for _, aead := range s.aeads {
		if n := aead.NonceSize(); len(rest) >= n {
			if der, err := aead.Open(nil, rest[:n], rest[n:], []byte(kid)); err == nil {
				return der, nil
			}
		}
	}
	return nil, ErrSealed
}
