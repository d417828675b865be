package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/storage/sqlite"
)

// Values that used to be replaced by defaults without a word (`--max-credentials-per-owner 0`,
// `--sync-interval 0s`) and out-of-range values are refused before anything starts, from a
// flag or a KEYHOLD_* variable alike, with a message naming the flag and the range.
func TestServeRefusesOutOfRangeValues(t *testing.T) {
	dir := t.TempDir()
	badCatalog := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(badCatalog, []byte("regions:\n  - {id: lab-1, name: Lab}\nserviceManagers:\n  - {id: nope, name: X, regions: [lab-1]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"--max-credentials-per-owner", "0"}, nil, "--max-credentials-per-owner 0: must be between 1 and 1000000"},
		{[]string{"--max-credentials-per-owner=-3"}, nil, "--max-credentials-per-owner -3: must be between 1 and 1000000"},
		{[]string{"--sync-interval", "0s"}, nil, "--sync-interval 0s: must be between 10ms and 1h"},
		{nil, []string{"KEYHOLD_SYNC_INTERVAL=0s"}, "--sync-interval 0s: must be between 10ms and 1h"},
		{[]string{"--token-ttl", "0s"}, nil, "--token-ttl 0s: must be between 1m and 24h"},
		{[]string{"--token-ttl", "48h"}, nil, "--token-ttl 48h: must be between 1m and 24h"},
		{[]string{"--shutdown-timeout", "0s"}, nil, "--shutdown-timeout 0s: must be between 1s and 1h"},
		{nil, []string{"KEYHOLD_MAX_CREDENTIALS_PER_OWNER=0"}, "--max-credentials-per-owner 0"},
		{[]string{"--token-cache-size", "0"}, nil, "--token-cache-size 0: must be between 1 and 100000000"},
		{nil, []string{"KEYHOLD_TOKEN_CACHE_SIZE=-1"}, "--token-cache-size -1: must be between 1 and 100000000"},
		{[]string{"--shed-delay", "500us"}, nil, "--shed-delay 500µs: must be between 1ms and 1s (0s: never shed by delay)"},
		{nil, []string{"KEYHOLD_SHED_DELAY=2s"}, "--shed-delay 2s: must be between 1ms and 1s"},
		{[]string{"--huge-pages", "sometimes"}, nil, `--huge-pages must be one of "auto","off" but got "sometimes"`},
		{nil, []string{"KEYHOLD_HUGE_PAGES=on"}, `--huge-pages must be one of "auto","off" but got "on"`},
		{[]string{"--service-catalog", badCatalog}, nil, `--service-catalog: service catalogue ` + badCatalog + `: serviceManagers[0].id: "nope" is not a UUID`},
		{nil, []string{"KEYHOLD_SERVICE_CATALOG=" + badCatalog + ".txt"}, "--service-catalog: service catalogue " + badCatalog + ".txt: the file name must end in .json, .yaml or .yml"},
	} {
		args := append([]string{"serve", "--listen", "127.0.0.1:0"}, c.args...)
		r := runBinary(t, dir, c.env, args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q %q: exit %d, stderr %q; want exit 2 and %q", c.env, c.args, r.code, r.stderr, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused serve created %v", entries)
	}
}

// A base URL without a scheme, or a listener on every address without a base URL, used to
// give issuers such as http://[::]:8080 or 127.0.0.1:8080/authorization/... silently.
func TestServeRefusesUnusableIssuerURLs(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", ":8080"}, "set --base-url"},
		{[]string{"--listen", "0.0.0.0:8080"}, "set --base-url"},
		{[]string{"--listen", "[::]:8080"}, "set --base-url"},
		{[]string{"--base-url", "127.0.0.1:8080"}, "must be an absolute http:// or https:// URL"},
		{[]string{"--base-url", "https://iam.example.com/?x=1"}, "must not have a query"},
		{[]string{"--base-url", "https://iam.example.com/#x"}, "must not have a fragment"},
		{[]string{"--base-url", "https://admin:pw@iam.example.com"}, "must not carry user information"},
	} {
		r := runBinary(t, dir, nil, append([]string{"serve"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if r := runBinary(t, dir, nil, "workspace", "create", "--name", "x", "--base-url", "iam.example.com"); r.code != 2 ||
		!strings.Contains(r.stderr, "must be an absolute http") {
		t.Errorf("workspace create with a base URL without scheme: exit %d, %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused command created %v", entries)
	}
}

// The store remembers the base URL the server runs with, so that `workspace create` prints
// issuers the server answers to, whatever its port, instead of the default :8080.
func TestWorkspaceCreatePrintsTheServersIssuer(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	// Every interface with an http:// base URL: plain HTTP off loopback must be allowed.
	s := startServer(t, dir, nil, "--listen", fmt.Sprintf(":%d", port), "--base-url", base+"/", "--allow-insecure-http")
	s.waitFor(t, "readiness", func() bool { code, _ := get(base + "/readyz"); return code == 200 })
	var boot struct{ Issuer string }
	if err := json.Unmarshal([]byte(s.stdout.String()), &boot); err != nil || !strings.HasPrefix(boot.Issuer, base+"/authorization/v2/oauth2/") {
		t.Fatalf("bootstrap issuer %q (%v)", boot.Issuer, err)
	}
	r := runBinary(t, dir, nil, "workspace", "create", "--name", "acme")
	if r.code != 0 {
		t.Fatalf("workspace create: exit %d, %s", r.code, r.stderr)
	}
	var created struct{ Issuer, TokenURL string }
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Issuer, base+"/authorization/v2/oauth2/") {
		t.Fatalf("workspace create printed the issuer %q; the server runs at %s", created.Issuer, base)
	}
	// The server answers to that issuer and names it in its metadata.
	code, body := get(created.Issuer + "/.well-known/openid-configuration")
	var meta struct{ Issuer string }
	if code != 200 || json.Unmarshal([]byte(body), &meta) != nil || meta.Issuer != created.Issuer {
		t.Errorf("metadata of %s: %d %s", created.Issuer, code, body)
	}
	// admin recover prints its credential's issuer from the same record.
	r = runBinary(t, dir, nil, "admin", "recover", "--workspace", "default")
	if r.code != 0 || !strings.Contains(r.stdout, `"issuer":"`+base+`/authorization/v2/oauth2/`) {
		t.Errorf("admin recover: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	// An explicit --base-url still wins (normalised).
	r = runBinary(t, dir, nil, "workspace", "create", "--name", "other", "--base-url", "https://iam.example.com/")
	if r.code != 0 || !strings.Contains(r.stdout, `"issuer":"https://iam.example.com/authorization/v2/oauth2/`) {
		t.Errorf("workspace create --base-url: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
}

// A store no server has started on since it learnt to record the base URL: workspace create
// says so instead of guessing.
func TestWorkspaceCreateWithoutARecordedBaseURL(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "keyhold-data")
	// Only serve creates a store; make one, then forget the base URL it recorded, as a store
	// older than the record is.
	port := freePort(t)
	s := startServer(t, dir, nil, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	s.waitFor(t, "readiness", func() bool { code, _ := get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); return code == 200 })
	s.stop(t)
	if err := deleteSetting(data, "base_url"); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, dir, nil, "workspace", "create", "--name", "acme")
	if r.code == 0 || !strings.Contains(r.stderr, "does not record the server's base URL") || !strings.Contains(r.stderr, "--base-url") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func deleteSetting(dataDir, name string) error {
	st, err := sqlite.Open(context.Background(), dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.DB().Exec(`DELETE FROM settings WHERE name = ?`, name)
	return err
}

// Empty values that the node used to replace by defaults behind the operator's back (an
// empty KEYHOLD_LISTEN or --data-dir meant 127.0.0.1:8080 and ./keyhold-data) are refused by
// every command that takes them.
func TestEmptyValuesAreRefused(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"serve", "--listen", ""}, nil, "--listen: must not be empty"},
		{[]string{"serve"}, []string{"KEYHOLD_LISTEN="}, "--listen: must not be empty"},
		{[]string{"serve", "--data-dir", ""}, nil, "--data-dir: must not be empty"},
		{[]string{"workspace", "create", "--name", "x", "--data-dir", ""}, nil, "--data-dir: must not be empty"},
		{[]string{"migrate", "--data-dir", ""}, nil, "--data-dir: must not be empty"},
		{[]string{"keys", "rotate", "--data-dir", ""}, nil, "--data-dir: must not be empty"},
		{[]string{"admin", "recover", "--workspace", "default", "--data-dir", ""}, nil, "--data-dir: must not be empty"},
		{[]string{"backup", "--data-dir", "", "--out", "b.db"}, nil, "--data-dir: must not be empty"},
	} {
		r := runBinary(t, dir, c.env, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q %q: exit %d, stderr %q; want exit 2 and %q", c.env, c.args, r.code, r.stderr, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused command created %v", entries)
	}
}
