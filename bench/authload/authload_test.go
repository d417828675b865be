package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/bench/internal/repo"
)

// TestAgainstKeyhold runs each mode for a second against a keyhold node started here (built
// from the repository, or KEYHOLD_BIN) on a fresh SQLite data directory, and wants no error;
// dpop also against a node started with --dpop-nonce off (keyhold's default requires nonces).
func TestAgainstKeyhold(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts keyhold; skipped with -short")
	}
	bin := keyholdBinary(t)
	boot := startKeyhold(t, bin)
	noNonce := startKeyhold(t, bin, "--dpop-nonce", "off")
	for _, tc := range []struct {
		name, mode, alg string
		boot            bootstrapLine
		nonce           bool
	}{
		{ModePrivateKeyJWT, ModePrivateKeyJWT, "ES256", boot, false},
		{ModeDPoP, ModeDPoP, "EdDSA", boot, true},
		{"dpop-without-nonces", ModeDPoP, "ES256", noNonce, false},
		{ModeSecret, ModeSecret, "", boot, false},
	} {
		boot := tc.boot
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Mode: tc.mode, URL: boot.TokenURL, Alg: tc.alg, Conns: 4, Duration: time.Second,
				Warmup: 0, Rate: 2000, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret}
			res, err := Run(context.Background(), cfg, testWriter{t})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			res.Report(&out, cfg)
			t.Log(out.String())
			if res.Requests == 0 || res.Errors() != 0 {
				t.Fatalf("%d requests, %d errors (want some, and none)", res.Requests, res.Errors())
			}
			if tc.mode == ModeDPoP && res.NonceRequired != tc.nonce {
				t.Errorf("nonce required: %v, want %v", res.NonceRequired, tc.nonce)
			}
			for _, want := range []string{"Requests/sec:", "  50% ", "  90% ", "  99% ", "bench: non-2xx responses: 0"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the report lacks %q", want)
				}
			}
		})
	}
}

// TestDPoPNonces runs the dpop mode against a token endpoint that requires nonces and
// changes its nonce during the run, refusing the previous one: authload must fetch the
// nonce before signing, follow the change, and send every jti once.
func TestDPoPNonces(t *testing.T) {
	var (
		mu      sync.Mutex
		nonce   = "n-1"
		served  int
		seen    = map[string]bool{}
		refused int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		jws, err := jose.ParseSignedCompact(r.Header.Get("DPoP"), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil || len(jws.Signatures) != 1 || jws.Signatures[0].Protected.JSONWebKey == nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_dpop_proof"}`)
			return
		}
		payload, err := jws.Verify(jws.Signatures[0].Protected.JSONWebKey)
		var c proofClaims
		if err != nil || json.Unmarshal(payload, &c) != nil || c.HTM != "POST" || !strings.HasSuffix(c.HTU, "/token") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_dpop_proof"}`)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if c.Nonce != nonce {
			refused++
			w.Header().Set("DPoP-Nonce", nonce)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"use_dpop_nonce","error_description":"use the nonce"}`)
			return
		}
		if seen[c.JTI] {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_dpop_proof","error_description":"replayed"}`)
			return
		}
		seen[c.JTI] = true
		if served++; served == 300 {
			nonce = "n-2" // from now on the first nonce is refused
		}
		fmt.Fprint(w, `{"access_token":"x","token_type":"DPoP","expires_in":900}`)
	}))
	defer srv.Close()

	cfg := Config{Mode: ModeDPoP, URL: srv.URL + "/token", Alg: "ES256", Conns: 2, Duration: time.Second,
		Rate: 1000, ClientID: "c", ClientSecret: "s"}
	res, err := Run(context.Background(), cfg, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res.Report(&out, cfg)
	t.Log(out.String())
	mu.Lock()
	defer mu.Unlock()
	if !res.NonceRequired || res.Errors() != 0 || res.Requests == 0 {
		t.Fatalf("nonce required %v, %d requests, %d errors (want true, some, none)", res.NonceRequired, res.Requests, res.Errors())
	}
	if served > 300 && (res.NonceRetries == 0 || res.Stale == 0) {
		t.Errorf("the nonce changed after 300 tokens, yet %d requests were sent again and %d proofs discarded", res.NonceRetries, res.Stale)
	}
	if refused > 1+2*cfg.Conns+int(res.NonceRetries) {
		t.Errorf("%d nonce refusals for %d retries: proofs with a refused nonce were sent", refused, res.NonceRetries)
	}
}

