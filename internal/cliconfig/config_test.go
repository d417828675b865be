package cliconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var good = Context{BaseURL: "http://127.0.0.1:8080", WorkspaceID: "01a24904c6737c23a6ce58d6200486b3",
	ClientID: "01a24904-c674-784e-a180-da475cbe98f0", ClientSecret: strings.Repeat("ab", 32)}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyhold", "config.json")
	cfg := &File{Current: "dev", Contexts: map[string]Context{"dev": good, "prod": good}}
	if err := Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	dst, _ := os.Stat(filepath.Dir(path))
	if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Fatalf("modes %04o %04o", st.Mode().Perm(), dst.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if name, c, err := got.Resolve(""); err != nil || name != "dev" || c != good {
		t.Fatalf("Resolve: %s %+v %v", name, c, err)
	}
	if names := got.Names(); strings.Join(names, ",") != "dev,prod" {
		t.Fatalf("Names: %v", names)
	}
	// Saving again replaces the file and leaves no temporary file behind.
	delete(got.Contexts, "prod")
	if err := Save(path, got); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries", len(entries))
	}
}

func TestLoadMissingIsEmpty(t *testing.T) {
	cfg, err := Load(filepath.Join(t.TempDir(), "none.json"))
	if err != nil || len(cfg.Contexts) != 0 {
		t.Fatalf("%+v %v", cfg, err)
	}
	if _, _, err := cfg.Resolve(""); err == nil || !strings.Contains(err.Error(), "not logged in") {
		t.Fatalf("Resolve on empty: %v", err)
	}
}

// ssh's rule: a file others may read or write, a symlink, a directory, are refused.
func TestLoadRefusesUnsafeFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := Save(path, &File{Contexts: map[string]Context{"a": good}}); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o620, 0o602, 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "too open") {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("mode 0400: %v", err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(link); err == nil {
		t.Error("a symlink was read")
	}
	if _, err := Load(dir); err == nil {
		t.Error("a directory was read")
	}
}

// Save refuses a directory others may write: they could replace the file.
func TestSaveRefusesWritableDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := Save(filepath.Join(dir, "config.json"), &File{Contexts: map[string]Context{}}); err == nil {
		t.Fatal("saved into a world-writable directory")
	}
}

// Bad files are refused with a message; the entries found by fuzzing stay here as cases.
func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{"contexts":{}} {}`, `{"unknown":1}`,
		`{"current":"x","contexts":{}}`,
		`{"contexts":{"bad name":{"baseUrl":"http://h","workspaceId":"w","clientId":"c","clientSecret":"s"}}}`,
		`{"contexts":{"a":{"baseUrl":"ftp://h","workspaceId":"w","clientId":"c","clientSecret":"s"}}}`,
		`{"contexts":{"a":{"baseUrl":"http://u:p@h","workspaceId":"w","clientId":"c","clientSecret":"s"}}}`,
		`{"contexts":{"a":{"baseUrl":"http://h?x=1","workspaceId":"w","clientId":"c","clientSecret":"s"}}}`,
		`{"contexts":{"a":{"baseUrl":"http://127.0.0.1","workspaceId":"w","clientId":"c","clientSecret":""}}}`,
		`{"contexts":{"a":{"baseUrl":"http://127.0.0.1","workspaceId":"w","clientId":"c d","clientSecret":"s"}}}`,
		`{"contexts":{"a":{"baseUrl":"http://iam.example.com","workspaceId":"w","clientId":"c","clientSecret":"s"}}}`,
		`{"contexts":{"a":{"baseUrl":"http://10.0.0.1:8080","workspaceId":"w","clientId":"c","clientSecret":"s"}}}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%s) accepted", in)
		}
	}
}

// Plain HTTP is for loopback, or for a context made with --allow-insecure-http.
func TestPlainHTTPOffLoopback(t *testing.T) {
	for base, ok := range map[string]bool{"http://127.0.0.1:8080": true, "http://localhost": true, "http://[::1]:8080": true,
		"https://iam.example.com": true, "http://iam.example.com": false, "http://10.1.2.3": false} {
		c := good
		c.BaseURL = base
		if err := c.Check(); (err == nil) != ok {
			t.Errorf("%s: %v", base, err)
		}
		c.AllowInsecureHTTP = true
		if err := c.Check(); err != nil {
			t.Errorf("%s with AllowInsecureHTTP: %v", base, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"current":"a","contexts":{"a":{"baseUrl":"http://127.0.0.1","workspaceId":"w","clientId":"c","clientSecret":"s"}}}`))
	f.Add([]byte(`{"contexts":{}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			return
		}
		// What is accepted resolves and is valid context by context.
		for _, n := range cfg.Names() {
			if CheckName(n) != nil || cfg.Contexts[n].Check() != nil {
				t.Fatalf("accepted an invalid context %q", n)
			}
		}
		if cfg.Current != "" {
			if _, _, err := cfg.Resolve(""); err != nil {
				t.Fatal(err)
			}
		}
	})
}
