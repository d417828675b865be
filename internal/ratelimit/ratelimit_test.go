package ratelimit

import (
	"testing"
	"time"
)

func TestLimiterBlocksAfterBurstAndRecovers(t *testing.T) {
	clock := time.Unix(1000, 0)
	l := New(3, 10*time.Second)
	l.now = func() time.Time { return clock }
	for i := range 3 {
		if blocked, _ := l.Blocked("k"); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail("k")
	}
	blocked, wait := l.Blocked("k")
	if !blocked || wait <= 0 || wait > 10*time.Second {
		t.Fatalf("after burst: blocked=%v wait=%v", blocked, wait)
	}
	if blocked, _ := l.Blocked("other"); blocked {
		t.Fatal("an unrelated key is blocked")
	}
	clock = clock.Add(10 * time.Second)
	if blocked, _ := l.Blocked("k"); blocked {
		t.Fatal("still blocked after the refill interval")
	}
	if RetryAfter(1500*time.Millisecond) != 2 || RetryAfter(0) != 1 {
		t.Fatal("RetryAfter rounding")
	}
}
