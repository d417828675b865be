package changefeed

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
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

// An entry some view keeps failing to apply is skipped once it has failed this many syncs
// in a row, over at least this long (so that a moment's database trouble skips nothing).
const (
	DefaultSkipAfter = 3
	DefaultSkipAge   = 2 * time.Second
)

// Skipped is a log entry a view failed to apply and the feed went past.
type Skipped struct {
	Seq   int64  `json:"seq"`
	Kind  string `json:"kind"`
	Key   string `json:"key"`
	Error string `json:"error"`
}

// Feed dispatches change log entries to handlers.
type Feed struct {
	store    storage.Store
	byKind   map[string][]Handler
	handlers []Handler
	log      *slog.Logger
	// SkipAfter and SkipAge say when a failing entry is skipped (see DefaultSkipAfter).
	SkipAfter int
	SkipAge   time.Duration

	mu      sync.Mutex // one sync at a time; guards failing
	seq     atomic.Int64
	reloads atomic.Int64
	failing struct {
		seq   int64
		count int
		since time.Time
	}
	skipped  atomic.Int64
	lastSkip atomic.Pointer[Skipped]
	// loadStep is the 1-based index of the view Load is building (0: none).
	loadStep atomic.Int32
	// lastRead and downSince (Unix nanoseconds) track the store's reachability: the last
	// time the log was read, and since when reading it has failed because the store is
	// unavailable (0 while it is not).
	lastRead  atomic.Int64
	downSince atomic.Int64
}

// LoadStatus tells how far Load is: it is building view step of views (step 0: not
// loading), which consumes kinds.
func (f *Feed) LoadStatus() (step, views int, kinds []string) {
	step = int(f.loadStep.Load())
	if step > 0 && step <= len(f.handlers) {
		kinds = f.handlers[step-1].Kinds()
	}
	return step, len(f.handlers), kinds
}

// Reachability says whether the feed can read the store: asOf is the last time it read the
// log (the views reflect every write committed before then), downSince when it started to
// fail for want of a store (zero while the store answers). Between the two, the views are
// stale by at most the time since asOf; the node serves from them meanwhile.
func (f *Feed) Reachability() (asOf, downSince time.Time) {
	return unixTime(f.lastRead.Load()), unixTime(f.downSince.Load())
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// observe records the outcome of a read of the log for Reachability.
func (f *Feed) observe(err error) {
	now := time.Now().UnixNano()
	switch {
	case err == nil:
		f.lastRead.Store(now)
		if f.downSince.Swap(0) != 0 {
			f.log.Info("the store answers again; the change feed is catching up")
		}
	case apperr.Is(err, apperr.Unavailable):
		if f.downSince.CompareAndSwap(0, now) {
			f.log.Warn("the store is unavailable: serving from the in-memory views; writes answer 503 until it is back", "error", err)
		}
	}
}

// New builds a feed over store for handlers.
func New(store storage.Store, log *slog.Logger, handlers ...Handler) *Feed {
	f := &Feed{store: store, byKind: map[string][]Handler{}, handlers: handlers, log: log,
		SkipAfter: DefaultSkipAfter, SkipAge: DefaultSkipAge}
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
	return f.load(ctx)
}

func (f *Feed) load(ctx context.Context) error {
	seq, err := f.store.LatestSeq(ctx)
	f.observe(err)
	if err != nil {
		return fmt.Errorf("changefeed: %w", err)
	}
	defer f.loadStep.Store(0)
	for i, h := range f.handlers {
		f.loadStep.Store(int32(i + 1))
		if err := h.Load(ctx, f.store); err != nil {
			return fmt.Errorf("changefeed: load: %w", err)
		}
	}
	f.seq.Store(seq)
	return nil
}

// Seq is the last sequence number applied.
func (f *Feed) Seq() int64 { return f.seq.Load() }

// Reloads counts the full reloads Sync made because the entries it needed had been compacted
// away.
func (f *Feed) Reloads() int64 { return f.reloads.Load() }

// SkippedCount is how many entries the feed went past because a view failed them.
func (f *Feed) SkippedCount() int64 { return f.skipped.Load() }

// LastSkipped is the last entry skipped, nil when none was.
func (f *Feed) LastSkipped() *Skipped { return f.lastSkip.Load() }

// Sync applies every change written so far. An entry is given to every view that consumes
// its kind, even when one of them fails it. On error the entries not applied are retried by
// the next Sync; an entry that keeps failing (a poison entry: SkipAfter syncs in a row, over
// SkipAge) is skipped, logged and counted, so that one view's trouble with one record cannot
// stop every later write from reaching every view. The view that failed it stays stale for
// that record until the record is written again.
//
// A node that fell behind by more than the log keeps (the store compacts it: see
// storage.ChangeLog.CompactChanges) finds the entries after its position gone: the first entry
// it reads is not the next sequence number. It then rebuilds every view from the store, as at
// start, instead of applying a log with a hole in it.
func (f *Feed) Sync(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		at := f.seq.Load()
		changes, err := f.store.ChangesSince(ctx, at, batch)
		f.observe(err)
		if err != nil {
			return fmt.Errorf("changefeed: read: %w", err)
		}
		if len(changes) > 0 && changes[0].Seq > at+1 {
			f.log.Warn("change feed fell behind the retained change log; reloading every view from the store",
				"applied_seq", at, "oldest_retained_seq", changes[0].Seq)
			f.reloads.Add(1)
			return f.load(ctx)
		}
		for _, c := range changes {
			if err := f.apply(ctx, c); err != nil {
				return err
			}
			f.seq.Store(c.Seq)
		}
		if len(changes) < batch {
			return nil
		}
	}
}

// apply gives c to its views; it returns an error only when c is to be retried.
func (f *Feed) apply(ctx context.Context, c storage.Change) error {
	var failed error
	for _, h := range f.byKind[c.Kind] {
		if err := h.Apply(ctx, f.store, c); err != nil && failed == nil {
			failed = fmt.Errorf("changefeed: apply %s %s: %w", c.Kind, c.Key, err)
		}
	}
	if failed == nil || ctx.Err() != nil {
		return failed
	}
	now := time.Now()
	if f.failing.seq != c.Seq {
		f.failing.seq, f.failing.count, f.failing.since = c.Seq, 0, now
	}
	f.failing.count++
	if f.failing.count < f.SkipAfter || now.Sub(f.failing.since) < f.SkipAge {
		return failed
	}
	sk := &Skipped{Seq: c.Seq, Kind: c.Kind, Key: c.Key, Error: failed.Error()}
	f.skipped.Add(1)
	f.lastSkip.Store(sk)
	f.log.Error("change feed skipped an entry a view keeps failing to apply; that view is stale for this record until it is written again",
		"seq", c.Seq, "kind", c.Kind, "key", c.Key, "attempts", f.failing.count, "error", failed)
	return nil
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
		pctx, cancel := context.WithTimeout(ctx, PollTimeout)
		err := f.Sync(pctx)
		cancel()
		switch {
		case err == nil || ctx.Err() != nil:
		case apperr.Is(err, apperr.Unavailable):
			// Reported once by observe when the store went away, and once when it is back.
			f.log.Debug("change feed: the store is still unavailable", "error", err)
		default:
			f.log.Error("change feed sync failed; views may be stale until the next poll", "error", err)
		}
	}
}

// PollTimeout bounds one poll of Run (a full reload included: about 11 s at a million role
// assignments), so that a database that accepts connections but never answers is reported
// unavailable instead of holding the feed, and the requests that wait on it, for good.
const PollTimeout = 30 * time.Second
