package hugepages

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// system is the running Linux kernel.
type system struct{}

// modeFile holds the kernel's THP setting, e.g. "always [madvise] never".
const modeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

func (system) mode() string {
	b, err := os.ReadFile(modeFile)
	if err != nil {
		return ""
	}
	return parseMode(string(b))
}

// parseMode returns the bracketed word of a THP setting file, or "" when there is no single
// bracketed word.
func parseMode(s string) string {
	var mode string
	for f := range strings.FieldsSeq(s) {
		w, ok := strings.CutPrefix(f, "[")
		if !ok {
			continue
		}
		w, ok = strings.CutSuffix(w, "]")
		if !ok || w == "" || mode != "" || strings.ContainsAny(w, "[]") {
			return ""
		}
		mode = w
	}
	return mode
}

func (system) disabled() bool { return godebugDisablesTHP(os.Getenv("GODEBUG")) }

// godebugDisablesTHP reports whether a GODEBUG value sets disablethp (the Go runtime's own
// switch for keeping its heap off huge pages); the last setting wins, as in the runtime.
func godebugDisablesTHP(v string) bool {
	off := false
	for kv := range strings.SplitSeq(v, ",") {
		if k, val, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "disablethp" {
			off = val != "0"
		}
	}
	return off
}

func (system) mappings() ([]mapping, error) {
	p, err := procfs.Self()
	if err != nil {
		return nil, err
	}
	ms, err := p.ProcMaps()
	if err != nil {
		return nil, err
	}
	out := make([]mapping, 0, len(ms))
	for _, m := range ms {
		out = append(out, mapping{start: m.StartAddr, end: m.EndAddr, anonymous: anonymous(m.Pathname, m.Inode),
			private: m.Perms.Private, writable: m.Perms.Write, readable: m.Perms.Read})
	}
	return out, nil
}

// anonymous reports whether a mapping with this path and inode has no file behind it: no path,
// or a name given to anonymous memory ("[anon: Go: heap]" where the kernel shows the names the
// Go runtime sets, CONFIG_ANON_VMA_NAME).
func anonymous(path string, inode uint64) bool {
	return inode == 0 && (path == "" || strings.HasPrefix(path, "[anon:"))
}

func (system) advise(s span) error {
	return madvise(s.start, s.end-s.start, unix.MADV_HUGEPAGE)
}

// collapse asks for one huge page at a time, so that a range with nothing in it yet (which
// the kernel refuses) does not hide the ones it did collapse.
func (system) collapse(s span) uint64 {
	var n uint64
	for p := s.start; p < s.end; p += hugePage {
		if madvise(p, hugePage, unix.MADV_COLLAPSE) == nil {
			n += hugePage
		}
	}
	return n
}

// madvise takes addresses, not a slice: the ranges are the heap's own mappings, which no Go
// value here refers to as a whole.
func madvise(addr, n uintptr, advice int) error {
	if _, _, e := unix.Syscall(unix.SYS_MADVISE, addr, n, uintptr(advice)); e != 0 {
		return e
	}
	return nil
}

func (system) huge() uint64 {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return 0
	}
	return anonHuge(b)
}

// anonHuge returns the AnonHugePages figure of smaps or smaps_rollup text, in bytes.
func anonHuge(b []byte) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "AnonHugePages:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
