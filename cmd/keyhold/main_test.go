package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Help for any command prints usage and stops: it must never go on to run the command
// (`keyhold serve --help` once started a server on the default data directory).
func TestHelpDoesNotRunTheCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		{"--help"},
		{"-h"},
		{"serve", "--help", "--data-dir", dir, "--listen", "127.0.0.1:0"},
		{"serve", "--data-dir", dir, "-h"},
		{"workspace", "create", "--help", "--data-dir", dir, "--name", "x"},
		{"migrate", "--help", "--data-dir", dir},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 0 {
			t.Errorf("%q: exit %d, stderr %s", args, code, errOut.String())
		}
		if !strings.Contains(out.String(), "Usage: keyhold") {
			t.Errorf("%q printed no usage: %q", args, out.String())
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("%q ran the command: %s exists", args, dir)
		}
	}
}

func TestBadArgumentsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--no-such-flag"},
		{"no-such-command"},
		{"serve", "--trusted-proxies", "not-an-address", "--data-dir", filepath.Join(t.TempDir(), "d"), "--listen", "127.0.0.1:0"},
	} {
		var out, errOut bytes.Buffer
		code := run(args, &out, &errOut)
		if code == 0 || !strings.HasPrefix(errOut.String(), "keyhold: ") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}
