package periodic_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/periodic"
)

// Flush flushes on the ticker, and once more after the context ends, with a live context.
func TestFlush(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	var last error
	done := make(chan struct{})
	go func() {
		defer close(done)
		periodic.Flush(ctx, time.Millisecond, func(c context.Context) {
			if calls.Add(1) == 3 {
				cancel()
			}
			last = c.Err()
		})
	}()
	<-done
	if n := calls.Load(); n < 4 {
		t.Fatalf("%d flushes, want the ticks and a final one", n)
	}
	if last != nil {
		t.Fatalf("the final flush got an ended context: %v", last)
	}
}
