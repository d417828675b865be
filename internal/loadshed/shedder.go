package loadshed

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

const (
	// Interval is how often the delay is sampled and the probability adjusted.
	Interval = 50 * time.Millisecond
	// Quantile is the share of the scheduler's waits that the target bounds: the 99th
	// percentile. The median barely moves under overload (most waits are a goroutine handed
	// straight to the next free CPU); the tail is where queued requests show.
	Quantile = 0.99
	// step is how much the refusal probability moves per interval (of probScale): one point
	// every 50 ms, so from 0 to the maximum in about five seconds of sustained overload. Larger
	// steps overshoot: clients that honour Retry-After stay away for a second, so a burst of
	// refusals empties the node before the delay can show it.
	step = probScale / 100
	// maxProb keeps a few requests flowing even under the worst overload, so that a client
	// retrying is never refused for ever.
	maxProb = probScale * 99 / 100
	// persist is how many intervals in a row the delay must exceed the target before the
	// probability rises.
	persist = 2
	// minSamples: an interval with fewer scheduler samples says nothing. The runtime samples
	// a share of goroutine wake-ups; an overloaded node records hundreds per interval, a node
	// at half of its capacity a few dozen, whose 99th percentile is one unlucky wait.
	minSamples = 100
	probScale  = 1 << 16
)

// schedLatencies is the runtime's histogram of the time goroutines spent runnable before
// they ran. Bucket counts only grow.
const schedLatencies = "/sched/latencies:seconds"

// Shedder holds the refusal probability. A nil *Shedder admits everything; New makes one
// that adjusts itself once Run is started.
type Shedder struct {
	// Busy, when set, tells whether the node has enough work in progress for a delay to
	// mean overload; an interval in which it reports false counts as one without delay.
	Busy func() bool

	target time.Duration
	prob   atomic.Uint32 // refusal probability, of probScale
	delay  atomic.Int64  // Quantile of the last interval's scheduler waits, in nanoseconds
	over   int           // consecutive intervals over the target (Run's goroutine only)
	read   func() *metrics.Float64Histogram
	prev   []uint64
}

// New returns a Shedder that keeps the scheduler's 99th-percentile wait near target. target must be
// positive.
func New(target time.Duration) *Shedder {
	return &Shedder{target: target, read: readSchedLatencies}
}

// Admit reports whether a request may be served. It is safe for concurrent use and costs
// one atomic load when the node is not overloaded.
func (s *Shedder) Admit() bool {
	if s == nil {
		return true
	}
	p := s.prob.Load()
	return p == 0 || rand.Uint32N(probScale) >= p
}

// Probability is the current refusal probability, between 0 and 1.
func (s *Shedder) Probability() float64 { return float64(s.prob.Load()) / probScale }

// Delay is the 99th percentile of the scheduler waits measured over the last interval.
func (s *Shedder) Delay() time.Duration { return time.Duration(s.delay.Load()) }

// Run samples the delay every Interval until ctx ends.
func (s *Shedder) Run(ctx context.Context) {
	t := time.NewTicker(Interval)
	defer t.Stop()
	s.sample() // the baseline: waits before Run started do not count
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.adjust(s.sample())
		}
	}
}

// sample returns the Quantile of the waits recorded since the previous sample (-1 when too
// few).
func (s *Shedder) sample() time.Duration {
	h := s.read()
	if h == nil {
		return -1
	}
	var d time.Duration = -1
	if len(s.prev) == len(h.Counts) {
		d = quantile(h, s.prev, Quantile)
	}
	s.prev = append(s.prev[:0], h.Counts...)
	return d
}

// adjust moves the probability by one step toward what the delay d asks for: up while d has
// been over the target on a busy node for persist intervals in a row (a single slow interval
// is a collector cycle or another program's burst, not overload), down once it is under half
// of it, held in between. An interval in which the node is not busy never raises the
// probability but does not lower it either unless the delay is low: under overload, Busy
// flickers as connections wait in the kernel between requests.
func (s *Shedder) adjust(d time.Duration) {
	d = max(d, 0)
	s.delay.Store(int64(d))
	if d > s.target && (s.Busy == nil || s.Busy()) {
		s.over++
	} else {
		s.over = 0
	}
	p := s.prob.Load()
	switch {
	case s.over >= persist:
		p = min(p+step, maxProb)
	case d < s.target/2:
		p -= min(p, step)
	}
	s.prob.Store(p)
}

// quantile is the q-quantile of the counts that h holds beyond prev (the upper bound of the
// bucket it falls in), or -1 when fewer than minSamples were recorded.
func quantile(h *metrics.Float64Histogram, prev []uint64, q float64) time.Duration {
	var total uint64
	for i, c := range h.Counts {
		total += c - prev[i]
	}
	if total < minSamples {
		return -1
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range h.Counts {
		seen += c - prev[i]
		if seen >= rank {
			upper := h.Buckets[i+1]
			if math.IsInf(upper, 1) {
				upper = h.Buckets[i]
			}
			return time.Duration(upper * float64(time.Second))
		}
	}
	return -1
}

func readSchedLatencies() *metrics.Float64Histogram {
	sample := []metrics.Sample{{Name: schedLatencies}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return sample[0].Value.Float64Histogram()
}

// Fixed returns a Shedder that refuses with probability p (0 to 1, capped like an adjusting
// one) and never adjusts: for tests of what refusing looks like to a client.
func Fixed(p float64) *Shedder {
	s := &Shedder{read: func() *metrics.Float64Histogram { return nil }}
	s.prob.Store(uint32(min(max(p, 0), float64(maxProb)/probScale) * probScale))
	return s
}
