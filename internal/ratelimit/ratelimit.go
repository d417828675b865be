package ratelimit

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxKeys bounds memory under a flood of distinct keys; past it, idle buckets are dropped
// first and, failing that, the table is reset (a fail-open that only forgets penalties).
const maxKeys = 100_000

// Limiter is a set of token buckets keyed by string.
type Limiter struct {
	every rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// New allows burst failures per key, refilled at one per interval.
func New(burst int, interval time.Duration) *Limiter {
	return &Limiter{every: rate.Every(interval), burst: burst, now: time.Now, buckets: map[string]*rate.Limiter{}}
}

// Blocked reports whether key has no failures left, and how long until it has one.
func (l *Limiter) Blocked(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return false, 0
	}
	now := l.now()
	if b.TokensAt(now) >= 1 {
		return false, 0
	}
	r := b.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return true, d
}

// Fail records one failure for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxKeys {
			l.evict()
		}
		b = rate.NewLimiter(l.every, l.burst)
		l.buckets[key] = b
	}
	b.AllowN(l.now(), 1)
}

// evict drops buckets that have refilled completely: they carry no penalty.
func (l *Limiter) evict() {
	now := l.now()
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxKeys {
		l.buckets = map[string]*rate.Limiter{}
	}
}

// RetryAfter rounds a delay up to whole seconds for the Retry-After header (at least 1).
func RetryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// SourceAddr is the key of a request's source address: the TCP peer's host. Behind a load
// balancer every client shares the balancer's address (operations.md says so).
func SourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
