//go:build unix

package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/keyhold/keyhold/internal/token"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// Key material was readable by other local users: `serve` on an existing 0755 data directory
// left it 0755 and made keyhold.db and its WAL 0644, and `keyhold backup` wrote 0644 files
// (a backup was used to forge a token). With the real binary and umask 022: the directory
// becomes 0700 (logged), the database, its WAL and shared-memory files 0600, the backup 0600.
func TestServeAndBackupKeepKeyMaterialPrivate(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	defer syscall.Umask(syscall.Umask(0o022)) // the child inherits it
	s := startServer(t, work, nil, "--data-dir", data, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	s.waitFor(t, "readiness", func() bool { code, _ := get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); return code == 200 })
	if got := mode(t, data); got != 0o700 {
		t.Errorf("data directory: mode %04o, want 0700", got)
	}
	for _, name := range []string{"keyhold.db", "keyhold.db-wal", "keyhold.db-shm"} {
		if got := mode(t, filepath.Join(data, name)); got != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", name, got)
		}
	}
	if len(logLines(s.stderr.String(), "readable by other users")) == 0 {
		t.Errorf("nothing logged about the restricted directory:\n%s", s.stderr.String())
	}
	out := filepath.Join(work, "backup.db")
	if r := runBinary(t, work, nil, "backup", "--data-dir", data, "--out", out); r.code != 0 {
		t.Fatalf("backup: exit %d, %s", r.code, r.stderr)
	}
	if got := mode(t, out); got != 0o600 {
		t.Errorf("backup: mode %04o, want 0600", got)
	}
	s.stop(t)

	// Opened up by hand later: the next start restricts it again.
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(data, "keyhold.db"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, work, nil, "--data-dir", data, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	s.waitFor(t, "readiness after the restart", func() bool { code, _ := get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); return code == 200 })
	if got, db := mode(t, data), mode(t, filepath.Join(data, "keyhold.db")); got != 0o700 || db != 0o600 {
		t.Errorf("after the restart: directory %04o, database %04o", got, db)
	}
}

// A key-encryption key file readable by group or others was accepted. serve and keys rotate
// refuse it, as ssh refuses such a private key, naming the file and the chmod to run.
func TestKeyEncryptionKeyFileMustBePrivate(t *testing.T) {
	work := t.TempDir()
	kek := filepath.Join(work, "kek")
	if err := os.WriteFile(kek, []byte(hex.EncodeToString(bytes.Repeat([]byte{9}, token.KEKSize))), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(kek, 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(work, "data")
	for _, args := range [][]string{
		{"serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--key-encryption-key-file", kek},
		{"keys", "rotate", "--data-dir", data, "--key-encryption-key-file", kek},
	} {
		r := runBinary(t, work, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "chmod 600 "+kek) {
			t.Errorf("%s %s: exit %d, stderr %q; want a refusal naming `chmod 600 %s`", args[0], args[1], r.code, r.stderr, kek)
		}
	}
	if _, err := os.Stat(data); err == nil {
		t.Error("a refused serve created the store")
	}
}
