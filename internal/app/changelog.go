package app

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultChangeRetention is how long the change log keeps an entry by default: far longer
// than any sync interval, so that only a node that was stopped, paused or cut off for minutes
// needs a full reload.
const DefaultChangeRetention = 10 * time.Minute

// minRetentionIntervals is how many sync intervals the retention should span at least: a
// node merely slow to poll must not need a full reload.
const minRetentionIntervals = 30

// defaultRetention is the retention when none is configured: DefaultChangeRetention, or 30
// sync intervals when that is longer.
func defaultRetention(syncInterval time.Duration) time.Duration {
	return max(DefaultChangeRetention, minRetentionIntervals*syncInterval)
}

// checkRetention warns when the retention (whose range CheckSettings checks) spans fewer than
// 30 sync intervals: a node would then reload its views whenever a poll comes late.
func checkRetention(cfg *Config) {
	if least := minRetentionIntervals * cfg.SyncInterval; cfg.ChangeRetention < least {
		cfg.Log.Warn("the change retention spans fewer than 30 sync intervals: a node that polls late will reload all its views",
			"change_retention", cfg.ChangeRetention.String(), "sync_interval", cfg.SyncInterval.String(), "suggested", least.String())
	}
}

// compactChanges deletes change log entries older than the retention. Every node runs it from
// its janitor; runs on several nodes at once are harmless (storage.ChangeLog.CompactChanges).
func (n *Node) compactChanges(ctx context.Context) {
	deleted, err := n.Store.CompactChanges(ctx, n.cfg.Now().Add(-n.cfg.ChangeRetention))
	n.compacted.Add(deleted)
	switch {
	case err != nil && ctx.Err() == nil:
		n.cfg.Log.Warn("janitor: change log compaction", "error", err, "deleted", deleted)
	case deleted > 0:
		n.cfg.Log.Debug("janitor: compacted the change log", "deleted", deleted)
	}
}

// changeLogCollector reports the change log's extent at scrape time, reading the store with a
// short deadline; while the store cannot be read it reports the last values it read.
type changeLogCollector struct {
	n                        *Node
	oldest, latest, rows     *prometheus.Desc
	applied, reloads, purged *prometheus.Desc
	last                     atomic.Pointer[[2]int64] // oldest, latest
}

func newChangeLogCollector(n *Node) *changeLogCollector {
	return &changeLogCollector{n: n,
		oldest: prometheus.NewDesc("keyhold_change_log_oldest_seq",
			"Lowest sequence number still in the change log (after compaction).", nil, nil),
		latest: prometheus.NewDesc("keyhold_change_log_latest_seq",
			"Highest sequence number written to the change log.", nil, nil),
		rows: prometheus.NewDesc("keyhold_change_log_rows",
			"Entries in the change log (latest - oldest + 1: sequence numbers are dense).", nil, nil),
		applied: prometheus.NewDesc("keyhold_changefeed_applied_seq",
			"Last change log sequence number this node's views applied.", nil, nil),
		reloads: prometheus.NewDesc("keyhold_changefeed_reloads_total",
			"Full reloads of this node's views because it fell behind the retained change log.", nil, nil),
		purged: prometheus.NewDesc("keyhold_change_log_compacted_total",
			"Change log entries this node's janitor deleted.", nil, nil),
	}
}

func (c *changeLogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.oldest, c.latest, c.rows, c.applied, c.reloads, c.purged} {
		ch <- d
	}
}

func (c *changeLogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	oldest, err := c.n.Store.OldestSeq(ctx)
	var latest int64
	if err == nil {
		latest, err = c.n.Store.LatestSeq(ctx)
	}
	if err == nil {
		c.last.Store(&[2]int64{oldest, latest})
	}
	if last := c.last.Load(); last != nil {
		rows := int64(0)
		if last[0] > 0 {
			rows = last[1] - last[0] + 1
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, float64(last[0]))
		ch <- prometheus.MustNewConstMetric(c.latest, prometheus.GaugeValue, float64(last[1]))
		ch <- prometheus.MustNewConstMetric(c.rows, prometheus.GaugeValue, float64(rows))
	}
	ch <- prometheus.MustNewConstMetric(c.applied, prometheus.GaugeValue, float64(c.n.Feed.Seq()))
	ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(c.n.Feed.Reloads()))
	ch <- prometheus.MustNewConstMetric(c.purged, prometheus.CounterValue, float64(c.n.compacted.Load()))
}
