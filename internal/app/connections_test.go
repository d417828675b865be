//go:build unix

package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
)

// TestBinaryConnectionFlood runs the real binary under a descriptor limit of 256 (so its
// connection limits are the defaults derived from it: 128 connections, 32 per address) and
// floods it with idle connections: from one address, more than the whole cap; then from
// twelve addresses, 32 each. A client from another loopback address gets a token each
// time, the node never runs out of descriptors, and its log holds JSON lines only.
func TestBinaryConnectionFlood(t *testing.T) {
	bin := buildKeyhold(t)
	wrapper := filepath.Join(t.TempDir(), "keyhold-256")
	script := "#!/bin/sh\nulimit -n 256 || exit 97\nexec " + bin + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p := startKeyhold(t, wrapper, t.TempDir(), "")
	admin := p.bootstrap(t)
	metric := func(name string) string {
		body := getFrom(t, "127.0.0.200", p.base+"/metrics")
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				return v
			}
		}
		t.Fatalf("no %s in /metrics", name)
		return ""
	}
	if got := metric("keyhold_connections_max"); got != "128" {
		t.Fatalf("keyhold_connections_max = %s, want 128 (derived from 256 descriptors)", got)
	}
	legit := func() {
		t.Helper()
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {admin.ClientID}, "client_secret": {admin.ClientSecret}}
		resp, err := clientFrom("127.0.0.2").PostForm(admin.TokenURL, form)
		if err != nil {
			t.Fatalf("the legitimate client: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "access_token") {
			t.Fatalf("the legitimate client: %d %s", resp.StatusCode, b)
		}
	}

	// One address, 300 idle connections: it gets its share, the rest are refused.
	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for range 300 {
		if c := dialFrom(t, "127.0.0.1", p.listen); c != nil {
			flood = append(flood, c)
		}
	}
	legit()

	// Twelve addresses, 32 each: 384 connections for 128 places. The idle ones make room.
	for i := range 12 {
		for range 32 {
			if c := dialFrom(t, "127.0.1."+itoa(i+1), p.listen); c != nil {
				flood = append(flood, c)
			}
		}
	}
	legit()
	if refused := metric("keyhold_connections_refused_per_address_total"); refused == "0" {
		t.Error("no connection was refused for its address's share")
	}
	if evicted := metric("keyhold_connections_evicted_total"); evicted == "0" {
		t.Error("no idle connection was closed to make room")
	}
	for _, c := range flood {
		c.Close()
	}
	flood = nil

	p.kill(t, syscall.SIGTERM)
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Errorf("a log line is not JSON: %q", sc.Text())
		}
	}
	if strings.Contains(p.stderr.String(), "too many open files") {
		t.Error("keyhold ran out of descriptors")
	}
}

// A limit the descriptors cannot hold, or a share larger than the cap, is refused.
func TestConnectionLimitsRefused(t *testing.T) {
	for _, cfg := range []app.Config{
		{MaxConnections: -1},
		{MaxConnectionsPerAddress: -1},
		{MaxConnections: 10, MaxConnectionsPerAddress: 11},
		{MaxConnections: 1 << 30},
	} {
		cfg.DataDir, cfg.Listen = t.TempDir(), "127.0.0.1:0"
		n, err := app.Open(context.Background(), cfg)
		if err == nil {
			n.Close()
			t.Errorf("%d connections, %d per address: accepted", cfg.MaxConnections, cfg.MaxConnectionsPerAddress)
		} else if !strings.Contains(err.Error(), "connections") {
			t.Errorf("%d, %d: %v", cfg.MaxConnections, cfg.MaxConnectionsPerAddress, err)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// dialFrom opens an idle TCP connection from a loopback address; nil when the server
// reset it at once (refused).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	return c
}

func getFrom(t *testing.T, from, url string) string {
	t.Helper()
	resp, err := clientFrom(from).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
