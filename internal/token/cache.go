package token

import (
	"container/heap"
	"crypto/sha256"
)

// DefaultCacheSize bounds the verified-token cache when Verifier.CacheSize is zero. An entry
// costs about 1 KiB (the parsed claims included), so the default holds at most about 200 MiB.
const DefaultCacheSize = 200_000

// tokenCache holds verified tokens by their SHA-256, at most max of them. Entries are
// grouped by expiry second, and those seconds are kept in a min-heap, so that insertion and
// eviction never scan: a new entry is appended to its second's group (O(1), plus O(log s)
// to start a new second, where s is the number of distinct seconds held, at most the token
// lifetime in seconds); when the cache is full, an entry of the earliest second goes. The
// earliest second holds the expired tokens first and then those closest to expiry, which,
// tokens having one lifetime, are the oldest. The caller holds the Verifier's lock.
type tokenCache struct {
	max      int
	entries  map[[sha256.Size]byte]cachedToken
	byExpiry map[int64][][sha256.Size]byte
	seconds  secondHeap // the keys of byExpiry
}

func newTokenCache(max int) *tokenCache {
	if max <= 0 {
		max = DefaultCacheSize
	}
	return &tokenCache{max: max, entries: map[[sha256.Size]byte]cachedToken{}, byExpiry: map[int64][][sha256.Size]byte{}}
}

// get is the hit path: one map read, no allocation.
func (c *tokenCache) get(key [sha256.Size]byte) (cachedToken, bool) {
	if c == nil {
		return cachedToken{}, false
	}
	ct, ok := c.entries[key]
	return ct, ok
}

// add caches ct, evicting the entry closest to expiry (an expired one first) when full.
func (c *tokenCache) add(key [sha256.Size]byte, ct cachedToken) {
	if _, ok := c.entries[key]; ok {
		return // verified twice concurrently: it is in its group already
	}
	if len(c.entries) >= c.max {
		c.evictOne()
	}
	exp := ct.claims.Expiry.Time().Unix()
	group, ok := c.byExpiry[exp]
	if !ok {
		heap.Push(&c.seconds, exp)
	}
	c.byExpiry[exp] = append(group, key)
	c.entries[key] = ct
}

// evictOne drops the most recently added entry of the earliest expiry second.
func (c *tokenCache) evictOne() {
	if len(c.seconds) == 0 {
		return
	}
	exp := c.seconds[0]
	group := c.byExpiry[exp]
	last := len(group) - 1
	delete(c.entries, group[last])
	if last == 0 {
		delete(c.byExpiry, exp)
		heap.Pop(&c.seconds)
		return
	}
	c.byExpiry[exp] = group[:last]
}

// prune drops every entry that expires at or before the second now (a token is expired from
// its exp on); the cost is the number of entries dropped, plus O(log s) per second.
func (c *tokenCache) prune(now int64) {
	for len(c.seconds) > 0 && c.seconds[0] <= now {
		exp := heap.Pop(&c.seconds).(int64)
		for _, key := range c.byExpiry[exp] {
			delete(c.entries, key)
		}
		delete(c.byExpiry, exp)
	}
}

func (c *tokenCache) len() int { return len(c.entries) }

// secondHeap is a min-heap of unix seconds (container/heap).
type secondHeap []int64

func (h secondHeap) Len() int           { return len(h) }
func (h secondHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h secondHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *secondHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *secondHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
