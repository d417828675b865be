package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultStoreTimeout bounds a write transaction and a management API request: long enough
// for any write keyhold makes on a healthy database, short enough that a client learns of an
// unavailable database (503, Retry-After) before its own timeout.
const DefaultStoreTimeout = 5 * time.Second

// DefaultMaxStaleness is how long a node that cannot read the store stays ready ("degraded")
// on its in-memory views. While the database is down for every node nothing can be written,
// so the views miss at most the last poll interval's writes; a node cut off alone misses what
// the others write (a revocation, a deleted credential) for as long as it is cut off, which
// this bounds for nodes behind a balancer that honours /readyz.
const DefaultMaxStaleness = 5 * time.Minute

// storeUnavailableSeconds reports how long the feed has been unable to read the store (0 while
// it can).
func (n *Node) storeUnavailableSeconds() float64 {
	_, down := n.Feed.Reachability()
	if down.IsZero() {
		return 0
	}
	return time.Since(down).Seconds()
}

// availabilityMetrics are the gauges of the store's reachability.
func (n *Node) availabilityMetrics() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keyhold_store_unavailable_seconds",
			Help: "How long this node has been unable to read the store (0 while it can); it serves from its in-memory views meanwhile."},
			n.storeUnavailableSeconds),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keyhold_views_age_seconds",
			Help: "Time since this node last read the change log: how stale its in-memory views may be."},
			func() float64 {
				asOf, _ := n.Feed.Reachability()
				if asOf.IsZero() {
					return 0
				}
				return time.Since(asOf).Seconds()
			}),
	}
}
