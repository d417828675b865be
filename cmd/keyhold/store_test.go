package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
)

// A command other than serve on a data directory without a store (a typo) used to create a
// new, empty store and exit 0: a backup of nothing, a workspace nobody's server reads. Each
// now fails, names the path and the flag, and creates nothing.
func TestCommandsRefuseAMissingStore(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "backup.db")
	for _, args := range [][]string{
		{"backup", "--data-dir", "./keyhold-dta", "--out", out},
		{"workspace", "create", "--data-dir", "./keyhold-dta", "--name", "acme"},
		{"migrate", "--data-dir", "./keyhold-dta"},
		{"keys", "rotate", "--data-dir", "./keyhold-dta"},
		{"workspace", "create", "--name", "acme"}, // the default ./keyhold-data, run elsewhere
	} {
		r := runBinary(t, dir, nil, args...)
		if r.code == 0 {
			t.Errorf("%q: exit 0 on a missing store; stdout %q", args, r.stdout)
			continue
		}
		if !strings.Contains(r.stderr, filepath.Join(dir, "keyhold-d")) || !strings.Contains(r.stderr, "--data-dir") ||
			!strings.Contains(r.stderr, "only `keyhold serve` creates a store") {
			t.Errorf("%q: the message names neither the path nor the flag: %q", args, r.stderr)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("the commands created %v", entries)
	}
}

// A store that serve made is found by the other commands, and serve says in its log that
// it created one.
func TestServeCreatesTheStoreAndSaysSo(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	s := startServer(t, dir, nil, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	s.waitFor(t, "readiness", func() bool { code, _ := get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); return code == 200 })
	s.waitFor(t, "the log line about the new store", func() bool {
		return len(logLines(s.stderr.String(), "created a new store at "+filepath.Join(dir, "keyhold-data"))) == 1
	})
	if r := runBinary(t, dir, nil, "backup", "--out", "copy.db"); r.code != 0 {
		t.Errorf("backup of the store serve made: exit %d, %s", r.code, r.stderr)
	}
	s.stop(t)
	// A second start finds the store: it creates nothing and says nothing about creating.
	s2 := startServer(t, dir, nil, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	s2.waitFor(t, "readiness", func() bool { code, _ := get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); return code == 200 })
	s2.waitFor(t, "the serving log line", func() bool { return len(logLines(s2.stderr.String(), "keyhold is serving")) == 1 })
	if lines := logLines(s2.stderr.String(), "created a new store"); len(lines) != 0 {
		t.Errorf("the second start claims to have created a store: %q", lines)
	}
}

// On PostgreSQL an empty database (no keyhold tables) is a missing store for every command
// but serve, and the message hides the password.
func TestCommandsRefuseAnEmptyDatabase(t *testing.T) {
	db := pgtest.Database(t)
	withPassword := strings.Replace(db, "postgres@", "postgres:hunter2@", 1)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"workspace", "create", "--database", withPassword, "--name", "acme"},
		{"migrate", "--database", withPassword},
		{"keys", "rotate", "--database", withPassword},
	} {
		r := runBinary(t, dir, nil, args...)
		if r.code == 0 || !strings.Contains(r.stderr, "holds no keyhold store") || !strings.Contains(r.stderr, "--database") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "hunter2") {
			t.Errorf("%q: the message shows the password: %q", args, r.stderr)
		}
	}
	// Still empty: serve, which alone creates stores, finds none there.
	port := freePort(t)
	s := startServer(t, dir, nil, "--database", db, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	s.waitFor(t, "readiness", func() bool { code, _ := get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); return code == 200 })
	s.waitFor(t, "the log line about the new store", func() bool {
		return len(logLines(s.stderr.String(), "created a new store at")) == 1
	})
	if r := runBinary(t, dir, nil, "workspace", "create", "--database", db, "--name", "acme"); r.code != 0 {
		t.Errorf("workspace create on the store serve made: exit %d, %s", r.code, r.stderr)
	}
}
