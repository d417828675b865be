package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// recorder collects the answers of one interval.
type recorder struct {
	mu       sync.Mutex
	ops      map[string]*opStats
	examples []string // the first unexpected answers of the whole run
}

type opStats struct {
	latencies  []time.Duration
	count      int
	fivexx     int
	unexpected int // anything else that was not the expected answer, transport errors included
}

func newRecorder() *recorder { return &recorder{ops: map[string]*opStats{}} }

const maxExamples = 20

func (r *recorder) record(name, node string, a answer, elapsed time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.ops[name]
	if s == nil {
		s = &opStats{}
		r.ops[name] = s
	}
	s.count++
	s.latencies = append(s.latencies, elapsed)
	if ok {
		return
	}
	if a.status >= 500 {
		s.fivexx++
	} else {
		s.unexpected++
	}
	if len(r.examples) < maxExamples {
		what := fmt.Sprintf("status %d: %.400s", a.status, strings.TrimSpace(string(a.body)))
		if a.err != nil {
			what = fmt.Sprintf("status %d: %v", a.status, a.err)
		}
		r.examples = append(r.examples, fmt.Sprintf("%s %s %s %s", time.Now().UTC().Format(time.RFC3339), node, name, what))
	}
}

// take returns the interval's statistics and starts the next interval.
func (r *recorder) take() map[string]*opStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops := r.ops
	r.ops = map[string]*opStats{}
	return ops
}

func (r *recorder) unexpectedExamples() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.examples)
}

