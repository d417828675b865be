package app

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhold/keyhold/internal/audit"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/telemetry"
)

// DefaultAuditRetention is how long audit records are kept by default.
const DefaultAuditRetention = 365 * 24 * time.Hour

// auditFlushInterval is how often authentication failures and lockouts queued by the
// recorder are written (one transaction per batch).
const auditFlushInterval = time.Second

// openAuditStream opens the configured stream: "-" is standard output, anything else a file
// opened for appending (created 0600).
func (n *Node) openAuditStream() error {
	switch n.cfg.AuditStream {
	case "":
		return nil
	case "-":
		n.auditStream = audit.NewJSONLines(os.Stdout, n.cfg.Log, 0)
		return nil
	}
	f, err := os.OpenFile(n.cfg.AuditStream, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("--audit-stream: %w", err)
	}
	n.auditFile = f
	n.auditStream = audit.NewJSONLines(f, n.cfg.Log, 0)
	return nil
}

// sink is the stream as an audit.Sink (nil when none is configured: an interface holding a
// nil pointer would not be nil).
func (n *Node) sink() audit.Sink {
	if n.auditStream == nil {
		return nil
	}
	return n.auditStream
}

func (n *Node) closeAuditStream() {
	if n.auditStream != nil {
		n.auditStream.Close()
	}
	if n.auditFile != nil {
		_ = n.auditFile.Close()
	}
}

// noteLockout records that a source address ran out of its failure budget (the platform
// chain: a budget is per address, not per workspace).
func (n *Node) noteLockout(addr netip.Addr, wait time.Duration) {
	n.audit.Note(&storage.AuditRecord{At: n.cfg.Now(), Category: audit.CategoryAuthentication, Action: audit.ActionLockout,
		Outcome: storage.AuditFailure, SourceAddr: addr.String(),
		Description: fmt.Sprintf("source %s locked out after repeated authentication failures for %s", addr, wait.Round(time.Second))})
}

// auditMetrics exports what the recorder and the stream dropped and wrote.
func (n *Node) auditMetrics(m *telemetry.Metrics) {
	m.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keyhold_audit_dropped_total",
			Help: "Authentication-failure and lockout audit records dropped (queue full or store unavailable)."},
			func() float64 { return float64(n.audit.Dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keyhold_audit_failures_recorded_total",
			Help: "Authentication-failure and lockout audit records this node wrote."},
			func() float64 { return float64(n.audit.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keyhold_audit_stream_dropped_total",
			Help: "Audit records the --audit-stream writer dropped (its reader did not keep up, or a write failed)."},
			func() float64 {
				if n.auditStream == nil {
					return 0
				}
				return float64(n.auditStream.Dropped())
			}),
	)
}

// auditPruneEvery is how often the janitor prunes the audit log.
const auditPruneEvery = time.Hour

// pruneAudit deletes audit records older than the retention (each chain keeps its anchor),
// at most once per auditPruneEvery.
func (n *Node) pruneAudit(ctx context.Context) {
	now := time.Now()
	if last := n.auditPruned.Load(); last != 0 && now.Sub(time.Unix(0, last)) < auditPruneEvery {
		return
	}
	n.auditPruned.Store(now.UnixNano())
	deleted, err := n.Store.PruneAudit(ctx, n.cfg.Now().Add(-n.cfg.AuditRetention))
	switch {
	case err != nil && ctx.Err() == nil:
		n.cfg.Log.Warn("janitor: audit retention", "error", err, "deleted", deleted)
	case deleted > 0:
		n.cfg.Log.Info("janitor: pruned the audit log", "deleted", deleted)
	}
}
