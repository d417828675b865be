package token

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// synthetic is a cache entry expiring at the unix second exp, keyed by i.
func synthetic(i uint64, exp int64, claims map[int64]*Claims) ([sha256.Size]byte, cachedToken) {
	var key [sha256.Size]byte
	binary.LittleEndian.PutUint64(key[:], i)
	c, ok := claims[exp]
	if !ok {
		c = &Claims{}
		c.Expiry = jwt.NewNumericDate(time.Unix(exp, 0))
		claims[exp] = c
	}
	return key, cachedToken{claims: c, kid: "k", ws: "w"}
}

func TestTokenCacheBoundedEvictsEarliestExpiryFirst(t *testing.T) {
	c := newTokenCache(100)
	claims := map[int64]*Claims{}
	const now = 10_000
	// 50 tokens that expired in the past, inserted last, and 50 that expire later.
	var expired, live [][sha256.Size]byte
	for i := range 50 {
		k, ct := synthetic(uint64(i), now+100+int64(i), claims)
		c.add(k, ct)
		live = append(live, k)
	}
	for i := range 50 {
		k, ct := synthetic(uint64(100+i), now-int64(i), claims)
		c.add(k, ct)
		expired = append(expired, k)
	}
	if c.len() != 100 {
		t.Fatalf("len %d", c.len())
	}
	// Adding the same token again changes nothing.
	k, ct := synthetic(0, now+100, claims)
	c.add(k, ct)
	if c.len() != 100 {
		t.Fatalf("a duplicate grew the cache to %d", c.len())
	}
	// 50 new tokens evict the 50 expired ones, none of the live ones.
	for i := range 50 {
		k, ct := synthetic(uint64(1000+i), now+900, claims)
		c.add(k, ct)
		if c.len() > 100 {
			t.Fatalf("the cache grew past its bound: %d", c.len())
		}
	}
	for i, k := range expired {
		if _, ok := c.get(k); ok {
			t.Errorf("expired token %d survived while live ones were cached", i)
		}
	}
	for i, k := range live {
		if _, ok := c.get(k); !ok {
			t.Errorf("live token %d was evicted before the expired ones", i)
		}
	}
	// Then the live tokens closest to expiry go first.
	k, ct = synthetic(5000, now+900, claims)
	c.add(k, ct)
	if _, ok := c.get(live[0]); ok {
		t.Error("the token closest to expiry survived a full cache's insertion")
	}
	if _, ok := c.get(live[1]); !ok {
		t.Error("more than one token was evicted for one insertion")
	}
	// prune drops what has expired at now, and only that.
	c.prune(now + 120)
	for i, k := range live {
		_, ok := c.get(k)
		if want := now+100+int64(i) > now+120; ok != want {
			t.Errorf("after prune, live token %d (exp +%d) cached=%v, want %v", i, 100+i, ok, want)
		}
	}
	if len(c.byExpiry) != len(c.seconds) {
		t.Fatalf("%d expiry groups but %d seconds in the heap", len(c.byExpiry), len(c.seconds))
	}
	c.prune(now + 10_000)
	if c.len() != 0 || len(c.byExpiry) != 0 || len(c.seconds) != 0 {
		t.Fatalf("after pruning everything: %d entries, %d groups, %d seconds", c.len(), len(c.byExpiry), len(c.seconds))
	}
}

// TestVerifierCacheBounded: a Verifier with a small cache keeps verifying every token; the
// cache holds at most its size, and an evicted token is verified again, not refused.
func TestVerifierCacheBounded(t *testing.T) {
	e := newTokenEnv(t, jose.ES256)
	e.v.CacheSize = 3
	var toks []string
	for range 10 {
		raw, _ := e.mint(t)
		toks = append(toks, raw)
		e.clk.Set(e.clk.Now().Add(time.Second)) // distinct expiry seconds
	}
	for round := range 2 {
		for i, raw := range toks {
			if _, _, err := e.v.Verify(raw); err != nil {
				t.Fatalf("round %d token %d: %v", round, i, err)
			}
			if n := e.cacheLen(); n > 3 {
				t.Fatalf("cache holds %d tokens, bound 3", n)
			}
		}
	}
	e.clk.Set(e.clk.Now().Add(testTTL))
	e.v.Prune()
	if n := e.cacheLen(); n != 0 {
		t.Fatalf("%d tokens cached after they all expired and Prune ran", n)
	}
}

// fillCache builds a cache of n entries whose expiries spread over 900 seconds (a token
// lifetime) after now.
func fillCache(n int, now int64) (*tokenCache, map[int64]*Claims) {
	c := newTokenCache(n)
	claims := map[int64]*Claims{}
	for i := range n {
		k, ct := synthetic(uint64(i), now+int64(i*900/n), claims)
		c.add(k, ct)
	}
	return c, claims
}

const benchCacheSize = 1_000_000

// BenchmarkTokenCache measures the cache at 1,000,000 entries: a hit, an insertion into the
// full cache (which evicts one entry), and an eviction alone.
func BenchmarkTokenCache(b *testing.B) {
	const now = 1_000_000
	c, claims := fillCache(benchCacheSize, now)
	b.Run("hit-1M", func(b *testing.B) {
		var key [sha256.Size]byte
		b.ReportAllocs()
		i := uint64(0)
		for b.Loop() {
			binary.LittleEndian.PutUint64(key[:], i%benchCacheSize)
			if _, ok := c.get(key); !ok {
				b.Fatal("miss")
			}
			i += 7919
		}
	})
	b.Run("insert-full-1M", func(b *testing.B) {
		b.ReportAllocs()
		i := uint64(benchCacheSize)
		for b.Loop() {
			k, ct := synthetic(i, now+900+int64(i/1000), claims)
			c.add(k, ct)
			i++
		}
		if c.len() != benchCacheSize {
			b.Fatalf("len %d", c.len())
		}
	})
	b.Run("evict-1M", func(b *testing.B) {
		c, _ := fillCache(benchCacheSize, now)
		b.ReportAllocs()
		for b.Loop() {
			if c.len() == 0 {
				b.StopTimer()
				c, _ = fillCache(benchCacheSize, now)
				b.StartTimer()
			}
			c.evictOne()
		}
	})
}

// BenchmarkVerifyCachedFull is BenchmarkVerifyCached with 1,000,000 other tokens cached.
func BenchmarkVerifyCachedFull(b *testing.B) {
	e := newTokenEnv(b, jose.ES256)
	raw, _ := e.mint(b)
	if _, _, err := e.v.Verify(raw); err != nil {
		b.Fatal(err)
	}
	claims := map[int64]*Claims{}
	now := e.clk.Now().Unix()
	e.v.mu.Lock()
	e.v.cache.max = benchCacheSize + 1
	for i := range benchCacheSize {
		k, ct := synthetic(uint64(i), now+60+int64(i*840/benchCacheSize), claims)
		e.v.cache.add(k, ct)
	}
	e.v.mu.Unlock()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.v.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}
