package hugepages

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"time"
)

// MinMapping is the smallest mapping Keep advises: the Go heap's arenas are 64 MiB each, while
// thread stacks (8 MiB) and the C allocator's arenas stay below it, so that memory which is
// mostly untouched is not turned into whole 2 MiB pages.
const MinMapping = 64 << 20

// hugePage is the size of a transparent huge page on the platforms keyhold runs on (x86-64,
// arm64 with 4 KiB base pages).
const hugePage = 2 << 20

// Report is what one pass did.
type Report struct {
	Mode      string // the kernel's THP setting: always, madvise, never, or "" when unknown
	Mappings  int    // mappings advised
	Advised   uint64 // bytes in them (2 MiB-aligned parts)
	Collapsed uint64 // bytes collapsed in this pass (not collapsed before)
	Huge      uint64 // the process's memory on huge pages after the pass (AnonHugePages)
}

// mapping is one line of /proc/self/maps that matters here.
type mapping struct {
	start, end uintptr
	anonymous  bool // no backing file
	private    bool
	writable   bool
	readable   bool
}

// span is a half-open address range [start, end).
type span struct{ start, end uintptr }

// eligible returns the 2 MiB-aligned parts of the mappings Keep advises, in address order.
func eligible(ms []mapping) []span {
	var out []span
	for _, m := range ms {
		if !m.anonymous || !m.private || !m.writable || !m.readable || m.end-m.start < MinMapping {
			continue
		}
		s := span{alignUp(m.start), m.end &^ (hugePage - 1)}
		if s.end > s.start {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, byStart)
	return out
}

func alignUp(p uintptr) uintptr { return (p + hugePage - 1) &^ (hugePage - 1) }

func byStart(a, b span) int { return cmp.Compare(a.start, b.start) }

// covered is the set of ranges already collapsed: sorted, disjoint, not adjacent.
type covered []span

// missing returns the parts of s not in c, in order.
func (c covered) missing(s span) []span {
	var out []span
	at := s.start
	for _, x := range c {
		if x.end <= at {
			continue
		}
		if x.start >= s.end {
			break
		}
		if x.start > at {
			out = append(out, span{at, x.start})
		}
		at = max(at, x.end)
		if at >= s.end {
			return out
		}
	}
	if at < s.end {
		out = append(out, span{at, s.end})
	}
	return out
}

// add returns c with s added, merged with what it overlaps or touches.
func (c covered) add(s span) covered {
	out := make(covered, 0, len(c)+1)
	for _, x := range c {
		switch {
		case x.end < s.start:
			out = append(out, x)
		case x.start > s.end:
			out = append(out, x)
		default:
			s = span{min(s.start, x.start), max(s.end, x.end)}
		}
	}
	out = append(out, s)
	slices.SortFunc(out, byStart)
	return out
}

// Keeper advises and collapses; one per process (the heap is the process's).
type Keeper struct {
	done  covered
	os    osMemory
	nudge chan struct{}
}

// osMemory is what a pass needs from the kernel (a fake in tests).
type osMemory interface {
	mode() string
	disabled() bool // GODEBUG=disablethp=1
	mappings() ([]mapping, error)
	advise(span) error
	collapse(span) uint64 // bytes now on huge pages, of those asked for
	huge() uint64
}

// NewKeeper returns a Keeper for this process.
func NewKeeper() *Keeper { return &Keeper{os: system{}, nudge: make(chan struct{}, 1)} }

// Nudge asks Keep for a pass now (e.g. once a large view is built) instead of at the next
// tick. It never blocks.
func (k *Keeper) Nudge() {
	select {
	case k.nudge <- struct{}{}:
	default:
	}
}

// Pass advises the eligible mappings and collapses what no earlier pass collapsed. It does
// nothing (and says why in Report.Mode) where the kernel gives no huge pages on request.
func (k *Keeper) Pass() (Report, error) {
	r := Report{Mode: k.os.mode()}
	if r.Mode == "never" || r.Mode == "" || k.os.disabled() {
		return r, nil
	}
	ms, err := k.os.mappings()
	if err != nil {
		return r, err
	}
	for _, s := range eligible(ms) {
		if err := k.os.advise(s); err != nil {
			return r, err
		}
		r.Mappings++
		r.Advised += uint64(s.end - s.start)
		for _, m := range k.done.missing(s) {
			// What the kernel does not collapse (a 2 MiB range with nothing in it yet, pages
			// that cannot move, a kernel without MADV_COLLAPSE) stays advised: new memory
			// there is faulted in as huge pages and khugepaged collapses the rest later. It is
			// not tried again either way.
			r.Collapsed += k.os.collapse(m)
			k.done = k.done.add(m)
		}
	}
	r.Huge = k.os.huge()
	return r, nil
}

// Keep runs a pass at once and then every interval until ctx ends, logging each pass that
// collapsed memory and the first failure.
func (k *Keeper) Keep(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failed := false
	for {
		start := time.Now()
		r, err := k.Pass()
		switch {
		case err != nil && !failed:
			failed = true
			log.Warn("huge pages: could not advise the heap; it stays on the kernel's default pages", "err", err)
		case err == nil && r.Collapsed > 0:
			log.Info("huge pages: moved new heap memory to 2 MiB pages", "thp", r.Mode, "mappings", r.Mappings,
				"advised_mib", r.Advised>>20, "collapsed_mib", r.Collapsed>>20, "huge_mib", r.Huge>>20,
				"duration_ms", time.Since(start).Milliseconds())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-k.nudge:
		}
	}
}
