package audit

import (
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// Sink receives committed audit records.
type Sink interface {
	Emit(r *storage.AuditRecord)
}

// Line is a record as one JSON line of the stream (docs/operations.md documents the fields).
type Line struct {
	ID           string `json:"id"`
	Chain        string `json:"workspaceId"`
	Seq          int64  `json:"seq"`
	At           string `json:"createdAt"`
	Category     string `json:"category"`
	Action       string `json:"action"`
	Outcome      string `json:"outcome"`
	Principal    string `json:"principal,omitempty"`
	CredentialID string `json:"credentialId,omitempty"`
	OwnerID      string `json:"ownerId,omitempty"`
	Username     string `json:"username,omitempty"`
	SourceAddr   string `json:"ipAddress,omitempty"`
	RequestID    string `json:"debugId,omitempty"`
	TargetKind   string `json:"targetKind,omitempty"`
	TargetID     string `json:"targetId,omitempty"`
	TargetGRN    string `json:"targetGrn,omitempty"`
	Description  string `json:"description"`
	PrevHash     string `json:"prevHash"`
	Hash         string `json:"hash"`
}

// LineOf converts a record.
func LineOf(r *storage.AuditRecord) Line {
	return Line{ID: r.ID, Chain: r.Chain, Seq: r.Seq, At: r.At.UTC().Format(time.RFC3339Nano), Category: r.Category,
		Action: r.Action, Outcome: r.Outcome, Principal: r.Principal, CredentialID: r.CredentialID, OwnerID: r.OwnerID,
		Username: r.Username, SourceAddr: r.SourceAddr, RequestID: r.RequestID, TargetKind: r.TargetKind,
		TargetID: r.TargetID, TargetGRN: r.TargetGRN, Description: r.Description, PrevHash: r.PrevHash, Hash: r.Hash}
}

// JSONLines writes each record as one JSON line to W from a goroutine of its own, so that a
// slow reader (a pipe to a log shipper) never holds a request back: up to buffer lines wait,
// more are dropped and counted. The database stays the complete record.
type JSONLines struct {
	w       io.Writer
	log     *slog.Logger
	ch      chan *storage.AuditRecord
	dropped atomic.Int64
	done    chan struct{}
	once    sync.Once
}

// NewJSONLines starts a stream to w.
func NewJSONLines(w io.Writer, log *slog.Logger, buffer int) *JSONLines {
	if buffer <= 0 {
		buffer = DefaultRecorderBuffer
	}
	s := &JSONLines{w: w, log: log, ch: make(chan *storage.AuditRecord, buffer), done: make(chan struct{})}
	go s.run()
	return s
}

// Emit queues r; it never blocks.
func (s *JSONLines) Emit(r *storage.AuditRecord) {
	select {
	case s.ch <- r:
	default:
		s.dropped.Add(1)
	}
}

// Dropped is how many records the stream dropped.
func (s *JSONLines) Dropped() int64 { return s.dropped.Load() }

// Close writes what is queued and stops.
func (s *JSONLines) Close() {
	s.once.Do(func() { close(s.ch) })
	<-s.done
}

func (s *JSONLines) run() {
	defer close(s.done)
	for r := range s.ch {
		b, err := json.Marshal(LineOf(r))
		if err == nil {
			_, err = s.w.Write(append(b, '\n'))
		}
		if err != nil {
			s.dropped.Add(1)
			if s.log != nil {
				s.log.Warn("audit stream: write failed", "error", err)
			}
		}
	}
}
