package loadshed

import (
	"math"
	"runtime/metrics"
	"testing"
	"time"
)

// fakeRuntime is a scheduler-latency histogram that a test fills by hand.
type fakeRuntime struct{ h metrics.Float64Histogram }

func newFake() *fakeRuntime {
	// buckets: [0,1ms) [1ms,4ms) [4ms,16ms) [16ms,+Inf)
	return &fakeRuntime{h: metrics.Float64Histogram{
		Buckets: []float64{0, 0.001, 0.004, 0.016, math.Inf(1)},
		Counts:  make([]uint64, 4),
	}}
}

func (f *fakeRuntime) read() *metrics.Float64Histogram {
	c := append([]uint64(nil), f.h.Counts...)
	return &metrics.Float64Histogram{Buckets: f.h.Buckets, Counts: c}
}

func testShedder(target time.Duration) (*Shedder, *fakeRuntime) {
	f := newFake()
	s := &Shedder{target: target, read: f.read}
	s.sample() // baseline
	return s, f
}

// interval records n waits in bucket b and lets one interval pass.
func interval(s *Shedder, f *fakeRuntime, b int, n uint64) {
	f.h.Counts[b] += n
	s.adjust(s.sample())
}

func TestShedderRisesUnderDelayAndFallsBack(t *testing.T) {
	s, f := testShedder(5 * time.Millisecond)
	if !s.Admit() || s.Probability() != 0 {
		t.Fatal("a fresh shedder refuses")
	}
	interval(s, f, 0, 1000) // all waits under 1 ms
	if s.Probability() != 0 {
		t.Fatalf("probability %v with no delay", s.Probability())
	}
	for range 5 {
		interval(s, f, 3, 1000) // waits of 16 ms and more: over the target
	}
	// The first overloaded interval only counts (persist = 2); the next four raise it.
	if p := s.Probability(); p < 0.035 || p > 0.045 {
		t.Fatalf("after 5 overloaded intervals the probability is %v, want 0.04", p)
	}
	if s.Delay() != 16*time.Millisecond { // the upper bound of the last finite bucket
		t.Fatalf("delay %v", s.Delay())
	}
	for range 100 {
		interval(s, f, 3, 1000)
	}
	if p := s.Probability(); p != float64(maxProb)/probScale {
		t.Fatalf("sustained overload: probability %v, want the cap %v", p, float64(maxProb)/probScale)
	}
	interval(s, f, 2, 1000) // 4-16 ms: between target/2 and target... upper bound 16 ms > 5 ms
	interval(s, f, 1, 1000) // 1-4 ms: upper bound 4 ms, between 2.5 and 5 ms: hold
	held := s.Probability()
	if held < 0.9 {
		t.Fatalf("probability fell to %v in the hold band", held)
	}
	for range 100 {
		interval(s, f, 0, 1000) // under 1 ms: fall
	}
	if s.Probability() != 0 {
		t.Fatalf("probability %v after the delay went away", s.Probability())
	}
}

// One slow interval (a collector cycle, another program's burst) refuses nobody.
func TestShedderIgnoresASingleSlowInterval(t *testing.T) {
	s, f := testShedder(5 * time.Millisecond)
	for range 10 {
		interval(s, f, 3, 1000)
		interval(s, f, 0, 1000)
	}
	if s.Probability() != 0 {
		t.Fatalf("alternating slow and fast intervals raised the probability to %v", s.Probability())
	}
}

func TestShedderIgnoresQuietIntervals(t *testing.T) {
	s, f := testShedder(5 * time.Millisecond)
	for range 3 {
		interval(s, f, 3, 1000)
	}
	p := s.Probability()
	interval(s, f, 3, minSamples-1) // too few samples to say anything: counts as no delay
	if s.Probability() >= p {
		t.Fatalf("an idle interval raised or held the probability: %v -> %v", p, s.Probability())
	}
}

func TestQuantile(t *testing.T) {
	f := newFake()
	prev := make([]uint64, 4)
	f.h.Counts = []uint64{45, 0, 55, 0}
	if q := quantile(&f.h, prev, 0.5); q != 16*time.Millisecond {
		t.Fatalf("median of 45 fast and 55 slow: %v", q)
	}
	f.h.Counts = []uint64{89, 0, 11, 0}
	if q := quantile(&f.h, prev, 0.9); q != 16*time.Millisecond {
		t.Fatalf("p90 of 89 fast and 11 slow: %v", q)
	}
	f.h.Counts = []uint64{91, 0, 9, 0}
	if q := quantile(&f.h, prev, 0.9); q != time.Millisecond {
		t.Fatalf("p90 of 91 fast and 9 slow: %v", q)
	}
	f.h.Counts = []uint64{0, 0, 0, 150}
	if q := quantile(&f.h, prev, 0.9); q != 16*time.Millisecond {
		t.Fatalf("the +Inf bucket reports its lower bound: %v", q)
	}
}

func TestAdmitFollowsTheProbability(t *testing.T) {
	s := &Shedder{}
	s.prob.Store(probScale / 2)
	admitted := 0
	const n = 20000
	for range n {
		if s.Admit() {
			admitted++
		}
	}
	if admitted < n*4/10 || admitted > n*6/10 {
		t.Fatalf("at probability 0.5, %d of %d admitted", admitted, n)
	}
	var none *Shedder
	if !none.Admit() {
		t.Fatal("a nil Shedder refuses")
	}
}

// TestRealRuntimeHistogram checks that the Go runtime still offers the metric, in the shape
// quantile expects.
func TestRealRuntimeHistogram(t *testing.T) {
	h := readSchedLatencies()
	if h == nil || len(h.Buckets) != len(h.Counts)+1 {
		t.Fatalf("runtime metric %s missing or malformed", schedLatencies)
	}
}

func BenchmarkAdmit(b *testing.B) {
	s := New(5 * time.Millisecond)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = s.Admit()
		}
	})
}

func TestShedderWaitsForABusyNode(t *testing.T) {
	s, f := testShedder(5 * time.Millisecond)
	busy := false
	s.Busy = func() bool { return busy }
	for range 5 {
		interval(s, f, 3, 1000)
	}
	if s.Probability() != 0 {
		t.Fatalf("an idle node on a loaded machine sheds: %v", s.Probability())
	}
	if s.Delay() != 16*time.Millisecond {
		t.Fatalf("the delay is still reported: %v", s.Delay())
	}
	busy = true
	interval(s, f, 3, 1000)
	interval(s, f, 3, 1000)
	if s.Probability() == 0 {
		t.Fatal("a busy node with delay does not shed")
	}
}

// Under overload Busy flickers (connections wait in the kernel between requests): an interval
// that is not busy but still slow holds the probability instead of lowering it.
func TestShedderHoldsWhileSlowButNotBusy(t *testing.T) {
	s, f := testShedder(5 * time.Millisecond)
	busy := true
	s.Busy = func() bool { return busy }
	for range 10 {
		interval(s, f, 3, 1000)
	}
	p := s.Probability()
	if p == 0 {
		t.Fatal("a busy, slow node does not shed")
	}
	busy = false
	interval(s, f, 3, 1000)
	if s.Probability() != p {
		t.Fatalf("a slow interval that is not busy moved the probability: %v -> %v", p, s.Probability())
	}
	interval(s, f, 0, 1000)
	if s.Probability() >= p {
		t.Fatalf("a fast interval did not lower the probability: %v -> %v", p, s.Probability())
	}
}
