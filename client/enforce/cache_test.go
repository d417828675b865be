package enforce

import (
	"testing"
	"time"
)

func TestDecisionCacheBoundsAndDeadlines(t *testing.T) {
	c := newDecisionCache(2)
	now := time.Unix(1000, 0)
	c.put("a", decision{allowed: true}, now.Add(time.Second))
	c.put("b", decision{allowed: false, code: "no_matching_assignment"}, now.Add(time.Second))
	if _, ok := c.get("a", now); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.put("c", decision{allowed: true}, now.Add(time.Second)) // evicts b
	if _, ok := c.get("b", now); ok {
		t.Fatal("b was not evicted")
	}
	if c.len() != 2 {
		t.Fatalf("%d entries, want 2", c.len())
	}
	if d, ok := c.get("a", now.Add(999*time.Millisecond)); !ok || !d.allowed {
		t.Fatal("a expired early")
	}
	if _, ok := c.get("a", now.Add(time.Second)); ok {
		t.Fatal("a outlived its deadline")
	}
	if c.len() != 1 {
		t.Fatalf("%d entries after expiry, want 1", c.len())
	}
	c.put("c", decision{allowed: false}, now.Add(2*time.Second)) // replaces
	if d, _ := c.get("c", now); d.allowed {
		t.Fatal("c not replaced")
	}
}
