package token

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/storage"
)

// sealedMagic starts a sealed private key as stored: "KHK2", then the public key in the
// clear (2-byte big-endian length, PKIX DER), the nonce and the ciphertext. "KHK1" (written
// before) lacks the public key. A PKCS#8 key in the clear starts with an ASN.1 SEQUENCE
// (0x30), so the forms never mix up. The public key needs no protection from the AEAD: it
// must hash to the key id (an RFC 7638 thumbprint), which is checked when it is read.
var (
	sealedMagic   = []byte("KHK2")
	sealedMagicV1 = []byte("KHK1")
)

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
// digits (32 random bytes, e.g. from `openssl rand -hex 32`), surrounding whitespace ignored,
// and is readable by its owner only. No paths means no sealing.
func LoadSealer(paths ...string) (*Sealer, error) {
	var keks [][]byte
	for _, path := range paths {
		if path == "" {
			continue
		}
		raw, err := readPrivateFile(path)
		if err != nil {
			return nil, err
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

// readPrivateFile reads a key-encryption key file, refusing one that the group or others may
// read or write, as ssh refuses such a private key: whoever reads it can open every signing
// key in a copy of the database.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("key-encryption key file %s is accessible to group or others (mode %04o): run `chmod 600 %s`", path, perm, path)
	}
	return io.ReadAll(io.LimitReader(f, 4096))
}

// seal returns der encrypted for key kid, or der itself when s is nil.
func (s *Sealer) seal(kid string, der []byte) ([]byte, error) {
	if s == nil {
		return der, nil
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.(crypto.Signer).Public())
	if err != nil {
		return nil, err
	}
	aead := s.aeads[0]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := binary.BigEndian.AppendUint16(bytes.Clone(sealedMagic), uint16(len(pub)))
	out = append(append(out, pub...), nonce...)
	return aead.Seal(out, nonce, der, []byte(kid)), nil
}

// Sealed reports whether a stored private key is sealed.
func Sealed(stored []byte) bool {
	return bytes.HasPrefix(stored, sealedMagic) || bytes.HasPrefix(stored, sealedMagicV1)
}

// splitSealed returns the public key (nil in the first form) and the nonce and ciphertext of
// a sealed key; ok is false when the stored form is damaged.
func splitSealed(stored []byte) (pub, rest []byte, ok bool) {
	if bytes.HasPrefix(stored, sealedMagicV1) {
		return nil, stored[len(sealedMagicV1):], true
	}
	rest = stored[len(sealedMagic):]
	if len(rest) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(rest))
	if len(rest) < 2+n {
		return nil, nil, false
	}
	return rest[2 : 2+n], rest[2+n:], true
}

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
	_, rest, ok := splitSealed(stored)
	if !ok {
		return nil, ErrSealed
	}
	for _, aead := range s.aeads {
		if n := aead.NonceSize(); len(rest) >= n {
			if der, err := aead.Open(nil, rest[:n], rest[n:], []byte(kid)); err == nil {
				return der, nil
			}
		}
	}
	return nil, ErrSealed
}

// openKey returns a stored key's private key when this node can open it, and its public key
// when known: from the private key, or, for a key this node cannot open, from the sealed
// form when it carries one whose thumbprint is the key id.
func (s *Sealer) openKey(k storage.SigningKey) (crypto.Signer, crypto.PublicKey, error) {
	der, err := s.open(k.KID, k.PrivateKey)
	if err != nil {
		return nil, sealedPublic(k), err
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, nil, fmt.Errorf("private key: %w", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("private key: not a signing key")
	}
	return signer, signer.Public(), nil
}

// sealedPublic is the public key a sealed key carries, nil when it carries none or one that
// does not match its key id.
func sealedPublic(k storage.SigningKey) crypto.PublicKey {
	raw, _, ok := splitSealed(k.PrivateKey)
	if !ok || raw == nil {
		return nil
	}
	pub, err := x509.ParsePKIXPublicKey(raw)
	if err != nil {
		return nil
	}
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil || base64.RawURLEncoding.EncodeToString(tp) != k.KID {
		return nil
	}
	return pub
}