// TestUnsupported: a server that answers a DPoP request with a Bearer token (a keyhold older
// than DPoP) is ErrUnsupported, which bench/run.sh skips instead of stopping the run.
func TestUnsupported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"x","token_type":"Bearer","expires_in":900}`)
	}))
	defer srv.Close()
	cfg := Config{Mode: ModeDPoP, URL: srv.URL + "/token", Conns: 1, Duration: time.Second, ClientID: "c", ClientSecret: "s"}
	if _, err := Run(context.Background(), cfg, io.Discard); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
}

func TestPercentileAndRequest(t *testing.T) {
	lat := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]time.Duration{0.5: 5, 0.9: 9, 0.99: 10, 1: 10} {
		if got := percentile(lat, q); got != want {
			t.Errorf("percentile(%v) = %v, want %v", q, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("the percentile of nothing is not 0")
	}
	tg := &target{mode: ModePrivateKeyJWT, head: []byte("POST /t HTTP/1.1\r\nHost: h\r\n"), body: []byte("a=b&client_assertion=")}
	req := string(tg.request(nil, item{jwt: "x.y.z"}))
	if !strings.HasSuffix(req, "Content-Length: 26\r\n\r\na=b&client_assertion=x.y.z") {
		t.Errorf("request %q", req)
	}
	for _, bad := range []Config{
		{Mode: "nope", URL: "http://127.0.0.1:1/t", ClientID: "c", ClientSecret: "s", Conns: 1, Duration: time.Second},
		{Mode: ModeSecret, URL: "http://10.0.0.1/t", ClientID: "c", ClientSecret: "s", Conns: 1, Duration: time.Second},
		{Mode: ModeSecret, URL: "https://127.0.0.1/t", ClientID: "c", ClientSecret: "s", Conns: 1, Duration: time.Second},
		{Mode: ModeSecret, URL: "http://127.0.0.1/t", Conns: 1, Duration: time.Second},
	} {
		if _, err := bad.check(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// bootstrapLine is keyhold's first-start line.
type bootstrapLine struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	TokenURL     string `json:"tokenUrl"`
}

// keyholdBinary is KEYHOLD_BIN, or cmd/keyhold built from the repository.
func keyholdBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("KEYHOLD_BIN"); bin != "" {
		return bin
	}
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "keyhold")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/keyhold")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/keyhold: %v\n%s", err, out)
	}
	return bin
}

// startKeyhold starts `keyhold serve` (with args added) on a free loopback port and a fresh
// data directory, stopped when the test ends, and returns its first-start line.
func startKeyhold(t *testing.T, bin string, args ...string) bootstrapLine {
	t.Helper()
	tmp := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--data-dir", filepath.Join(tmp, "data"), "--log-level", "warn"}, args...)...)
	// Shedding by delay off, as bench/run.sh runs it: a busy test machine must not turn
	// requests into 503s.
	cmd.Env = append(os.Environ(), "KEYHOLD_SHED_DELAY=0s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	var boot bootstrapLine
	deadline := time.After(60 * time.Second)
	for boot.ClientSecret == "" {
		select {
		case l := <-lines:
			_ = json.Unmarshal([]byte(l), &boot)
		case <-exited:
			t.Fatalf("keyhold exited: %s", stderr.String())
		case <-deadline:
			t.Fatalf("keyhold printed no first-start line: %s", stderr.String())
		}
	}
	for range 300 {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return boot
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("keyhold not ready: %s", stderr.String())
	return boot
}
