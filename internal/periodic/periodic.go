package periodic

import (
	"context"
	"time"
)

// FinalFlushTimeout bounds the flush made after the context has ended.
const FinalFlushTimeout = 5 * time.Second

// Flush calls flush every interval until ctx ends, then once more with a context of its own
// that ends after FinalFlushTimeout. It returns after that last flush.
func Flush(ctx context.Context, interval time.Duration, flush func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), FinalFlushTimeout)
			defer cancel()
			flush(fctx)
			return
		case <-t.C:
			flush(ctx)
		}
	}
}
