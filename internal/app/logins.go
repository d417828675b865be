package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhold/keyhold/internal/telemetry"
)

// loginFlushInterval is how often users' last logins noted by the token endpoint are written
// (one transaction per 500 users, no change-log entry): the lastLogin the users API serves
// lags a token by at most this much.
const loginFlushInterval = 5 * time.Second

// FlushLogins writes the last logins noted so far now (Run does it every loginFlushInterval
// and at shutdown).
func (n *Node) FlushLogins(ctx context.Context) { n.logins.Flush(ctx) }

func (n *Node) loginMetrics(m *telemetry.Metrics) {
	m.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keyhold_last_logins_written_total",
			Help: "Users' last logins (the last time one of their credentials obtained a token) this node wrote."},
			func() float64 { return float64(n.logins.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keyhold_last_logins_dropped_total",
			Help: "Users' last logins not recorded because too many users were pending between flushes."},
			func() float64 { return float64(n.logins.Dropped()) }))
}
