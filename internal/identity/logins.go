package identity

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhold/keyhold/internal/periodic"
	"github.com/keyhold/keyhold/internal/storage"
)

// DefaultLoginPending bounds the distinct users a LoginRecorder holds between flushes; past
// it, logins of further users are dropped (and counted) until the next flush.
const DefaultLoginPending = 200000

// loginBatch bounds the users one RecordLogins transaction advances.
const loginBatch = 500

// LoginRecorder keeps users' last logins (the last time one of their credentials obtained a
// token) off the token path: Note only updates an in-memory map under a mutex; Run writes
// what accumulated to the store every interval, one transaction per loginBatch users, with
// no change-log entry (storage.Users.RecordLogins). A user who obtains a thousand tokens
// between flushes costs one row update. A login is at most one interval late in the API,
// and lost if the node dies before its flush: last logins are activity hints, not records
// (the audit log is where writes are recorded).
type LoginRecorder struct {
	Store interface {
		RecordLogins(ctx context.Context, logins []storage.Login) error
	}
	Log *slog.Logger
	// Max bounds the distinct users pending (DefaultLoginPending when 0).
	Max int

	mu      sync.Mutex
	pending map[string]time.Time
	dropped atomic.Int64
	written atomic.Int64
}

// Note records that userID's credential obtained a token at at. It never blocks on the
// store. A nil recorder, or an empty userID, records nothing.
func (r *LoginRecorder) Note(userID string, at time.Time) {
	if r == nil || userID == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string]time.Time{}
	}
	prev, seen := r.pending[userID]
	switch {
	case seen && !at.After(prev):
	case !seen && len(r.pending) >= r.max():
		r.dropped.Add(1)
	default:
		r.pending[userID] = at
	}
}

func (r *LoginRecorder) max() int {
	if r.Max > 0 {
		return r.Max
	}
	return DefaultLoginPending
}

// Dropped is how many logins were not recorded (too many users pending, or the store failed
// twice for them).
func (r *LoginRecorder) Dropped() int64 { return r.dropped.Load() }

// Written is how many user logins were written.
func (r *LoginRecorder) Written() int64 { return r.written.Load() }

// Run flushes every interval until ctx ends, then once more (with a short deadline).
func (r *LoginRecorder) Run(ctx context.Context, interval time.Duration) {
	periodic.Flush(ctx, interval, r.Flush)
}

// Flush writes every pending login now. A batch the store refuses is kept for the next
// flush (a newer login of the same user replaces it).
func (r *LoginRecorder) Flush(ctx context.Context) {
	batch := r.take()
	for len(batch) > 0 {
		n := min(len(batch), loginBatch)
		if err := r.Store.RecordLogins(ctx, batch[:n]); err != nil {
			if r.Log != nil {
				r.Log.Warn("last logins could not be recorded; retrying at the next flush", "error", err, "users", len(batch))
			}
			r.requeue(batch)
			return
		}
		r.written.Add(int64(n))
		batch = batch[n:]
	}
}

// take empties the pending map into a batch.
func (r *LoginRecorder) take() []storage.Login {
	r.mu.Lock()
	pending := r.pending
	r.pending = nil
	r.mu.Unlock()
	out := make([]storage.Login, 0, len(pending))
	for id, at := range pending {
		out = append(out, storage.Login{UserID: id, At: at})
	}
	return out
}

// requeue puts logins back after a failure, unless newer ones arrived meanwhile.
func (r *LoginRecorder) requeue(batch []storage.Login) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string]time.Time{}
	}
	for _, l := range batch {
		if prev, seen := r.pending[l.UserID]; seen && prev.After(l.At) {
			continue
		}
		if len(r.pending) >= r.max() {
			r.dropped.Add(1)
			continue
		}
		r.pending[l.UserID] = l.At
	}
}
