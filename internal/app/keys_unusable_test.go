package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
	"github.com/keyhold/keyhold/internal/token"
)

// readyz returns /readyz's status and body.
func readyz(t *testing.T, e *apptest.Env) (int, map[string]any) {
	t.Helper()
	resp, body := e.Do(t, http.MethodGet, "/readyz", "", nil)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("readyz %s: %v", body, err)
	}
	return resp.StatusCode, m
}

// revokeStatus revokes tok at the admin's issuer and returns the status.
func revokeStatus(t *testing.T, e *apptest.Env, tok string) int {
	t.Helper()
	resp, _ := e.PostForm(t, oaIssuer(e, e.Admin.WorkspaceID)+"/revoke", url.Values{"token": {tok},
		"client_id": {e.Admin.ClientID}, "client_secret": {e.Admin.ClientSecret}})
	return resp.StatusCode
}

// The wedge of issue 10 item 1: a node runs with --key-encryption-key-file kek and a rotation
// seals the new key with kek2 (a node missed during a change of key-encryption key). The node
// used to fail every change-feed sync: credentials created answered 500 after committing,
// revocations 503 with the token still valid, later writes never seen. Now it skips the key it
// cannot open, reports it (log, metric, /readyz), signs with the previous key, verifies the
// new key's tokens from its public key, and the feed goes on.
func TestAKeyTheNodeCannotOpenDoesNotWedgeIt(t *testing.T) {
	ctx := context.Background()
	kek, kek2 := kekFile(t, 1), kekFile(t, 2)
	e := apptest.Start(t, app.Config{KeyEncryptionKeyFiles: []string{kek}})
	tok := e.AdminToken(t)
	oldKID := oaKid(t, tok)

	both, err := token.LoadSealer(kek2, kek)
	if err != nil {
		t.Fatal(err)
	}
	newKID, err := token.Rotate(ctx, e.Node.Store, jose.ES256, time.Hour, time.Now(), both)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Node.Feed.Sync(ctx); err != nil {
		t.Fatalf("a key the node cannot open failed the sync: %v", err)
	}
	c := createCred(t, e, tok, map[string]string{"credentialName": "after the rotation"})
	if c.ClientSecret == "" {
		t.Fatal("no secret in the answer")
	}
	if got, _ := credTokenStatus(t, e, e.Admin.WorkspaceID, c.ClientID, c.ClientSecret); got != http.StatusOK {
		t.Errorf("token of the new credential: %d", got)
	}
	fresh := e.AdminToken(t)
	if k := oaKid(t, fresh); k != oldKID {
		t.Errorf("signs with %s, want the previous key %s (the new one is sealed with another key-encryption key)", k, oldKID)
	}
	if got := revokeStatus(t, e, fresh); got != http.StatusOK {
		t.Errorf("revoke: %d", got)
	}
	if got := oaAPIStatus(t, e, fresh); got != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d, want 401", got)
	}

	code, body := readyz(t, e)
	keys, _ := body["signingKeys"].(map[string]any)
	if code != http.StatusOK || keys == nil || !strings.Contains(jsonText(t, keys["unusable"]), newKID) || keys["signer"] != oldKID {
		t.Errorf("readyz %d %v, want ready with the unusable key %s reported", code, body, newKID)
	}
	if got := oaMetric(t, e, "keyhold_signing_keys_unusable"); got != 1 {
		t.Errorf("keyhold_signing_keys_unusable %v", got)
	}
	if got := oaMetric(t, e, "keyhold_signing_key_usable"); got != 0 {
		t.Errorf("keyhold_signing_key_usable %v", got)
	}
	if !strings.Contains(e.Logs.String(), "signing key unusable on this node") {
		t.Error("nothing logged about the unusable key")
	}

	// A node holding kek2 signs with the new key; this node verifies those tokens (the sealed
	// key carries its public key).
	_, claims := oaJWTParts(t, tok)
	var cl token.Claims
	if err := json.Unmarshal([]byte(jsonText(t, claims)), &cl); err != nil {
		t.Fatal(err)
	}
	ks2 := token.NewKeySet(time.Now, both)
	if err := ks2.Load(ctx, e.Node.Store); err != nil {
		t.Fatal(err)
	}
	iss2 := *e.Node.Issuer
	iss2.Keys = ks2
	signed, err := iss2.Mint(&cl)
	if err != nil {
		t.Fatal(err)
	}
	if oaKid(t, signed) != newKID {
		t.Fatalf("the other node signed with %s", oaKid(t, signed))
	}
	if got := oaAPIStatus(t, e, signed); got != http.StatusOK {
		t.Errorf("a token of the key this node cannot open: %d, want 200 (verified by its public key)", got)
	}
}

