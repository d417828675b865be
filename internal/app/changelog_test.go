package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/storage"
)

// TestNodeBehindCompactedLogReloads: two nodes on one SQLite file. The second stops following
// the log (its poll is an hour away) while the first creates a credential and revokes a token,
// and the log is compacted past the second node's position. Its next sync finds the hole,
// reloads every view, and it then refuses the revoked token and accepts the new credential.
func TestNodeBehindCompactedLogReloads(t *testing.T) {
	ctx := context.Background()
	cfg := app.Config{DataDir: t.TempDir(), SyncInterval: time.Hour, ChangeRetention: 31 * time.Hour}
	a := apptest.Start(t, cfg)
	b, _ := apptest.Reopen(t, cfg)
	b.Admin = a.Admin
	adminTok := b.AdminToken(t) // known to both nodes

	if resp, _ := b.Do(t, http.MethodGet, "/workspaces/v1/credentials", adminTok, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("b: %d", resp.StatusCode)
	}
	seqBefore := b.Node.Feed.Seq()

	// Node a: a new credential, the revocation of the token b handed out, another credential.
	resp, body := a.Do(t, http.MethodPost, "/workspaces/v1/credentials", a.AdminToken(t), map[string]string{"credentialName": "late"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create on a: %d %s", resp.StatusCode, body)
	}
	var cred struct{ ClientID, ClientSecret string }
	if err := json.Unmarshal(body, &cred); err != nil {
		t.Fatal(err)
	}
	// The nodes have different base URLs (each its own issuer), so b's token is revoked in the
	// store as b's own /revoke would revoke it; a second credential follows.
	claims := claimsOf(t, adminTok)
	jti, _ := claims["jti"].(string)
	exp, _ := claims["exp"].(float64)
	if err := a.Node.Store.RevokeToken(ctx, storage.RevokedToken{JTI: jti, ExpiresAt: time.Unix(int64(exp), 0)}); err != nil {
		t.Fatal(err)
	}
	resp, body = a.Do(t, http.MethodPost, "/workspaces/v1/credentials", a.AdminToken(t), map[string]string{"credentialName": "later"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create on a: %d %s", resp.StatusCode, body)
	}
	// Compact everything but the newest entry, as a retention long past would.
	deleted, err := a.Node.Store.CompactChanges(ctx, time.Now().Add(time.Hour))
	if err != nil || deleted == 0 {
		t.Fatalf("compaction: %d deleted, %v", deleted, err)
	}
	if b.Node.Feed.Seq() != seqBefore {
		t.Fatalf("b followed the log (seq %d -> %d) though its poll is an hour away", seqBefore, b.Node.Feed.Seq())
	}
	if err := b.Node.Feed.Sync(ctx); err != nil { // what b's next poll does
		t.Fatal(err)
	}
	latest, err := b.Node.Store.LatestSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.Node.Feed.Reloads() != 1 || b.Node.Feed.Seq() != latest || seqBefore >= latest {
		t.Fatalf("b: reloads %d, seq %d -> %d, latest %d", b.Node.Feed.Reloads(), seqBefore, b.Node.Feed.Seq(), latest)
	}
	if resp, body := b.Do(t, http.MethodGet, "/workspaces/v1/credentials", adminTok, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("b accepts the token revoked on a after reloading: %d %s", resp.StatusCode, body)
	}
	b.Token(t, a.Admin.WorkspaceID, cred.ClientID, cred.ClientSecret)

	// /metrics reports the log's extent and the reload.
	mresp, err := http.Get(b.Base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{"keyhold_change_log_rows 1\n", "keyhold_changefeed_reloads_total 1\n", "keyhold_change_log_oldest_seq "} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestChangeRetentionBounds: a retention shorter than a minute is refused, naming the
// minimum; one shorter than 30 sync intervals is accepted with a warning.
func TestChangeRetentionBounds(t *testing.T) {
	_, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0",
		ChangeRetention: 30 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "--change-retention 30s: must be between 1m and 720h") {
		t.Errorf("retention 30s: %v, want a refusal naming 1m", err)
	}
	e := apptest.Start(t, app.Config{ChangeRetention: 5 * time.Minute, SyncInterval: 20 * time.Second})
	if !strings.Contains(e.Logs.String(), "fewer than 30 sync intervals") {
		t.Errorf("no warning for a retention of 15 sync intervals; logs:\n%s", e.Logs.String())
	}
}
