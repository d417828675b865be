package enforce

import (
	"container/list"
	"sync"
	"time"
)

// decision is a cached answer of keyhold.
type decision struct {
	allowed bool
	code    string // the denial's reason code, when keyhold gave one
}

// decisionCache is a bounded LRU of decisions with a deadline per entry.
type decisionCache struct {
	mu    sync.Mutex
	size  int
	ll    *list.List // front: most recently used
	items map[string]*list.Element
}

type cacheEntry struct {
	key      string
	d        decision
	deadline time.Time
}

func newDecisionCache(size int) *decisionCache {
	return &decisionCache{size: size, ll: list.New(), items: make(map[string]*list.Element, size)}
}

// get returns the decision for key if it is cached and its deadline has not passed.
func (c *decisionCache) get(key string, now time.Time) (decision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return decision{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.deadline) {
		c.ll.Remove(el)
		delete(c.items, key)
		return decision{}, false
	}
	c.ll.MoveToFront(el)
	return e.d, true
}

// put caches a decision until deadline, evicting the least recently used entry when full.
func (c *decisionCache) put(key string, d decision, deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*cacheEntry)
		e.d, e.deadline = d, deadline
		c.ll.MoveToFront(el)
		return
	}
	if c.ll.Len() >= c.size {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, d: d, deadline: deadline})
}

// len is the number of entries (expired ones included until touched).
func (c *decisionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