// A write that has committed never answers an error because this node's views could not be
// updated right after it. A damaged record (a revocation whose expiry cannot be read, made by a
// trigger in the very transaction that writes it) fails the views' sync: the credential is
// still created (201 with its secret), a revocation still answers 200 and takes effect on this
// node at once, and after a few syncs the feed skips the damaged entry and reports it, so the
// writes after it reach the views.
func TestNoErrorAnswerAfterACommittedWrite(t *testing.T) {
	ctx := context.Background()
	e := apptest.Start(t, app.Config{SyncInterval: 50 * time.Millisecond})
	tok := e.AdminToken(t)
	victim := e.AdminToken(t)
	db := e.Node.Store.(*sqlstore.Store).DB()
	if _, err := db.ExecContext(ctx, `CREATE TRIGGER poison AFTER INSERT ON revoked_tokens WHEN NEW.jti = 'poison'
		BEGIN UPDATE revoked_tokens SET expires_at = 'not a time' WHERE jti = 'poison'; END`); err != nil {
		t.Fatal(err)
	}
	if err := e.Node.Store.RevokeToken(ctx, storage.RevokedToken{JTI: "poison", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := e.Node.Feed.Sync(ctx); err == nil {
		t.Fatal("the damaged record did not fail the sync: the test proves nothing")
	}
	resp, raw := e.Do(t, http.MethodPost, credsPath, tok, map[string]string{"credentialName": "committed"})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(raw), "clientSecret") {
		t.Fatalf("create while the views cannot sync: %d %s", resp.StatusCode, raw)
	}
	var c credResp
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if got := revokeStatus(t, e, victim); got != http.StatusOK {
		t.Errorf("revoke while the views cannot sync: %d", got)
	}
	if got := oaAPIStatus(t, e, victim); got != http.StatusUnauthorized {
		t.Errorf("the revoked token: %d, want 401 at once", got)
	}
	// The feed skips the damaged entry: the credential created after it works.
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, _ := credTokenStatus(t, e, e.Admin.WorkspaceID, c.ClientID, c.ClientSecret)
		if got == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the credential created after the damaged entry never worked: %d", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, body := readyz(t, e)
	if feed, _ := body["changeFeed"].(map[string]any); code != http.StatusOK || feed == nil || feed["skippedEntries"] != float64(1) ||
		!strings.Contains(jsonText(t, feed["lastSkipped"]), "poison") {
		t.Errorf("readyz %d %v, want the skipped entry reported", code, body)
	}
	if got := oaMetric(t, e, "keyhold_changefeed_skipped_entries_total"); got != 1 {
		t.Errorf("keyhold_changefeed_skipped_entries_total %v", got)
	}
	if got := oaMetric(t, e, "keyhold_sync_after_write_failures_total"); got < 1 {
		t.Errorf("keyhold_sync_after_write_failures_total %v", got)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Issue 9 item 9: `keys rotate` without the key-encryption key stored the new key in the
// clear and the running node, configured with one, signed with it. The command now refuses
// (cmd/keyhold); a key rotated in the clear anyway (by an older keyhold, straight into the
// store) is never this node's signer: it keeps signing with its sealed key and reports the
// clear one.
func TestANodeWithAKeyEncryptionKeyNeverSignsWithAClearKey(t *testing.T) {
	ctx := context.Background()
	e := apptest.Start(t, app.Config{KeyEncryptionKeyFiles: []string{kekFile(t, 4)}})
	sealedKID := oaKid(t, e.AdminToken(t))
	clearKID, err := token.Rotate(ctx, e.Node.Store, jose.ES256, time.Hour, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Node.Feed.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if k := oaKid(t, e.AdminToken(t)); k != sealedKID {
		t.Errorf("signs with %s after a rotation in the clear (%s), want the sealed key %s", k, clearKID, sealedKID)
	}
	code, body := readyz(t, e)
	keys, _ := body["signingKeys"].(map[string]any)
	if code != http.StatusOK || keys == nil || !strings.Contains(jsonText(t, keys["unusable"]), clearKID) {
		t.Errorf("readyz %d %v, want the clear key reported", code, body)
	}
}
