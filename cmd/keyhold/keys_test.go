package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/token"
)

// kek writes a key-encryption key file of byte b, mode 0600.
func kek(t *testing.T, b byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(p, []byte(hex.EncodeToString(bytes.Repeat([]byte{b}, token.KEKSize))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newStore makes a store in a fresh data directory as `serve` does, and stops.
func newStore(t *testing.T, kekFiles ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	n, err := app.Open(context.Background(), app.Config{DataDir: dir, Listen: "127.0.0.1:0", KeyEncryptionKeyFiles: kekFiles,
		Log: slog.New(slog.DiscardHandler), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func signingKeys(t *testing.T, dir string) []storage.SigningKey {
	t.Helper()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := st.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// keyhold runs the command line and returns the exit code, stdout and stderr.
func keyhold(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// `keys rotate` without the key-encryption key, on a store whose keys are sealed, stored the
// new key in the clear (exit 0) and the nodes signed with it. It is refused now, as is a
// key-encryption key that cannot open the keys in use (a typo, or one the nodes do not run
// with: the new key would wedge them); the store is left unchanged.
func TestKeysRotateRefusesAMissingOrWrongKeyEncryptionKey(t *testing.T) {
	k1, k2 := kek(t, 1), kek(t, 2)
	dir := newStore(t, k1)
	before := signingKeys(t, dir)
	for name, args := range map[string][]string{
		"without it":  {"keys", "rotate", "--data-dir", dir},
		"another one": {"keys", "rotate", "--data-dir", dir, "--key-encryption-key-file", k2},
	} {
		code, out, errOut := keyhold(args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "--key-encryption-key-file") || !strings.Contains(errOut, before[0].KID) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want a refusal naming the key and the flag", name, code, out, errOut)
		}
		if got := signingKeys(t, dir); len(got) != len(before) {
			t.Fatalf("%s: the refused rotation stored a key: %d keys", name, len(got))
		}
	}
	// Changing the key-encryption key: the new one seals, the old one opens the keys in use.
	code, out, errOut := keyhold("keys", "rotate", "--data-dir", dir, "--key-encryption-key-file", k2+","+k1)
	if code != 0 {
		t.Fatalf("new,old: exit %d, %s", code, errOut)
	}
	var res struct{ KID string }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, k := range signingKeys(t, dir) {
		if !token.Sealed(k.PrivateKey) {
			t.Errorf("key %s stored in the clear", k.KID)
		}
	}
	// A node of the new key-encryption key alone signs with the new key; the previous key,
	// which it cannot open, still verifies there from its public key.
	n, err := app.Open(context.Background(), app.Config{DataDir: dir, Listen: "127.0.0.1:0", KeyEncryptionKeyFiles: []string{k2},
		Log: slog.New(slog.DiscardHandler), Stdout: io.Discard})
	if err != nil {
		t.Fatalf("a node of the new key-encryption key: %v", err)
	}
	if kid := n.Issuer.Keys.SignerKID(); kid != res.KID {
		t.Errorf("signs with %s, want %s", kid, res.KID)
	}
	if _, ok := n.Issuer.Keys.Key(before[0].KID); !ok {
		t.Error("the previous key does not verify on a node that cannot open it")
	}
	n.Close()
	// A store whose keys are in the clear rotates without one, as before.
	clear := newStore(t)
	if code, _, errOut := keyhold("keys", "rotate", "--data-dir", clear); code != 0 {
		t.Errorf("a store in the clear: exit %d, %s", code, errOut)
	}
}

// `keys rotate --overlap 0s` (or anything shorter than the token lifetime) made outstanding
// tokens die at once. It is refused, naming the minimum: the token lifetime plus a minute.
func TestKeysRotateRefusesAnOverlapShorterThanTheTokenLifetime(t *testing.T) {
	dir := newStore(t)
	before := len(signingKeys(t, dir))
	for _, tc := range []struct {
		args []string
		min  string
	}{
		{[]string{"--overlap", "0s"}, "16m0s"}, // the lifetime the server recorded: 15m
		{[]string{"--overlap", "15m"}, "16m0s"},
		{[]string{"--overlap", "15m", "--token-ttl", "5m"}, "16m0s"}, // the recorded one is longer
		{[]string{"--overlap", "30m", "--token-ttl", "1h"}, "1h1m0s"},
	} {
		code, _, errOut := keyhold(append([]string{"keys", "rotate", "--data-dir", dir}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, "shorter than "+tc.min) {
			t.Errorf("%v: exit %d, stderr %q; want a refusal naming %s", tc.args, code, errOut, tc.min)
		}
	}
	if got := len(signingKeys(t, dir)); got != before {
		t.Fatalf("refused rotations stored keys: %d, want %d", got, before)
	}
	if code, _, errOut := keyhold("keys", "rotate", "--data-dir", dir, "--overlap", "16m"); code != 0 {
		t.Errorf("an overlap covering the token lifetime: exit %d, %s", code, errOut)
	}
	// A server running with --token-ttl 2h records it: the default overlap (1h) no longer
	// covers its tokens.
	long := filepath.Join(t.TempDir(), "data")
	n, err := app.Open(context.Background(), app.Config{DataDir: long, Listen: "127.0.0.1:0", TokenTTL: 2 * time.Hour,
		Log: slog.New(slog.DiscardHandler), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	if code, _, errOut := keyhold("keys", "rotate", "--data-dir", long); code != 1 || !strings.Contains(errOut, "shorter than 2h1m0s") || !strings.Contains(errOut, "recorded in the store") {
		t.Errorf("the default overlap under a 2h token lifetime: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := keyhold("keys", "rotate", "--data-dir", long, "--overlap", "3h"); code != 0 {
		t.Errorf("--overlap 3h under a 2h token lifetime: exit %d, %s", code, errOut)
	}
}

func tokenAlgKID(t *testing.T, tok string) (string, string) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg, h.Kid
}

func apiStatus(t *testing.T, e *apptest.Env, tok string) int {
	t.Helper()
	resp, _ := e.Do(t, http.MethodGet, "/workspaces/v1/credentials", tok, nil)
	return resp.StatusCode
}

// Changing the signing algorithm is a rolling operation. Two nodes share one store: a node
// started with another --signing-alg no longer replaces the store's key (which took the other
// nodes' signer away), and `keys rotate --signing-alg EdDSA` against ES256 nodes no longer
// stops issuance ("no active signing key" until restart): both sign with the new key at once,
// and both verify the tokens of the old key and of each other.
func TestChangingTheSigningAlgorithmOnTwoNodes(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	// Behind one load balancer, nodes share the public base URL (so the issuers).
	const public = "https://keyhold.example"
	a := apptest.Start(t, app.Config{DataDir: dir, SigningAlg: "ES256", BaseURL: public})
	b, _ := apptest.Reopen(t, app.Config{DataDir: dir, SigningAlg: "EdDSA", BaseURL: public})
	b.Admin = a.Admin
	a.Base, b.Base = "http://"+a.Node.Addr(), "http://"+b.Node.Addr()
	fromA, fromB := a.AdminToken(t), b.AdminToken(t)
	algA, kidA := tokenAlgKID(t, fromA)
	algB, kidB := tokenAlgKID(t, fromB)
	if algA != "ES256" || algB != "ES256" || kidA != kidB {
		t.Fatalf("before the rotation: A signs %s/%s, B (--signing-alg EdDSA) %s/%s; want both the store's ES256 key", algA, kidA, algB, kidB)
	}
	if got := len(signingKeys(t, dir)); got != 1 {
		t.Fatalf("starting a node with another algorithm changed the keys: %d", got)
	}

	code, out, errOut := keyhold("keys", "rotate", "--data-dir", dir, "--signing-alg", "EdDSA")
	if code != 0 {
		t.Fatalf("rotate: exit %d, %s", code, errOut)
	}
	var res struct{ KID string }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*apptest.Env{a, b} {
		if err := e.Node.Feed.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	newA, newB := a.AdminToken(t), b.AdminToken(t)
	for name, tok := range map[string]string{"A": newA, "B": newB} {
		if alg, kid := tokenAlgKID(t, tok); alg != "EdDSA" || kid != res.KID {
			t.Errorf("after the rotation %s signs %s/%s, want EdDSA/%s", name, alg, kid, res.KID)
		}
	}
	for name, e := range map[string]*apptest.Env{"A": a, "B": b} {
		for what, tok := range map[string]string{"A's ES256 token": fromA, "B's ES256 token": fromB, "A's EdDSA token": newA, "B's EdDSA token": newB} {
			if got := apiStatus(t, e, tok); got != http.StatusOK {
				t.Errorf("node %s, %s: %d", name, what, got)
			}
		}
	}
	// A node restarted with the old --signing-alg keeps the new key.
	c, _ := apptest.Reopen(t, app.Config{DataDir: dir, SigningAlg: "ES256", BaseURL: public})
	c.Admin, c.Base = a.Admin, "http://"+c.Node.Addr()
	if alg, kid := tokenAlgKID(t, c.AdminToken(t)); alg != "EdDSA" || kid != res.KID {
		t.Errorf("a node restarted with --signing-alg ES256 signs %s/%s", alg, kid)
	}
	if !strings.Contains(c.Logs.String(), "--signing-alg applies to a store without one") {
		t.Error("the restarted node did not say that --signing-alg does not apply")
	}
}
