package connlimit

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is a Listener's limits.
type Config struct {
	// Max is the number of connections open at once (at least 1).
	Max int
	// PerAddr is the number one source address may hold (at least 1; at most Max).
	PerAddr int
	// Exempt, when set, names addresses without a per-address share, such as the load
	// balancers in front of keyhold, through which every client comes. It is given the
	// peer's whole address (IPv4-mapped addresses as IPv4).
	Exempt func(netip.Addr) bool
	// Log receives a warning when connections are refused, at most once per LogEvery.
	Log      *slog.Logger
	LogEvery time.Duration
}

// Listener wraps a net.Listener with Config's limits.
type Listener struct {
	net.Listener
	cfg Config

	mu      sync.Mutex
	open    int
	perAddr map[netip.Addr]int
	// idle lists the idle connections, the one idle the longest first.
	idleHead, idleTail *conn
	idleN              int

	refusedTotal, refusedAddr, evicted atomic.Uint64
	lastLog                            atomic.Int64 // unix nanoseconds of the last warning
}

// New wraps ln. It panics on limits below 1 (the caller validates configuration).
func New(ln net.Listener, cfg Config) *Listener {
	if cfg.Max < 1 || cfg.PerAddr < 1 {
		panic(fmt.Sprintf("connlimit: Max %d, PerAddr %d", cfg.Max, cfg.PerAddr))
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = 10 * time.Second
	}
	return &Listener{Listener: ln, cfg: cfg, perAddr: make(map[netip.Addr]int)}
}

// conn is an admitted connection. Its fields but Conn and key are guarded by the
// listener's mutex.
type conn struct {
	net.Conn
	l          *Listener
	key        netip.Addr
	exempt     bool
	idle       bool
	released   bool
	prev, next *conn
}

// Close closes the connection and gives its place back.
func (c *conn) Close() error {
	c.l.release(c)
	return c.Conn.Close()
}

// Key is the address whose share a connection from addr counts against: the IPv4 address,
// or the /64 prefix of an IPv6 address (IPv4-mapped addresses count as IPv4).
func Key(addr netip.Addr) netip.Addr {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// Accept returns the next connection admitted. Refused connections are closed here and
// never returned; errors are the wrapped listener's.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var key netip.Addr
		exempt := false
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			key = Key(ap.Addr())
			exempt = l.cfg.Exempt != nil && l.cfg.Exempt(ap.Addr().Unmap())
		}
		admitted, victim, reason := l.admit(c, key, exempt)
		if victim != nil {
			l.evicted.Add(1)
			_ = victim.Conn.Close()
		}
		if admitted != nil {
			return admitted, nil
		}
		refuse(c)
		l.refused(reason, key)
	}
}

// admit takes a place for c, or names why it cannot. When the listener is full, it takes
// the place of the connection idle the longest, which it returns for the caller to close.
func (l *Listener) admit(c net.Conn, key netip.Addr, exempt bool) (admitted, victim *conn, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !exempt && l.perAddr[key] >= l.cfg.PerAddr {
		return nil, nil, "per_address"
	}
	if l.open >= l.cfg.Max {
		if victim = l.idleHead; victim == nil {
			return nil, nil, "limit"
		}
		l.releaseLocked(victim)
	}
	l.open++
	l.perAddr[key]++
	admitted = &conn{Conn: c, l: l, key: key, exempt: exempt}
	// Until its first request is read, a connection is as idle as a kept-alive one.
	l.pushIdle(admitted)
	return admitted, victim, ""
}

// refuse closes a connection that was not admitted, with a reset rather than the usual
// close: no TIME_WAIT state is kept for a connection that never carried anything.
func refuse(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (l *Listener) refused(reason string, key netip.Addr) {
	l.refusedTotal.Add(1)
	if reason == "per_address" {
		l.refusedAddr.Add(1)
	}
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if l.cfg.Log == nil || now-last < int64(l.cfg.LogEvery) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.cfg.Log.Warn("refusing connections: too many open", "reason", reason, "address", key.String(),
		"max", l.cfg.Max, "per_address", l.cfg.PerAddr, "refused_total", l.refusedTotal.Load())
}

func (l *Listener) release(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.releaseLocked(c)
}

func (l *Listener) releaseLocked(c *conn) {
	if c.released {
		return
	}
	c.released = true
	l.removeIdle(c)
	l.open--
	if n := l.perAddr[c.key] - 1; n > 0 {
		l.perAddr[c.key] = n
	} else {
		delete(l.perAddr, c.key)
	}
}

func (l *Listener) pushIdle(c *conn) {
	l.idleN++
	c.idle, c.prev, c.next = true, l.idleTail, nil
	if l.idleTail != nil {
		l.idleTail.next = c
	} else {
		l.idleHead = c
	}
	l.idleTail = c
}

func (l *Listener) removeIdle(c *conn) {
	if !c.idle {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.idleHead = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.idleTail = c.prev
	}
	l.idleN--
	c.idle, c.prev, c.next = false, nil, nil
}

// ConnState is http.Server's ConnState hook: it tracks which connections are idle. It
// accepts the server's view of a connection, a *tls.Conn over one of this listener's.
func (l *Listener) ConnState(nc net.Conn, state http.ConnState) {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	c, ok := nc.(*conn)
	if !ok || c.l != l {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.released {
		return
	}
	switch state {
	case http.StateIdle:
		l.removeIdle(c) // (a no-op unless the server reports Idle twice)
		l.pushIdle(c)
	case http.StateActive, http.StateHijacked:
		l.removeIdle(c)
	}
}

// Stats are a listener's counters.
type Stats struct {
	Open, Idle int
	// Refused counts connections refused (RefusedPerAddr of them for their address's share);
	// Evicted counts idle connections closed to make room.
	Refused, RefusedPerAddr, Evicted uint64
}

// Stats reads the counters.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	open, idle := l.open, l.idleN
	l.mu.Unlock()
	return Stats{Open: open, Idle: idle, Refused: l.refusedTotal.Load(), RefusedPerAddr: l.refusedAddr.Load(),
		Evicted: l.evicted.Load()}
}

// Limits are the configured limits.
func (l *Listener) Limits() (max, perAddr int) { return l.cfg.Max, l.cfg.PerAddr }

// DescriptorLimit is the process's soft limit on open files (which Go raises to the hard
// limit at start on Linux), or 0 when it cannot be read.
func DescriptorLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return int(min(r.Cur, 1<<30))
}

// Defaults derives the limits from the descriptor limit nofile: a quarter of the
// descriptors (at least 256) stay for the database, the store's files and the process's
// own, and at most 32,768 connections (about 25 KiB of memory each when idle); one address
// may hold an eighth of them, at least 32.
func Defaults(nofile int) (total, perAddr int) {
	total = min(nofile-max(256, nofile/4), 32768)
	if total < 16 {
		total = max(nofile/2, 1)
	}
	return total, min(total, max(total/8, 32))
}
