package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// The store holds signing keys (in the clear unless a key-encryption key seals them) and
// secret hashes: only the user keyhold runs as may read it. The data directory is kept 0700
// and the files in it 0600. keyhold tightens what it finds broader (the directory and files
// are its own) and refuses to open the store when it cannot.
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// storeFiles are the files SQLite keeps beside the database: the write-ahead log, its
// shared-memory index and a rollback journal.
var storeFiles = []string{FileName, FileName + "-wal", FileName + "-shm", FileName + "-journal"}

// Tighten gives the data directory mode 0700 and the store's files mode 0600 where they are
// broader, and reports each change made (for the log). It fails, naming the chmod to run,
// when a mode cannot be changed (the directory belongs to another user, say). File modes
// mean nothing on Windows, where it does nothing.
func Tighten(dataDir string) ([]string, error) {
	if runtime.GOOS == "windows" {
		return nil, nil
	}
	var changed []string
	note, err := tighten(dataDir, DirMode, "700")
	if err != nil {
		return nil, err
	}
	if note != "" {
		changed = append(changed, note)
	}
	for _, name := range storeFiles {
		note, err := tighten(filepath.Join(dataDir, name), FileMode, "600")
		if err != nil {
			return changed, err
		}
		if note != "" {
			changed = append(changed, note)
		}
	}
	return changed, nil
}

// tighten clears the permission bits of path beyond want; a missing path is fine.
func tighten(path string, want fs.FileMode, chmod string) (string, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if fi, err = os.Stat(path); err != nil {
			return "", err
		}
	}
	perm := fi.Mode().Perm()
	if perm&^want == 0 {
		return "", nil
	}
	if err := os.Chmod(path, perm&want); err != nil {
		return "", fmt.Errorf("%s is mode %04o, open to other users, and keyhold cannot restrict it: %w; run `chmod %s %s` as its owner",
			path, perm, err, chmod, path)
	}
	return fmt.Sprintf("%s: mode %04o restricted to %04o", path, perm, perm&want), nil
}

// createPrivate creates an empty file at path with mode 0600, failing if it exists. SQLite
// creates the write-ahead log and shared-memory files with the database file's mode, so a
// database created this way keeps all three private whatever the umask.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return err
	}
	return f.Close()
}
