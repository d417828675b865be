package token

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
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

func TestSealRoundTrip(t *testing.T) {
	s, other := testSealer(t), testSealer(t)
	der := []byte("\x30\x82 a PKCS#8 key, as far as sealing cares")
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
	byOld, _ := old.seal("k", []byte("old key"))
	byBoth, _ := both.seal("k", []byte("new key"))
	if got, err := both.open("k", byOld); err != nil || string(got) != "old key" {
		t.Errorf("old key through both: %q, %v", got, err)
	}
	if got, err := onlyNew.open("k", byBoth); err != nil || string(got) != "new key" {
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
