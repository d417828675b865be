package audit

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/keyhold/keyhold/internal/periodic"
	"github.com/keyhold/keyhold/internal/storage"
)

// DefaultRecorderBuffer is how many authentication failures and lockouts a Recorder holds
// before it drops (and counts) the newest.
const DefaultRecorderBuffer = 10000

// recorderBatch bounds the records one transaction appends.
const recorderBatch = 500

// Recorder records what is not a write (authentication failures, lockouts) off the request's
// path: Note hands the record to a buffered channel and returns; Run appends what arrived, in
// batches of up to recorderBatch per transaction, at most every interval. A failed request
// never waits on the store, and a flood of failures costs one transaction per batch. When the
// buffer is full a record is dropped and counted (Dropped), never waited for.
type Recorder struct {
	Store storage.AuditLog
	Log   *slog.Logger
	// Sink, when set, receives each record once it is committed (the SIEM stream).
	Sink Sink

	ch      chan *storage.AuditRecord
	dropped atomic.Int64
	written atomic.Int64
}

// NewRecorder makes a recorder holding up to buffer records (DefaultRecorderBuffer when 0).
func NewRecorder(st storage.AuditLog, log *slog.Logger, buffer int) *Recorder {
	if buffer <= 0 {
		buffer = DefaultRecorderBuffer
	}
	return &Recorder{Store: st, Log: log, ch: make(chan *storage.AuditRecord, buffer)}
}

// Note queues r (Chain, At, Category, Action, Outcome and who set by the caller). It never
// blocks. A nil Recorder drops everything.
func (rc *Recorder) Note(r *storage.AuditRecord) {
	if rc == nil {
		return
	}
	select {
	case rc.ch <- r:
	default:
		rc.dropped.Add(1)
	}
}

// Dropped is how many records were dropped because the buffer was full or the store failed.
func (rc *Recorder) Dropped() int64 { return rc.dropped.Load() }

// Written is how many records the recorder appended.
func (rc *Recorder) Written() int64 { return rc.written.Load() }

// Run appends queued records until ctx ends, then appends what is left (with a short
// deadline of its own).
func (rc *Recorder) Run(ctx context.Context, interval time.Duration) {
	periodic.Flush(ctx, interval, rc.Flush)
}

// Flush appends every queued record now.
func (rc *Recorder) Flush(ctx context.Context) {
	for {
		batch := rc.take()
		if len(batch) == 0 {
			return
		}
		if err := rc.Store.AppendAudit(ctx, batch); err != nil {
			rc.dropped.Add(int64(len(batch)))
			if rc.Log != nil {
				rc.Log.Warn("audit: could not record authentication failures", "error", err, "records", len(batch))
			}
			return
		}
		rc.written.Add(int64(len(batch)))
		if rc.Sink != nil {
			for _, r := range batch {
				rc.Sink.Emit(r)
			}
		}
	}
}

func (rc *Recorder) take() []*storage.AuditRecord {
	var batch []*storage.AuditRecord
	for len(batch) < recorderBatch {
		select {
		case r := <-rc.ch:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}
