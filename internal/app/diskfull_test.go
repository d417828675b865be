//go:build linux

package app_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to check the store afterwards

	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
)

// TestBinaryDiskFull runs the real binary on a 20 MiB tmpfs and fills it: writes answer 503
// with Retry-After in the API's error format (never 500), reads, token issuance and decisions
// go on from memory, the store is intact, and writes succeed again once space returns.
//
// It needs to mount a filesystem (root, or CAP_SYS_ADMIN). Without that it is skipped, except
// when CI is set: CI runs as root, so there the test must run.
func TestBinaryDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the keyhold binary on a small filesystem; skipped with -short")
	}
	mnt := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=20m,mode=0700"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the disk-full test, but mounting a tmpfs failed: %v", err)
		}
		t.Skipf("mounting a tmpfs needs root or CAP_SYS_ADMIN: %v", err)
	}
	// Cleanups run last-in first-out: this one runs after the node registered below stopped.
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	bin := buildKeyhold(t)
	dataDir := filepath.Join(mnt, "data")
	p := startKeyhold(t, bin, dataDir, "", "--max-credentials-per-owner", "1000")
	boot := p.bootstrap(t)
	e := &apptest.Env{Base: p.base, Admin: boot}
	tok := e.AdminToken(t)
	before := createCred(t, e, tok, map[string]string{"credentialName": "made before the disk filled"})
	dbPath := filepath.Join(dataDir, sqlite.FileName)

	// An empty WAL, then a full disk: the next write needs space the filesystem no longer has.
	checkpoint(t, dbPath)
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)

	// Writes: 503 with Retry-After, the GreenLake error body, and nothing stored. A write may
	// still find room in pages SQLite already holds; it must then succeed (201), nothing else.
	var refused []string
	for i := 0; i < 200 && len(refused) < 5; i++ {
		name := fmt.Sprintf("attempt %d on a full disk", i)
		resp, raw := e.Do(t, http.MethodPost, credsPath, tok, map[string]string{"credentialName": name})
		switch resp.StatusCode {
		case http.StatusCreated:
		case http.StatusServiceUnavailable:
			wantUnavailable(t, resp, raw)
			refused = append(refused, name)
		default:
			t.Fatalf("create on a full disk: %d %s; log:\n%s", resp.StatusCode, raw, p.stderr)
		}
	}
	if len(refused) == 0 {
		t.Fatalf("200 credential writes on a full disk all succeeded")
	}
	resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+before.ID+"/reset", tok, nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("reset on a full disk: %d %s", resp.StatusCode, raw)
	}
	wantUnavailable(t, resp, raw)
	if !strings.Contains(p.stderr.String(), "full") {
		t.Errorf("the log does not say the disk is full:\n%s", p.stderr)
	}

	// Reads, tokens and decisions are served from memory.
	if st, code := credTokenStatus(t, e, boot.WorkspaceID, before.ID, before.ClientSecret); st != http.StatusOK {
		t.Errorf("token for a credential on a full disk: %d %s", st, code)
	}
	tok2 := e.AdminToken(t)
	l, _ := listCreds(t, e, tok2, "")
	for _, it := range l.Items {
		for _, name := range refused {
			if it.CredentialName == name {
				t.Errorf("a write answered 503 is listed: %q", name)
			}
		}
	}
	decision := map[string]any{"subject": map[string]string{"type": "user", "id": boot.UserID},
		"action":   map[string]string{"name": "glp.workspace.view"},
		"resource": map[string]string{"type": "workspace", "id": "grn:glp/workspaces/" + strings.ReplaceAll(boot.WorkspaceID, "-", "")}}
	if resp, raw := e.Do(t, http.MethodPost, "/access/v1/evaluation", tok2, decision); resp.StatusCode != http.StatusOK ||
		!strings.Contains(string(raw), `"decision":true`) {
		t.Errorf("decision on a full disk: %d %s", resp.StatusCode, raw)
	}
	for _, path := range []string{"/healthz", "/.well-known/jwks.json"} {
		if resp, raw := e.Do(t, http.MethodGet, path, "", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s on a full disk: %d %s", path, resp.StatusCode, raw)
		}
	}

	// Space returns: writes succeed again, without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	after := createCred(t, e, tok2, map[string]string{"credentialName": "made after space returned"})
	resp, raw = e.Do(t, http.MethodPost, credsPath+"/"+before.ID+"/reset", tok2, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset after space returned: %d %s", resp.StatusCode, raw)
	}
	var reset credResp
	if err := json.Unmarshal(raw, &reset); err != nil {
		t.Fatal(err)
	}
	if st, code := credTokenStatus(t, e, boot.WorkspaceID, before.ID, reset.ClientSecret); st != http.StatusOK {
		t.Errorf("token with the secret reset after space returned: %d %s", st, code)
	}

	// The store is intact, and holds what was acknowledged and nothing that was refused.
	p.kill(t, syscall.SIGTERM)
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after the disk was full: %q %v", check, err)
	}
	for id, want := range map[string]int{before.ID: 1, after.ID: 1} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM credentials WHERE id = ?`, id).Scan(&n); err != nil || n != want {
			t.Errorf("credential %s: %d rows (%v), want %d", id, n, err, want)
		}
	}
	for _, name := range refused {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM credentials WHERE name = ?`, name).Scan(&n); err != nil || n != 0 {
			t.Errorf("refused write %q: %d rows stored (%v)", name, n, err)
		}
	}
}

// wantUnavailable checks a storage-unavailable answer: 503, Retry-After, GreenLake's body.
func wantUnavailable(t *testing.T, resp *http.Response, raw []byte) {
	t.Helper()
	var body struct {
		HTTPStatusCode int    `json:"httpStatusCode"`
		ErrorCode      string `json:"errorCode"`
		Message        string `json:"message"`
		DebugID        string `json:"debugId"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("503 body %s: %v", raw, err)
	}
	if body.HTTPStatusCode != http.StatusServiceUnavailable || body.ErrorCode != "HPE_GL_ERROR_SERVICE_UNAVAILABLE" ||
		body.DebugID == "" || !strings.Contains(body.Message, "retry") {
		t.Errorf("503 body: %s", raw)
	}
	if strings.Contains(string(raw), "disk") || strings.Contains(string(raw), "SQL") {
		t.Errorf("the 503 body shows internal detail: %s", raw)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After: %v", resp.Header)
	}
}

// checkpoint empties the WAL of the live database, so that the next write must grow it.
func checkpoint(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 50 {
		var busy, frames, done int
		if err := db.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the WAL could not be checkpointed")
}

// fill writes to path until the filesystem has no space left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for size := len(buf); size > 0; {
		_, err := f.Write(buf[:size])
		switch {
		case errors.Is(err, syscall.ENOSPC):
			size /= 2 // the last pages, down to a single byte
		case err != nil && !errors.Is(err, io.ErrShortWrite):
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
}
