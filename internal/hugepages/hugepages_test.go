package hugepages

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"
)

const mib = 1 << 20

func TestEligibleTakesLargePrivateAnonymousWritableMappings(t *testing.T) {
	base := uintptr(0x7f0000000000)
	ms := []mapping{
		{start: base, end: base + 128*mib, anonymous: true, private: true, writable: true, readable: true},                         // the heap
		{start: base + 200*mib + 4096, end: base + 300*mib + 8192, anonymous: true, private: true, writable: true, readable: true}, // unaligned ends
		{start: base + 400*mib, end: base + 408*mib, anonymous: true, private: true, writable: true, readable: true},               // a thread stack
		{start: base + 500*mib, end: base + 600*mib, anonymous: false, private: true, writable: true, readable: true},              // a file
		{start: base + 700*mib, end: base + 800*mib, anonymous: true, private: false, writable: true, readable: true},              // shared
		{start: base + 900*mib, end: base + 1000*mib, anonymous: true, private: true, writable: false, readable: true},             // read-only
		{start: base + 1100*mib, end: base + 1200*mib, anonymous: true, private: true, writable: true, readable: false},            // reserved, PROT_NONE-like
	}
	got := eligible(ms)
	want := []span{{base, base + 128*mib}, {base + 202*mib, base + 300*mib}}
	if len(got) != len(want) {
		t.Fatalf("eligible = %x, want %x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("eligible[%d] = %x, want %x", i, got[i], want[i])
		}
	}
}

// covered is checked against a plain set of 2 MiB pages.
func TestCoveredMatchesASetOfPages(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var c covered
		set := map[uintptr]bool{}
		for step := 0; step < 30; step++ {
			a := uintptr(r.IntN(64)) * hugePage
			b := a + uintptr(1+r.IntN(16))*hugePage
			s := span{a, b}
			var miss []uintptr
			for _, m := range c.missing(s) {
				if m.start >= m.end || m.start < s.start || m.end > s.end {
					t.Fatalf("missing(%x) gave %x", s, m)
				}
				for p := m.start; p < m.end; p += hugePage {
					miss = append(miss, p)
				}
			}
			var want []uintptr
			for p := a; p < b; p += hugePage {
				if !set[p] {
					want = append(want, p)
				}
			}
			if len(miss) != len(want) {
				t.Fatalf("round %d: missing(%x) = %d pages, want %d", round, s, len(miss), len(want))
			}
			for i := range want {
				if miss[i] != want[i] {
					t.Fatalf("round %d: missing(%x) page %d = %x, want %x", round, s, i, miss[i], want[i])
				}
			}
			c = c.add(s)
			for p := a; p < b; p += hugePage {
				set[p] = true
			}
			for i := 1; i < len(c); i++ {
				if c[i-1].end >= c[i].start {
					t.Fatalf("covered not disjoint and separated: %x", c)
				}
			}
		}
	}
}

// fakeOS records what a pass asked of the kernel.
type fakeOS struct {
	thp       string
	off       bool
	ms        []mapping
	advised   []span
	collapsed []span
	adviseErr error
}

func (f *fakeOS) mode() string                 { return f.thp }
func (f *fakeOS) disabled() bool               { return f.off }
func (f *fakeOS) mappings() ([]mapping, error) { return f.ms, nil }
func (f *fakeOS) huge() uint64                 { return 0 }
func (f *fakeOS) advise(s span) error {
	f.advised = append(f.advised, s)
	return f.adviseErr
}
func (f *fakeOS) collapse(s span) uint64 {
	f.collapsed = append(f.collapsed, s)
	return uint64(s.end - s.start)
}

func heap(start, end uintptr) mapping {
	return mapping{start: start, end: end, anonymous: true, private: true, writable: true, readable: true}
}

func TestPassCollapsesEachRangeOnce(t *testing.T) {
	f := &fakeOS{thp: "madvise", ms: []mapping{heap(0x10000000, 0x10000000+64*mib)}}
	k := &Keeper{os: f}
	r, err := k.Pass()
	if err != nil || r.Mappings != 1 || r.Advised != 64*mib || r.Collapsed != 64*mib {
		t.Fatalf("first pass = %+v, %v", r, err)
	}
	// Nothing new: advised again (a no-op for the kernel), nothing collapsed.
	if r, _ := k.Pass(); r.Collapsed != 0 || r.Mappings != 1 {
		t.Fatalf("second pass = %+v", r)
	}
	// The heap grew by an arena next to the first: only the new part is collapsed.
	f.ms = []mapping{heap(0x10000000, 0x10000000+128*mib)}
	f.collapsed = nil
	r, _ = k.Pass()
	if r.Collapsed != 64*mib || len(f.collapsed) != 1 || f.collapsed[0] != (span{0x10000000 + 64*mib, 0x10000000 + 128*mib}) {
		t.Fatalf("after growth: %+v, collapsed %x", r, f.collapsed)
	}
}

func TestPassDoesNothingWhenTheKernelOrGODEBUGSaysNo(t *testing.T) {
	for _, f := range []*fakeOS{
		{thp: "never", ms: []mapping{heap(0, 64*mib)}},
		{thp: "", ms: []mapping{heap(0, 64*mib)}},
		{thp: "always", off: true, ms: []mapping{heap(0, 64*mib)}},
	} {
		r, err := (&Keeper{os: f}).Pass()
		if err != nil || r.Mappings != 0 || len(f.advised) != 0 || len(f.collapsed) != 0 {
			t.Errorf("mode %q, disabled %v: %+v, %v, advised %x", f.thp, f.off, r, err, f.advised)
		}
	}
}

func TestPassReportsAnAdviseFailure(t *testing.T) {
	boom := errors.New("EINVAL")
	f := &fakeOS{thp: "madvise", ms: []mapping{heap(0, 64*mib)}, adviseErr: boom}
	if _, err := (&Keeper{os: f}).Pass(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if len(f.collapsed) != 0 {
		t.Errorf("collapsed after a failed advice: %x", f.collapsed)
	}
}

// passOS is a fakeOS that reports each pass on a channel.
type passOS struct {
	fakeOS
	passes chan struct{}
}

func (p *passOS) mappings() ([]mapping, error) {
	p.passes <- struct{}{}
	return p.ms, nil
}

// Keep passes at once, again on Nudge (not waiting for the interval), and stops with ctx.
func TestKeepPassesAtOnceAndWhenNudged(t *testing.T) {
	f := &passOS{fakeOS: fakeOS{thp: "madvise", ms: []mapping{heap(0, 64*mib)}}, passes: make(chan struct{}, 16)}
	k := &Keeper{os: f, nudge: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { k.Keep(ctx, time.Hour, slog.New(slog.DiscardHandler)); close(done) }()
	select {
	case <-f.passes: // the first pass, at once
	case <-time.After(10 * time.Second):
		t.Fatal("no pass when Keep starts")
	}
	k.Nudge()
	k.Nudge() // a second nudge while one is pending is dropped, never blocks
	select {
	case <-f.passes:
	case <-time.After(10 * time.Second):
		t.Fatal("no pass after Nudge")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Keep did not stop with its context")
	}
}
