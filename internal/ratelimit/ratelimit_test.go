package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{time.Unix(1000, 0)} }
func testLimiter(c *clock, burst int, interval, maxWait time.Duration) *Limiter[string] {
	l := New[string](burst, interval, maxWait)
	l.now = c.now
	return l
}

func TestLimiterBlocksAfterBurstAndRecovers(t *testing.T) {
	c := newClock()
	l := testLimiter(c, 3, 10*time.Second, time.Minute)
	for i := range 3 {
		if blocked, _ := l.Blocked("k"); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail("k")
	}
	blocked, wait := l.Blocked("k")
	if !blocked || wait != 10*time.Second {
		t.Fatalf("after burst: blocked=%v wait=%v", blocked, wait)
	}
	if blocked, _ := l.Blocked("other"); blocked {
		t.Fatal("an unrelated key is blocked")
	}
	c.add(10 * time.Second)
	if blocked, _ := l.Blocked("k"); blocked {
		t.Fatal("still blocked after the refill interval")
	}
	l.Fail("k") // one failure per interval is allowed; the next is not
	if blocked, _ := l.Blocked("k"); !blocked {
		t.Fatal("not blocked after spending the refilled failure")
	}
	if RetryAfter(1500*time.Millisecond) != 2 || RetryAfter(0) != 1 {
		t.Fatal("RetryAfter rounding")
	}
}

// TestGateKeepsAnAttackerBlocked: attempts refused as blocked count too, so a source trying
// 20 times a second never gets another try, and is blocked at most maxWait after it stops.
func TestGateKeepsAnAttackerBlocked(t *testing.T) {
	c := newClock()
	l := testLimiter(c, 5, time.Second, 30*time.Second)
	tries := 0
	for range 20 * 120 { // two minutes at 20 tries a second
		if blocked, _ := l.Gate("attacker"); !blocked {
			tries++
			l.Fail("attacker")
		}
		c.add(50 * time.Millisecond)
	}
	if tries != 5 {
		t.Fatalf("the attacker got %d tries in two minutes, want the burst of 5 only", tries)
	}
	blocked, wait := l.Blocked("attacker")
	if !blocked || wait > 30*time.Second {
		t.Fatalf("after it stops: blocked=%v wait=%v, want blocked for at most 30s", blocked, wait)
	}
	c.add(wait)
	if blocked, _ := l.Blocked("attacker"); blocked {
		t.Fatal("still blocked after the announced wait")
	}
	// Without Gate (Blocked alone), a blocked key is not charged.
	l2 := testLimiter(c, 1, time.Second, time.Minute)
	l2.Fail("k")
	_, w1 := l2.Blocked("k")
	_, w2 := l2.Blocked("k")
	if w1 != w2 {
		t.Fatalf("Blocked charged the key: %v then %v", w1, w2)
	}
}

// TestEvictionKeepsPenalties: a flood of distinct keys past the table's bound forgets idle
// keys first and never the most penalised ones (the limiter used to clear the whole table).
func TestEvictionKeepsPenalties(t *testing.T) {
	c := newClock()
	l := testLimiter(c, 3, time.Second, time.Hour)
	l.maxKeys = 1000
	// Ten keys blocked hard: each keeps failing for a while.
	for i := range 10 {
		for range 100 {
			l.Fail("penalised-" + strconv.Itoa(i))
		}
	}
	// A flood of ten times the bound of keys that fail once each, at one a millisecond.
	for i := range 10_000 {
		l.Fail("flood-" + strconv.Itoa(i))
		c.add(time.Millisecond)
		if n := l.Len(); n > l.maxKeys {
			t.Fatalf("the table grew to %d keys, bound %d", n, l.maxKeys)
		}
	}
	for i := range 10 {
		if blocked, _ := l.Blocked("penalised-" + strconv.Itoa(i)); !blocked {
			t.Fatalf("penalised key %d was forgotten by eviction", i)
		}
	}
	// The most recent flood keys are still charged: eviction dropped the least indebted.
	l.Fail("flood-9999")
	l.Fail("flood-9999")
	if blocked, _ := l.Blocked("flood-9999"); !blocked {
		t.Fatal("the newest key lost its failures")
	}
}

// TestEvictionDropsIdleKeysFirst: keys whose debt is paid go before any penalised one, and
// Prune drops them too.
func TestEvictionDropsIdleKeysFirst(t *testing.T) {
	c := newClock()
	l := testLimiter(c, 2, time.Second, time.Minute)
	l.maxKeys = 100
	l.Fail("penalised")
	l.Fail("penalised")
	l.Fail("penalised")
	for i := range 99 {
		l.Fail("idle-" + strconv.Itoa(i))
	}
	c.add(2 * time.Second) // the idle keys' single failures are paid; "penalised" still owes
	l.Fail("new")
	if n := l.Len(); n != 2 {
		t.Fatalf("after eviction %d keys, want the penalised and the new one", n)
	}
	if blocked, _ := l.Blocked("penalised"); blocked {
		t.Fatal("penalised should have recovered one failure after 2s") // 3 failures, burst 2: tat = 1003s
	}
	c.add(10 * time.Second)
	l.Prune()
	if n := l.Len(); n != 0 {
		t.Fatalf("Prune left %d keys whose debt is paid", n)
	}
}

func TestSourceKeyGroupsIPv6By64(t *testing.T) {
	cases := []struct{ remote, want string }{
		{"192.0.2.7:5000", "192.0.2.7"},
		{"192.0.2.8:5000", "192.0.2.8"},
		{"[::ffff:192.0.2.7]:5000", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "2001:db8:1:2::"},
		{"[2001:db8:1:2::1]:443", "2001:db8:1:2::"},
		{"[2001:db8:1:3::1]:443", "2001:db8:1:3::"},
		{"[fe80::1%eth0]:443", "fe80::"},
		{"[::1]:443", "::"},
		{"pipe", "invalid IP"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		if got := Source(r).String(); got != tc.want {
			t.Errorf("Source(%q) = %s, want %s", tc.remote, got, tc.want)
		}
	}
	// One /64 is one budget; the neighbouring /64 and every IPv4 address are others.
	c := newClock()
	l := New[netip.Addr](1, time.Minute, time.Minute)
	l.now = c.now
	l.Fail(SourceKey(netip.MustParseAddr("2001:db8:1:2::7")))
	for _, a := range []string{"2001:db8:1:2::8", "2001:db8:1:2:ffff:ffff:ffff:ffff"} {
		if blocked, _ := l.Blocked(SourceKey(netip.MustParseAddr(a))); !blocked {
			t.Errorf("%s is in the failing /64 but not blocked", a)
		}
	}
	for _, a := range []string{"2001:db8:1:3::7", "192.0.2.7", "192.0.2.8"} {
		if blocked, _ := l.Blocked(SourceKey(netip.MustParseAddr(a))); blocked {
			t.Errorf("%s is blocked by another source's failures", a)
		}
	}
}
