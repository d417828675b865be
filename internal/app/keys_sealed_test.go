package app_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/token"
)

func kekFile(t *testing.T, b byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(p, []byte(hex.EncodeToString(bytes.Repeat([]byte{b}, token.KEKSize))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// With a key-encryption key, signing keys are stored sealed: the node signs and verifies as
// before, a node without that key (or with another) refuses to start, and keys stored in the
// clear earlier keep working until `keys rotate` replaces them.
func TestSigningKeysSealedAtRest(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	kek, otherKEK := kekFile(t, 1), kekFile(t, 2)
	e := apptest.Start(t, app.Config{DataDir: dir, KeyEncryptionKeyFiles: []string{kek}})
	tok := e.AdminToken(t)
	if got := status(t, e, "GET", "/workspaces/v1/credentials", tok, nil); got != 200 {
		t.Fatalf("list with a token signed by a sealed key: %d", got)
	}
	keys, err := e.Node.Store.ListSigningKeys(ctx)
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	for _, k := range keys {
		if !token.Sealed(k.PrivateKey) {
			t.Errorf("key %s is stored in the clear", k.KID)
		}
	}
	open := func(kekPath string) error {
		n, err := app.Open(ctx, app.Config{DataDir: dir, Listen: "127.0.0.1:0", KeyEncryptionKeyFiles: []string{kekPath},
			Log: slog.New(slog.DiscardHandler), Stdout: io.Discard})
		if err == nil {
			n.Close()
		}
		return err
	}
	for name, path := range map[string]string{"without the key-encryption key": "", "with another one": otherKEK} {
		if err := open(path); err == nil || !strings.Contains(err.Error(), "key-encryption key") {
			t.Errorf("a node %s: %v, want a refusal naming the key-encryption key", name, err)
		}
	}
	if err := open(kek); err != nil {
		t.Errorf("a second node with the same key-encryption key: %v", err)
	}
}

func TestClearKeysKeepWorkingUnderAKeyEncryptionKey(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	kek := kekFile(t, 3)
	var old, addr string
	t.Run("first run, keys in the clear", func(t *testing.T) { // the node stops when this subtest ends
		first := apptest.Start(t, app.Config{DataDir: dir})
		old, addr = first.AdminToken(t), first.Node.Addr()
	})
	if t.Failed() {
		t.FailNow()
	}
	e, _ := apptest.Reopen(t, app.Config{DataDir: dir, Listen: addr, KeyEncryptionKeyFiles: []string{kek}})
	if !strings.Contains(e.Logs.String(), "stored unencrypted") {
		t.Errorf("no warning about the key in the clear in %s", e.Logs.String())
	}
	if got := status(t, e, "GET", "/workspaces/v1/credentials", old, nil); got != 200 {
		t.Errorf("a token of the clear key after the restart: %d", got)
	}
	sealer, err := token.LoadSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := token.Rotate(ctx, e.Node.Store, jose.ES256, time.Hour, time.Now(), sealer)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Node.Feed.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// The key of the first run stays in the clear (it verifies until it retires); the node
	// never signs with it under a key-encryption key: it sealed a new key when it started,
	// and the rotation's key is sealed too.
	oldKID := oaKid(t, old)
	keys, _ := e.Node.Store.ListSigningKeys(ctx)
	if len(keys) != 3 {
		t.Errorf("%d keys, want the clear one, the one sealed at start and the rotated one", len(keys))
	}
	for _, k := range keys {
		if token.Sealed(k.PrivateKey) != (k.KID != oldKID) {
			t.Errorf("key %s (the first run's: %v) sealed: %v", k.KID, k.KID == oldKID, token.Sealed(k.PrivateKey))
		}
	}
	if k := e.Node.Issuer.Keys.SignerKID(); k != kid {
		t.Errorf("signs with %s, want the rotated key %s", k, kid)
	}
	if got := status(t, e, "GET", "/workspaces/v1/credentials", old, nil); got != 200 {
		t.Errorf("a token of the clear key after the rotation (within the overlap): %d", got)
	}
}
