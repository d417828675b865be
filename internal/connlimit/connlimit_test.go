package connlimit

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// server runs an HTTP server on 127.0.0.1 behind a Listener. GET /block waits until
// release is closed.
type server struct {
	l           *Listener
	addr        string
	entered     chan struct{}
	release     chan struct{}
	releaseOnce func()
}

func start(t *testing.T, cfg Config) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{l: New(ln, cfg), addr: ln.Addr().String(), entered: make(chan struct{}, 100), release: make(chan struct{})}
	var once sync.Once
	srv := &http.Server{ConnState: s.l.ConnState, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			s.entered <- struct{}{}
			<-s.release
		}
		_, _ = io.WriteString(w, "ok")
	})}
	go func() { _ = srv.Serve(s.l) }()
	t.Cleanup(func() {
		once.Do(func() { close(s.release) })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	s.releaseOnce = func() { once.Do(func() { close(s.release) }) }
	return s
}

// dial opens a TCP connection to the server from local address from (127.0.0.x). A
// connection the server refused may already be reset when the dial returns: then it is nil.
func (s *server) dial(t *testing.T, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", s.addr)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// client is an HTTP client whose connections come from local address from.
func client(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

func (s *server) get(t *testing.T, c *http.Client, path string) {
	t.Helper()
	resp, err := c.Get("http://" + s.addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v (stats %+v)", path, err, s.l.Stats())
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("GET %s: %d %q", path, resp.StatusCode, b)
	}
}

// request sends one request on a raw connection and reads the answer, leaving the
// connection kept alive.
func request(t *testing.T, c net.Conn) {
	t.Helper()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// closedByServer reports whether the server closed c (a read ends in EOF or a reset rather
// than waiting).
func closedByServer(c net.Conn, wait time.Duration) bool {
	if c == nil {
		return true
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func (s *server) waitFor(t *testing.T, what string, ok func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(s.l.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: stats %+v", what, s.l.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// One address opening more idle connections than the whole cap gets its share only; a
// client from another address is still served.
func TestPerAddressShare(t *testing.T) {
	s := start(t, Config{Max: 20, PerAddr: 5})
	var conns []net.Conn
	for range 30 {
		conns = append(conns, s.dial(t, "127.0.0.1"))
	}
	s.waitFor(t, "25 refusals", func(st Stats) bool { return st.Refused == 25 })
	if st := s.l.Stats(); st.Open != 5 || st.RefusedPerAddr != 25 || st.Evicted != 0 {
		t.Fatalf("stats %+v, want 5 open, 25 refused for the address's share", st)
	}
	closed := 0
	for _, c := range conns[5:] {
		if closedByServer(c, 2*time.Second) {
			closed++
		}
	}
	if closed != 25 {
		t.Errorf("%d of the 25 connections over the share were closed", closed)
	}
	for i, c := range conns[:5] {
		if closedByServer(c, 10*time.Millisecond) {
			t.Errorf("admitted connection %d was closed", i)
		}
	}
	s.get(t, client("127.0.0.2"), "/")
}

// When the cap is reached, the connection idle the longest makes room for a new client,
// even one from an address that already holds connections.
func TestIdleEvictedFirst(t *testing.T) {
	s := start(t, Config{Max: 6, PerAddr: 6})
	var conns []net.Conn
	for _, from := range []string{"127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.5", "127.0.0.5", "127.0.0.5"} {
		c := s.dial(t, from)
		request(t, c)
		conns = append(conns, c)
		// The server marks a connection idle after the client has read its answer: wait, so
		// that the connections become idle in order.
		s.waitFor(t, "idle", func(st Stats) bool { return st.Idle == len(conns) })
	}
	s.waitFor(t, "6 idle", func(st Stats) bool { return st.Open == 6 && st.Idle == 6 })
	s.get(t, client("127.0.0.2"), "/")
	if st := s.l.Stats(); st.Evicted != 1 || st.Refused != 0 || st.Open != 6 {
		t.Fatalf("stats %+v, want one eviction", st)
	}
	if !closedByServer(conns[0], 2*time.Second) {
		t.Error("the connection idle the longest was not closed")
	}
	for i, c := range conns[1:] {
		if closedByServer(c, 10*time.Millisecond) {
			t.Errorf("connection %d was closed, not the oldest idle one", i+1)
		}
	}
	// Every place comes back when the connections close.
	for _, c := range conns {
		c.Close()
	}
	s.waitFor(t, "the places of closed connections", func(st Stats) bool { return st.Open <= 1 })
}

// Connections serving a request are never closed to make room: a new one is refused
// instead, and admitted once a request ends.
func TestActiveNotEvicted(t *testing.T) {
	s := start(t, Config{Max: 3, PerAddr: 3})
	var wg sync.WaitGroup
	for range 3 {
		c := client("127.0.0.1")
		wg.Add(1)
		go func() { defer wg.Done(); s.get(t, c, "/block") }()
		<-s.entered
	}
	c := s.dial(t, "127.0.0.2")
	if !closedByServer(c, 5*time.Second) {
		t.Fatal("a connection over the cap was admitted while every other was serving")
	}
	if st := s.l.Stats(); st.Refused != 1 || st.RefusedPerAddr != 0 || st.Evicted != 0 {
		t.Errorf("stats %+v", st)
	}
	s.releaseOnce()
	wg.Wait()
	s.get(t, client("127.0.0.2"), "/")
}

// Exempt addresses (trusted load balancers) have no per-address share.
func TestExemptAddress(t *testing.T) {
	lb := netip.MustParseAddr("127.0.0.1")
	s := start(t, Config{Max: 10, PerAddr: 2, Exempt: func(a netip.Addr) bool { return a == lb }})
	for range 6 {
		s.dial(t, "127.0.0.1")
	}
	s.waitFor(t, "6 open", func(st Stats) bool { return st.Open == 6 })
	for range 3 {
		s.dial(t, "127.0.0.2")
	}
	s.waitFor(t, "a refusal", func(st Stats) bool { return st.Refused == 1 })
	if st := s.l.Stats(); st.Open != 8 || st.RefusedPerAddr != 1 {
		t.Errorf("stats %+v, want 8 open and the third from 127.0.0.2 refused", st)
	}
}

// Refusals are logged, at most once per LogEvery, through slog.
func TestRefusalLogged(t *testing.T) {
	var buf safeBuffer
	s := start(t, Config{Max: 1, PerAddr: 1, Log: newLogger(&buf), LogEvery: time.Hour})
	for range 4 {
		s.dial(t, "127.0.0.1")
	}
	s.waitFor(t, "3 refusals", func(st Stats) bool { return st.Refused == 3 })
	if n := strings.Count(buf.String(), "refusing connections"); n != 1 {
		t.Errorf("%d warnings, want 1: %s", n, buf.String())
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::",
		"2001:db8:1:3::1":      "2001:db8:1:3::",
		"::1":                  "::",
		"fe80::1%eth0":         "fe80::",
	} {
		if got := Key(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("Key(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestDefaults(t *testing.T) {
	for _, c := range []struct{ nofile, max, perAddr int }{
		{20000, 15000, 1875},
		{1024, 768, 96},
		{1 << 20, 32768, 4096},
		{300, 44, 32},
		{100, 50, 32},
		{1, 1, 1},
	} {
		if m, p := Defaults(c.nofile); m != c.max || p != c.perAddr {
			t.Errorf("Defaults(%d) = %d, %d; want %d, %d", c.nofile, m, p, c.max, c.perAddr)
		}
	}
	if n := DescriptorLimit(); n <= 0 {
		t.Errorf("DescriptorLimit() = %d", n)
	}
}
