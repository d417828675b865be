package changefeed

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// batch is how many log entries one read takes.
const batch = 1000

// Handler is an in-memory view fed by the change log.
type Handler interface {
	// Kinds lists the change kinds the view consumes.
	Kinds() []string
	// Load rebuilds the view from the store.
	Load(ctx context.Context, s storage.Store) error
	// Apply updates the view for one change by re-reading the record it names.
	Apply(ctx context.Context, s storage.Store, c storage.Change) error
}

// Feed dispatches change log entries to handlers.
type Feed struct {
	store    storage.Store
	byKind   map[string][]Handler
	handlers []Handler
	log      *slog.Logger

	mu  sync.Mutex // one sync at a time
	seq atomic.Int64
}

// New builds a feed over store for handlers.
func New(store storage.Store, log *slog.Logger, handlers ...Handler) *Feed {
	f := &Feed{store: store, byKind: map[string][]Handler{}, handlers: handlers, log: log}
	for _, h := range handlers {
		for _, k := range h.Kinds() {
			f.byKind[k] = append(f.byKind[k], h)
		}
	}
	return f
}

// Load builds every view from scratch. The sequence number is read before loading so that
// nothing written during the load is missed.
func (f *Feed) Load(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq, err := f.store.LatestSeq(ctx)
	if err != nil {
		return fmt.Errorf("changefeed: %w", err)
	}
	for _, h := range f.handlers {
		if err := h.Load(ctx, f.store); err != nil {
			return fmt.Errorf("changefeed: load: %w", err)
		}
	}
	f.seq.Store(seq)
	return nil
}

// Seq is the last sequence number applied.
func (f *Feed) Seq() int64 { return f.seq.Load() }

// Sync applies every change written so far. On error the entries not applied are retried by
// the next Sync.
func (f *Feed) Sync(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		changes, err := f.store.ChangesSince(ctx, f.seq.Load(), batch)
		if err != nil {
			return fmt.Errorf("changefeed: read: %w", err)
		}
		for _, c := range changes {
			for _, h := range f.byKind[c.Kind] {
				if err := h.Apply(ctx, f.store, c); err != nil {
					return fmt.Errorf("changefeed: apply %s %s: %w", c.Kind, c.Key, err)
				}
			}
			f.seq.Store(c.Seq)
		}
		if len(changes) < batch {
			return nil
		}
	}
}

// Run polls the log every interval until ctx ends. wake, when it receives, triggers an
// immediate sync (a fast path such as PostgreSQL's LISTEN/NOTIFY).
func (f *Feed) Run(ctx context.Context, interval time.Duration, wake <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		if err := f.Sync(ctx); err != nil && ctx.Err() == nil {
			f.log.Error("change feed sync failed; views may be stale until the next poll", "error", err)
		}
	}
}
