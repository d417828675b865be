package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
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

// healthcheck exits 0 only for a 200, and 1 for anything else (another status, nothing
// listening, a redirect), naming the reason.
func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusOK)
		case "/readyz":
			http.Error(w, "loading", http.StatusServiceUnavailable)
		default:
			http.Redirect(w, r, "/healthz", http.StatusFound)
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"healthcheck", "--url", srv.URL + "/healthz"}, 0, ""},
		{[]string{"healthcheck", "--url", srv.URL + "/readyz"}, 1, "answered 503: loading"},
		{[]string{"healthcheck", "--url", srv.URL + "/elsewhere"}, 1, "answered 302"},
		{[]string{"healthcheck", "--url", closed.URL + "/healthz"}, 1, "connection refused"},
		{[]string{"healthcheck", "--url", "127.0.0.1:8080/healthz"}, 1, "absolute http or https URL"},
		{[]string{"healthcheck", "--url", srv.URL, "--timeout", "0s"}, 1, "--timeout must be positive"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, &out, &errOut); code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, errOut.String(), c.code, c.want)
		}
	}
}
