package tlscert

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/tlscert/tlscerttest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clock is a settable time for the reloader's interval.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func cn(t *testing.T, r *Reloader) string {
	t.Helper()
	c, err := r.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.Subject.CommonName
}

// The files are looked at no more often than the interval; a changed pair is served from
// then on; a pair that does not load (a new certificate before its key, a broken key, an
// expired certificate) is logged and the previous one kept; a good pair then loads again.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := tlscerttest.NewCA(t)
	ca.Write(t, "first", certFile, keyFile)
	var logs syncBuffer
	r, err := New(certFile, keyFile, time.Minute, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now()}
	r.now = clk.Now
	r.nextCheck.Store(clk.Now().Add(time.Minute).UnixNano())
	if got := cn(t, r); got != "first" {
		t.Fatalf("serving %q", got)
	}

	ca.Write(t, "second", certFile, keyFile)
	if got := cn(t, r); got != "first" {
		t.Errorf("files looked at before the interval: serving %q", got)
	}
	clk.Advance(time.Minute)
	if got := cn(t, r); got != "second" {
		t.Fatalf("after the interval, serving %q, want the new pair", got)
	}
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Errorf("no log line for the reload: %s", logs.String())
	}

	// A certificate whose key has not been written yet.
	c3, k3 := ca.Issue(t, "third", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	tlscerttest.WriteFiles(t, certFile, c3, keyFile+".unused", k3)
	clk.Advance(time.Minute)
	if got := cn(t, r); got != "second" {
		t.Fatalf("a mismatched pair: serving %q, want the previous certificate", got)
	}
	if !strings.Contains(logs.String(), "do not load") {
		t.Errorf("the failed reload is not logged: %s", logs.String())
	}
	// Its key arrives.
	tlscerttest.WriteFiles(t, certFile, c3, keyFile, k3)
	clk.Advance(time.Minute)
	if got := cn(t, r); got != "third" {
		t.Fatalf("after the key arrived, serving %q", got)
	}

	// Garbage, then an expired certificate: both refused.
	tlscerttest.WriteFiles(t, certFile, []byte("not a certificate"), keyFile, k3)
	clk.Advance(time.Minute)
	if got := cn(t, r); got != "third" {
		t.Fatalf("garbage: serving %q", got)
	}
	c4, k4 := ca.Issue(t, "expired", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	tlscerttest.WriteFiles(t, certFile, c4, keyFile, k4)
	clk.Advance(time.Minute)
	if got := cn(t, r); got != "third" {
		t.Fatalf("an expired certificate: serving %q", got)
	}
	// Files removed: the previous certificate still serves.
	os.Remove(certFile)
	clk.Advance(time.Minute)
	if got := cn(t, r); got != "third" {
		t.Fatalf("files removed: serving %q", got)
	}
	ca.Write(t, "fifth", certFile, keyFile)
	clk.Advance(time.Minute)
	if got := cn(t, r); got != "fifth" {
		t.Fatalf("files back: serving %q", got)
	}
}

// A pair that does not load at start is an error naming the file.
func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if _, err := New(certFile, keyFile, 0, slog.Default()); err == nil || !strings.Contains(err.Error(), "tls.crt") {
		t.Errorf("missing files: %v", err)
	}
	ca := tlscerttest.NewCA(t)
	c, k := ca.Issue(t, "expired", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	tlscerttest.WriteFiles(t, certFile, c, keyFile, k)
	if _, err := New(certFile, keyFile, 0, slog.Default()); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired certificate: %v", err)
	}
	_, k2 := ca.Issue(t, "other", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	c, _ = ca.Issue(t, "other", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	tlscerttest.WriteFiles(t, certFile, c, keyFile, k2)
	if _, err := New(certFile, keyFile, 0, slog.Default()); err == nil {
		t.Error("a key that is not the certificate's was accepted")
	}
}

// Clients of TLS 1.0 and 1.1 are refused; 1.2 and 1.3 are served, with the CA's pool.
func TestMinimumVersion(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := tlscerttest.NewCA(t)
	ca.Write(t, "server", certFile, keyFile)
	r, err := New(certFile, keyFile, 0, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(),
			&tls.Config{RootCAs: ca.Pool, MinVersion: v, MaxVersion: v})
		ok := v >= tls.VersionTLS12
		if (err == nil) != ok {
			t.Errorf("%s: handshake error %v, want success %v", tls.VersionName(v), err, ok)
		}
		if err == nil {
			c.Close()
		}
	}
}
