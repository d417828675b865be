//go:build unix

package sqlite

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/keyhold/keyhold/internal/storage"
)

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// write makes SQLite create its write-ahead log and shared-memory files.
func write(t *testing.T, dir string) {
	t.Helper()
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RevokeToken(context.Background(), storage.RevokedToken{JTI: "j"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
		if got := perm(t, filepath.Join(dir, name)); got != FileMode {
			t.Errorf("%s while open: mode %04o, want 0600", name, got)
		}
	}
}

// The store holds signing keys and secret hashes. A new store in an existing 0755 directory
// (umask 022) used to leave the directory 0755 and make keyhold.db and its WAL 0644: the
// directory becomes 0700 and every file 0600. A store whose files were opened up later is
// restricted again when it is opened.
func TestStoreFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir)
	if got := perm(t, dir); got != DirMode {
		t.Errorf("data directory: mode %04o, want 0700", got)
	}
	if got := perm(t, filepath.Join(dir, FileName)); got != FileMode {
		t.Errorf("closed database: mode %04o, want 0600", got)
	}

	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, FileName), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := Tighten(dir)
	if err != nil || len(changed) != 2 || !strings.Contains(changed[0], "0755") || !strings.Contains(changed[1], FileName) {
		t.Errorf("Tighten: %q, %v; want the directory and the database named", changed, err)
	}
	if err := os.Chmod(filepath.Join(dir, FileName), 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, dir)
	if got := perm(t, filepath.Join(dir, FileName)); got != FileMode {
		t.Errorf("reopened database: mode %04o, want 0600", got)
	}
}

// A backup holds what the store holds: it is written 0600 whatever the umask, and an existing
// file is never overwritten.
func TestBackupIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RevokeToken(ctx, storage.RevokedToken{JTI: "kept"}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := Backup(ctx, s.DB(), out); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, out); got != FileMode {
		t.Errorf("backup: mode %04o, want 0600", got)
	}
	b, err := OpenFile(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.GetRevokedToken(ctx, "kept"); err != nil {
		t.Errorf("the backup lacks the data: %v", err)
	}
	if err := Backup(ctx, s.DB(), out); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second backup to the same file: %v", err)
	}
}
