package token

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/storage"
)

func testSealer(t *testing.T) *Sealer {
	t.Helper()
	kek := make([]byte, KEKSize)
	if _, err := rand.Read(kek); err != nil {
		t.Fatal(err)
	}
	s, err := NewSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testKey is a fresh ES256 signing key as stored in the clear.
func testKey(t *testing.T) storage.SigningKey {
	t.Helper()
	k, err := NewKey(jose.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return *k
}

func TestSealRoundTrip(t *testing.T) {
	s, other := testSealer(t), testSealer(t)
	der := testKey(t).PrivateKey
	sealed, err := s.seal("kid-1", der)
	if err != nil {
		t.Fatal(err)
	}
	if !Sealed(sealed) || bytes.Contains(sealed, der[2:]) {
		t.Fatalf("sealed form %q", sealed)
	}
	again, _ := s.seal("kid-1", der)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of the same key are equal: the nonce is not fresh")
	}
	if got, err := s.open("kid-1", sealed); err != nil || !bytes.Equal(got, der) {
		t.Fatalf("open: %q, %v", got, err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"no key-encryption key":      func() ([]byte, error) { return (*Sealer)(nil).open("kid-1", sealed) },
		"another key-encryption key": func() ([]byte, error) { return other.open("kid-1", sealed) },
		"moved to another key id":    func() ([]byte, error) { return s.open("kid-2", sealed) },
		"tampered":                   func() ([]byte, error) { b := bytes.Clone(sealed); b[len(b)-1] ^= 1; return s.open("kid-1", b) },
		"truncated":                  func() ([]byte, error) { return s.open("kid-1", sealed[:len(sealedMagic)+3]) },
	} {
		if got, err := open(); !errors.Is(err, ErrSealed) || got != nil {
			t.Errorf("%s: %q, %v; want ErrSealed", name, got, err)
		}
	}
	// Keys stored in the clear (before a key-encryption key was set) are read as they are.
	for _, sl := range []*Sealer{nil, s} {
		if got, err := sl.open("kid-1", der); err != nil || !bytes.Equal(got, der) {
			t.Errorf("clear key: %q, %v", got, err)
		}
	}
	if clear, _ := (*Sealer)(nil).seal("kid-1", der); !bytes.Equal(clear, der) || Sealed(clear) {
		t.Error("a nil Sealer changed the key")
	}
}

// Changing the key-encryption key: a Sealer of the new key and the old one seals with the new
// and opens what either sealed.
func TestSealerWithAnEarlierKey(t *testing.T) {
	oldKEK, newKEK := bytes.Repeat([]byte{1}, KEKSize), bytes.Repeat([]byte{2}, KEKSize)
	old, _ := NewSealer(oldKEK)
	both, err := NewSealer(newKEK, oldKEK)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, _ := NewSealer(newKEK)
	oldDER, newDER := testKey(t).PrivateKey, testKey(t).PrivateKey
	byOld, _ := old.seal("k", oldDER)
	byBoth, _ := both.seal("k", newDER)
	if got, err := both.open("k", byOld); err != nil || !bytes.Equal(got, oldDER) {
		t.Errorf("old key through both: %q, %v", got, err)
	}
	if got, err := onlyNew.open("k", byBoth); err != nil || !bytes.Equal(got, newDER) {
		t.Errorf("both seal with the first key: %q, %v", got, err)
	}
	if _, err := old.open("k", byBoth); !errors.Is(err, ErrSealed) {
		t.Errorf("the old key opened what the new one sealed: %v", err)
	}
	if _, err := NewSealer(); err == nil {
		t.Error("a Sealer of no key")
	}
}

func TestLoadSealer(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := hex.EncodeToString(bytes.Repeat([]byte{7}, KEKSize))
	if s, err := LoadSealer(write("good", " "+good+"\n")); err != nil || s == nil {
		t.Fatalf("good file: %v", err)
	}
	if s, err := LoadSealer(); err != nil || s != nil {
		t.Fatalf("no file: %v, %v", s, err)
	}
	if s, err := LoadSealer(""); err != nil || s != nil {
		t.Fatalf("an empty path: %v, %v", s, err)
	}
	for name, content := range map[string]string{"short": good[:62], "long": good + "00", "not hex": "zz" + good[2:], "empty": ""} {
		if _, err := LoadSealer(write(name, content)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := LoadSealer(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: accepted")
	}
}

// A key-encryption key file that the group or others may read is refused, as ssh refuses
// such a private key, with the command that fixes it.
func TestLoadSealerRefusesAnOpenFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not Unix permissions on Windows")
	}
	good := hex.EncodeToString(bytes.Repeat([]byte{7}, KEKSize))
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		p := filepath.Join(t.TempDir(), "kek")
		if err := os.WriteFile(p, []byte(good), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadSealer(p)
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+p) {
			t.Errorf("mode %04o: %v, want a refusal naming `chmod 600 %s`", mode, err, p)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		p := filepath.Join(t.TempDir(), "kek")
		if err := os.WriteFile(p, []byte(good), mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSealer(p); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}

// A sealed key carries its public key, so that a node without the key-encryption key still
// verifies the tokens it signs; one that does not hash to the key id is ignored. Keys sealed
// in the first form (without it) still open.
func TestSealedKeyCarriesItsPublicKey(t *testing.T) {
	s := testSealer(t)
	k := testKey(t)
	der := k.PrivateKey
	var err error
	if k.PrivateKey, err = s.seal(k.KID, der); err != nil {
		t.Fatal(err)
	}
	priv, pub, err := (*Sealer)(nil).openKey(k)
	if !errors.Is(err, ErrSealed) || priv != nil || pub == nil {
		t.Fatalf("without the key-encryption key: %v, %v, %v", priv, pub, err)
	}
	priv, pub2, err := s.openKey(k)
	if err != nil || priv == nil {
		t.Fatalf("with it: %v", err)
	}
	if !priv.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) || pub2 == nil {
		t.Error("the public key in the clear is not the sealed key's")
	}
	other := testKey(t)
	moved := storage.SigningKey{KID: other.KID, PrivateKey: k.PrivateKey}
	if _, pub, _ := (*Sealer)(nil).openKey(moved); pub != nil {
		t.Error("a public key that does not hash to the key id was accepted")
	}
	// The first form: magic, nonce, ciphertext.
	aead := s.aeads[0]
	nonce := make([]byte, aead.NonceSize())
	v1 := aead.Seal(append(bytes.Clone(sealedMagicV1), nonce...), nonce, der, []byte(k.KID))
	if !Sealed(v1) {
		t.Fatal("the first form is not recognised as sealed")
	}
	if got, err := s.open(k.KID, v1); err != nil || !bytes.Equal(got, der) {
		t.Errorf("first form: %v", err)
	}
	if _, pub, err := (*Sealer)(nil).openKey(storage.SigningKey{KID: k.KID, PrivateKey: v1}); !errors.Is(err, ErrSealed) || pub != nil {
		t.Errorf("first form without the key: %v, %v", pub, err)
	}
}
