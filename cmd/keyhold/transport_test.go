package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// serve refuses an http:// base URL on a listener reachable from the network, naming the
// ways out, unless --allow-insecure-http; and TLS needs both files.
func TestServeRefusesInsecureHTTP(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:0", "--base-url", "http://iam.example.com"}, "--allow-insecure-http"},
		{[]string{"--listen", "127.0.0.1:0", "--tls-cert-file", "x.crt"}, "--tls-key-file"},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"serve", "--data-dir", filepath.Join(t.TempDir(), "d")}, c.args...)
		if code := run(args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 1 and a message naming %s", c.args, code, errOut.String(), c.want)
		}
	}
}