// sample is one interval of the run.
type sample struct {
	index    int
	elapsed  time.Duration // since the load started, at the end of the interval
	seconds  float64       // length of the interval
	ops      map[string]*opStats
	late     int64
	procs    []procStats // by node
	procErr  error
	changes  int64
	chErr    error
	requests int
	fivexx   int
	other    int
	p50, p99 time.Duration // over every request of the interval
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

// summarize fills the interval's totals and sorts its latencies.
func (s *sample) summarize() {
	var all []time.Duration
	for _, o := range s.ops {
		slices.Sort(o.latencies)
		all = append(all, o.latencies...)
		s.requests += o.count
		s.fivexx += o.fivexx
		s.other += o.unexpected
	}
	slices.Sort(all)
	s.p50, s.p99 = quantile(all, 0.5), quantile(all, 0.99)
}

// printInterval writes the table of one interval.
func printInterval(w io.Writer, s *sample, nodes []*node) {
	fmt.Fprintf(w, "\n== interval %d (%s into the run, %s)\n", s.index, s.elapsed.Round(time.Second), time.Now().UTC().Format("15:04:05 UTC"))
	fmt.Fprintf(w, "%-14s %9s %9s %9s %9s %6s %6s\n", "operation", "requests", "per s", "p50 ms", "p99 ms", "5xx", "other")
	for _, name := range reportNames {
		o := s.ops[name]
		if o == nil {
			continue
		}
		fmt.Fprintf(w, "%-14s %9d %9.1f %9s %9s %6d %6d\n", name, o.count, float64(o.count)/s.seconds,
			ms(quantile(o.latencies, 0.5)), ms(quantile(o.latencies, 0.99)), o.fivexx, o.unexpected)
	}
	fmt.Fprintf(w, "%-14s %9d %9.1f %9s %9s %6d %6d   late (skipped): %d\n", "all", s.requests, float64(s.requests)/s.seconds,
		ms(s.p50), ms(s.p99), s.fivexx, s.other, s.late)
	for i, p := range s.procs {
		fmt.Fprintf(w, "%s: RSS %s MiB (Go heap in use %s MiB), goroutines %d, open descriptors %d\n", nodes[i].name,
			mib(p.RSS), mib(p.HeapInuse), p.Goroutines, p.FDs)
	}
	if s.procErr != nil {
		fmt.Fprintf(w, "process figures: %v\n", s.procErr)
	}
	if s.chErr != nil {
		fmt.Fprintf(w, "change log: %v\n", s.chErr)
	} else {
		fmt.Fprintf(w, "change log: %d rows\n", s.changes)
	}
}

// printSummary writes one Markdown row per interval.
func printSummary(w io.Writer, samples []*sample, nodes []*node) {
	fmt.Fprintf(w, "\n## Summary\n\n| interval | end | requests/s | p50 ms | p99 ms | 5xx | other | late |")
	for _, n := range nodes {
		fmt.Fprintf(w, " %s RSS MiB | %s heap MiB | %s goroutines | %s fds |", n.name, n.name, n.name, n.name)
	}
	fmt.Fprintf(w, " change-log rows |\n|---:|---:|---:|---:|---:|---:|---:|---:|%s---:|\n", strings.Repeat("---:|---:|---:|---:|", len(nodes)))
	for _, s := range samples {
		fmt.Fprintf(w, "| %d | %s | %.0f | %s | %s | %d | %d | %d |", s.index, s.elapsed.Round(time.Second),
			float64(s.requests)/s.seconds, ms(s.p50), ms(s.p99), s.fivexx, s.other, s.late)
		for i := range nodes {
			if i < len(s.procs) {
				p := s.procs[i]
				fmt.Fprintf(w, " %s | %s | %d | %d |", mib(p.RSS), mib(p.HeapInuse), p.Goroutines, p.FDs)
			} else {
				fmt.Fprint(w, " ? | ? | ? | ? |")
			}
		}
		fmt.Fprintf(w, " %d |\n", s.changes)
	}
}

// growthSlack is added to the relative tolerance: small counts (goroutines, descriptors) move
// by a few with the connections the load keeps open, and RSS by a few pages.
var growthSlack = map[string]float64{"RSS": 16 << 20, "heap": 16 << 20, "goroutines": 20, "descriptors": 20}

// verdict decides the run: every answer expected, every node alive, and no resource of any
// node growing from the middle third of the run to the last third by more than tolerance
// (plus a small absolute slack). It returns the failures, empty when the run passed.
func verdict(samples []*sample, nodes []*node, tolerance float64, nodeErr error, examples []string) []string {
	var fails []string
	var fivexx, other, requests int
	for _, s := range samples {
		fivexx += s.fivexx
		other += s.other
		requests += s.requests
	}
	if requests == 0 {
		fails = append(fails, "no request was answered")
	}
	if fivexx > 0 {
		fails = append(fails, fmt.Sprintf("%d answers were 5xx", fivexx))
	}
	if other > 0 {
		fails = append(fails, fmt.Sprintf("%d answers were unexpected (wrong status, wrong decision or no answer)", other))
	}
	if nodeErr != nil {
		fails = append(fails, nodeErr.Error())
	}
	if fivexx+other > 0 {
		fails = append(fails, "first unexpected answers:\n    "+strings.Join(examples, "\n    "))
	}
	if len(samples) < 3 {
		return append(fails, fmt.Sprintf("only %d intervals: growth needs at least 3 (a shorter -interval)", len(samples)))
	}
	third := len(samples) / 3
	middle, last := samples[third:len(samples)-third], samples[len(samples)-third:]
	for i, n := range nodes {
		for _, m := range []struct {
			name string
			get  func(procStats) float64
		}{
			{"RSS", func(p procStats) float64 { return float64(p.RSS) }},
			{"heap", func(p procStats) float64 { return float64(p.HeapInuse) }},
			{"goroutines", func(p procStats) float64 { return float64(p.Goroutines) }},
			{"descriptors", func(p procStats) float64 { return float64(p.FDs) }},
		} {
			mid, end := meanOf(middle, i, m.get), meanOf(last, i, m.get)
			if limit := mid*(1+tolerance) + growthSlack[m.name]; end > limit {
				fails = append(fails, fmt.Sprintf("%s %s grew: %.0f on average in the last third, %.0f in the middle third (limit %.0f)",
					n.name, m.name, end, mid, limit))
			}
		}
	}
	return fails
}

func meanOf(samples []*sample, node int, get func(procStats) float64) float64 {
	var sum float64
	var n int
	for _, s := range samples {
		if node < len(s.procs) {
			sum += get(s.procs[node])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
