package app_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/tlscert/tlscerttest"
)

// tlsClient trusts only ca, speaks TLS versions min to max, and opens a new connection
// for every request (so that each one sees the certificate served at that moment).
func tlsClient(ca *tlscerttest.CA, min, max uint16) *http.Client {
	cfg := &tls.Config{MinVersion: min, MaxVersion: max, RootCAs: ca.Pool}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

// keyhold serves TLS natively: a client trusting the CA gets tokens over it; replacing the
// certificate files is picked up by new connections without a restart; TLS 1.1 is refused;
// the issuer and token URL are https.
func TestNativeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := tlscerttest.NewCA(t)
	ca.Write(t, "first", certFile, keyFile)
	e := apptest.Start(t, app.Config{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSCheckInterval: 50 * time.Millisecond})
	if !strings.HasPrefix(e.Base, "https://127.0.0.1:") || !strings.HasPrefix(e.Admin.TokenURL, "https://") {
		t.Fatalf("base URL %s, token URL %s: want https", e.Base, e.Admin.TokenURL)
	}
	c := tlsClient(ca, tls.VersionTLS12, tls.VersionTLS13)
	token := func() string {
		t.Helper()
		resp, err := c.PostForm(e.Admin.TokenURL, url.Values{"grant_type": {"client_credentials"},
			"client_id": {e.Admin.ClientID}, "client_secret": {e.Admin.ClientSecret}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.AccessToken == "" {
			t.Fatalf("token over TLS: %d %v", resp.StatusCode, err)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	if cn := token(); cn != "first" {
		t.Fatalf("served certificate %q", cn)
	}

	ca.Write(t, "second", certFile, keyFile)
	deadline := time.Now().Add(30 * time.Second)
	for token() != "second" {
		if time.Now().After(deadline) {
			t.Fatal("the replaced certificate was never served")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(e.Logs.String(), "TLS certificate reloaded") {
		t.Error("the reload was not logged")
	}

	// A broken pair keeps the current certificate (the files are looked at on handshakes).
	tlscerttest.WriteFiles(t, certFile, []byte("garbage"), keyFile, []byte("garbage"))
	for !strings.Contains(e.Logs.String(), "do not load") {
		if cn := token(); cn != "second" {
			t.Fatalf("after a broken rotation, served %q", cn)
		}
		if time.Now().After(deadline) {
			t.Fatal("the broken pair was never noticed")
		}
		time.Sleep(20 * time.Millisecond)
	}

	old := tlsClient(ca, tls.VersionTLS11, tls.VersionTLS11)
	if resp, err := old.Get(e.Base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a TLS 1.1 client was served")
	}
	// The server's complaint about it is a JSON log record, not a plain-text line.
	for !strings.Contains(e.Logs.String(), "TLS handshake error") {
		if time.Now().After(deadline) {
			t.Fatal("the refused handshake was not logged")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, line := range strings.Split(strings.TrimSpace(e.Logs.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("a log line is not JSON: %q", line)
		} else if strings.Contains(line, "TLS handshake error") && !strings.Contains(line, `"msg":"http server"`) {
			t.Errorf("the handshake error is not the server's Warn record: %s", line)
		}
	}
	// Plain HTTP on the TLS port gets no API answer.
	if resp, err := http.Get(strings.Replace(e.Base, "https://", "http://", 1) + "/healthz"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP on the TLS listener answered 200: %s", b)
		}
	}
}

// An http:// base URL on a listener reachable from the network is refused unless allowed;
// loopback listeners, https base URLs (a TLS-terminating proxy in front) and TLS with an
// http base URL behave as documented.
func TestInsecureHTTPRefused(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	tlscerttest.NewCA(t).Write(t, "server", certFile, keyFile)
	for _, c := range []struct {
		name string
		cfg  app.Config
		want string // "" for accepted
	}{
		{"all interfaces, http base", app.Config{Listen: "0.0.0.0:0", BaseURL: "http://iam.example.com"}, "in the clear"},
		{"all interfaces, no host, http base", app.Config{Listen: ":0", BaseURL: "http://iam.example.com"}, "in the clear"},
		{"IPv6 any, http base", app.Config{Listen: "[::]:0", BaseURL: "HTTP://iam.example.com"}, "in the clear"},
		{"allowed", app.Config{Listen: "0.0.0.0:0", BaseURL: "http://iam.example.com", AllowInsecureHTTP: true}, ""},
		{"behind a TLS proxy", app.Config{Listen: "0.0.0.0:0", BaseURL: "https://iam.example.com"}, ""},
		{"loopback", app.Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1"}, ""},
		{"localhost", app.Config{Listen: "localhost:0"}, ""},
		{"IPv6 loopback", app.Config{Listen: "[::1]:0"}, ""},
		{"native TLS", app.Config{Listen: "0.0.0.0:0", BaseURL: "https://iam.example.com", TLSCertFile: certFile, TLSKeyFile: keyFile}, ""},
		{"TLS with an http base", app.Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1", TLSCertFile: certFile, TLSKeyFile: keyFile}, "https://"},
		{"certificate without key", app.Config{Listen: "127.0.0.1:0", TLSCertFile: certFile}, "both"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.DataDir = t.TempDir()
			n, err := app.Open(context.Background(), cfg)
			if n != nil {
				n.Close()
			}
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// With --metrics-listen, /metrics is served there alone and the public listener answers 404.
func TestMetricsListen(t *testing.T) {
	e := apptest.Start(t, app.Config{MetricsListen: "127.0.0.1:0"})
	resp, err := http.Get(e.Base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || strings.Contains(string(b), "keyhold_") {
		t.Errorf("public /metrics: %d %.200s", resp.StatusCode, b)
	}
	private := "http://" + e.Node.MetricsAddr()
	if body := getText(t, private+"/metrics"); !strings.Contains(body, "keyhold_http_requests_total") {
		t.Errorf("private /metrics lacks keyhold's metrics: %.300s", body)
	}
	for _, path := range []string{"/healthz", "/workspaces/v1/credentials", "/"} {
		resp, err := http.Get(private + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("metrics listener %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, err := http.Get(e.Base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("public /healthz: %v", err)
	}
}
