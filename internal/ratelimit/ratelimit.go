package ratelimit

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// DefaultMaxKeys bounds a Limiter's memory under a flood of distinct keys (about 100 bytes a
// key).
const DefaultMaxKeys = 100_000

// Limiter is a set of failure budgets keyed by K, one generic cell rate algorithm (GCRA)
// bucket per key: a key may fail Burst times in a row, then once per Interval. Each key holds
// only its "theoretical arrival time" tat: the debt it has run up is tat minus now, and a key
// whose tat has passed carries no penalty at all (it is the same as a key never seen).
//
// A caller that is refused because it is blocked may still be charged (the address budgets
// do it, so that an attacker who keeps trying stays blocked); the debt is capped so that a
// key is never blocked for longer than MaxWait after its last failure.
type Limiter[K comparable] struct {
	interval int64 // nanoseconds
	burst    int64
	maxWait  int64
	maxKeys  int
	now      func() time.Time

	mu  sync.Mutex
	tat map[K]int64 // unix nanoseconds

	// OnBlock, when set, is called (outside the lock) each time a failure turns a key that
	// was not blocked into a blocked one: a lockout begins. Set it before the limiter is
	// shared; it must not block.
	OnBlock func(key K, wait time.Duration)
}

// New allows burst failures per key, refilled at one per interval, and blocks a key for at
// most maxWait (at least one interval) however much it keeps failing.
func New[K comparable](burst int, interval, maxWait time.Duration) *Limiter[K] {
	return &Limiter[K]{interval: int64(interval), burst: int64(max(1, burst)), maxWait: int64(max(maxWait, interval)),
		maxKeys: DefaultMaxKeys, now: time.Now, tat: map[K]int64{}}
}

// Blocked reports whether key has no failures left, and how long until it has one. It
// never changes the key's budget.
func (l *Limiter[K]) Blocked(key K) (bool, time.Duration) {
	l.mu.Lock()
	tat, ok := l.tat[key]
	l.mu.Unlock()
	if !ok {
		return false, 0
	}
	wait := tat - l.now().UnixNano() - (l.burst-1)*l.interval
	if wait <= 0 {
		return false, 0
	}
	return true, time.Duration(wait)
}

// Gate is Blocked for attempts that should count even when refused: a blocked key is charged
// a failure, so a source that keeps trying while blocked stays blocked (up to MaxWait after
// its last attempt) instead of getting a fresh try every Interval.
func (l *Limiter[K]) Gate(key K) (bool, time.Duration) {
	blocked, wait := l.Blocked(key)
	if blocked {
		l.Fail(key)
	}
	return blocked, wait
}

// Fail charges key one failure. Charging a blocked key extends its block, up to MaxWait.
func (l *Limiter[K]) Fail(key K) {
	now := l.now().UnixNano()
	l.mu.Lock()
	tat, ok := l.tat[key]
	if !ok && len(l.tat) >= l.maxKeys {
		l.evict(now)
	}
	slack := (l.burst - 1) * l.interval
	wasBlocked := ok && tat-now-slack > 0
	tat = min(max(tat, now)+l.interval, now+slack+l.maxWait)
	l.tat[key] = tat
	l.mu.Unlock()
	if wait := tat - now - slack; !wasBlocked && wait > 0 && l.OnBlock != nil {
		l.OnBlock(key, time.Duration(wait))
	}
}

// Len is the number of keys held (for tests and metrics).
func (l *Limiter[K]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tat)
}

// evict makes room for new keys. Keys whose debt is paid carry no penalty and go first.
// Should the rest still fill nine tenths of the table, the least indebted keys go too until
// it does not: memory stays bounded, and the keys that have failed the most (the ones
// blocked now) are the last to be forgiven. Each eviction frees a tenth of the table, so its
// O(n log n) cost is amortised over at least n/10 new keys.
func (l *Limiter[K]) evict(now int64) {
	for k, tat := range l.tat {
		if tat <= now {
			delete(l.tat, k)
		}
	}
	keep := l.maxKeys - max(1, l.maxKeys/10)
	if len(l.tat) <= keep {
		return
	}
	tats := make([]int64, 0, len(l.tat))
	for _, tat := range l.tat {
		tats = append(tats, tat)
	}
	slices.Sort(tats)
	threshold := tats[len(tats)-keep-1] // drop every key at or below it
	for k, tat := range l.tat {
		if tat <= threshold {
			delete(l.tat, k)
		}
	}
}

// Prune forgets the keys whose debt is paid; they carry no penalty.
func (l *Limiter[K]) Prune() {
	now := l.now().UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, tat := range l.tat {
		if tat <= now {
			delete(l.tat, k)
		}
	}
}

// RetryAfter rounds a delay up to whole seconds for the Retry-After header (at least 1).
func RetryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// SourceAddr is a request's source address as text: the TCP peer's host (or, behind trusted
// proxies, the client they name: Proxies.Handler has rewritten RemoteAddr by then). For logs;
// failure budgets key on Source.
func SourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Source is the failure-budget key of a request's source: its IPv4 address, or the /64 its
// IPv6 address belongs to (one host's interface usually owns a whole /64, and an attacker
// can pick any address in it). A source that is not an IP address (a test's pipe) maps to
// the zero Addr, one shared budget.
func Source(r *http.Request) netip.Addr {
	a, err := netip.ParseAddr(SourceAddr(r))
	if err != nil {
		return netip.Addr{}
	}
	return SourceKey(a)
}

// SourceKey is the budget key of address a: a itself for IPv4 (IPv4-mapped IPv6 included),
// the first address of its /64 for IPv6; zones are dropped.
func SourceKey(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is4() || !a.IsValid() {
		return a
	}
	b := a.As16()
	clear(b[8:])
	return netip.AddrFrom16(b)
}
