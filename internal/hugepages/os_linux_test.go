package hugepages

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never":   "always",
		"always madvise [never]":   "never",
		"":                         "",
		"always madvise never":     "",
		"] [":                      "",
		"[[]0":                     "",
		"[always] [never]":         "",
	} {
		if got := parseMode(in); got != want {
			t.Errorf("parseMode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGODEBUGDisablethp(t *testing.T) {
	for in, want := range map[string]bool{
		"":                               false,
		"disablethp=1":                   true,
		"gctrace=1,disablethp=1":         true,
		"disablethp=0":                   false,
		"disablethp=1,disablethp=0":      false,
		" disablethp=1 , madvdontneed=1": true,
		"xdisablethp=1":                  false,
	} {
		if got := godebugDisablesTHP(in); got != want {
			t.Errorf("godebugDisablesTHP(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestAnonymous(t *testing.T) {
	for _, c := range []struct {
		path  string
		inode uint64
		want  bool
	}{
		{"", 0, true},
		{"[anon: Go: heap]", 0, true},
		{"[anon:scudo:primary]", 0, true},
		{"[stack]", 0, false},
		{"[heap]", 0, false},
		{"/usr/lib/x86_64-linux-gnu/libc.so.6", 1234, false},
		{"/memfd:x (deleted)", 77, false},
		{"", 5, false},
	} {
		if got := anonymous(c.path, c.inode); got != c.want {
			t.Errorf("anonymous(%q, %d) = %v, want %v", c.path, c.inode, got, c.want)
		}
	}
}

func TestAnonHuge(t *testing.T) {
	in := "Rss:              974992 kB\nAnonymous:        900000 kB\nAnonHugePages:    935936 kB\nShmemPmdMapped:        0 kB\n"
	if got := anonHuge([]byte(in)); got != 935936<<10 {
		t.Errorf("anonHuge = %d", got)
	}
	if got := anonHuge([]byte("AnonHugePages: lots kB\n")); got != 0 {
		t.Errorf("anonHuge(garbage) = %d", got)
	}
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{"always [madvise] never", "[", "]", "[]", "disablethp=1,x", "AnonHugePages: 12 kB", "AnonHugePages:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m := parseMode(s); strings.ContainsAny(m, "[] \t\n") {
			t.Errorf("parseMode(%q) = %q", s, m)
		}
		godebugDisablesTHP(s)
		anonHuge([]byte(s))
	})
}

// A pass on this process advises the mapping that holds a large heap object: the kernel then
// flags it "hg" in /proc/self/smaps.
func TestPassAdvisesTheHeap(t *testing.T) {
	k := NewKeeper()
	if m := k.os.mode(); m == "never" || m == "" || k.os.disabled() {
		r, err := k.Pass()
		if err != nil || r.Mappings != 0 {
			t.Fatalf("THP %q: pass = %+v, %v; want nothing done", m, r, err)
		}
		return
	}
	buf := make([]byte, 3*MinMapping)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	r, err := k.Pass()
	if err != nil {
		t.Fatal(err)
	}
	if r.Mappings == 0 || r.Advised < uint64(MinMapping) {
		t.Fatalf("pass = %+v", r)
	}
	addr := uintptr(unsafe.Pointer(&buf[len(buf)/2]))
	if flags := vmFlags(t, addr); !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("VmFlags of the mapping holding the buffer = %q, want hg", flags)
	}
	if again, err := k.Pass(); err != nil || again.Collapsed != 0 {
		t.Errorf("second pass = %+v, %v; want nothing collapsed", again, err)
	}
	buf[0] = 2 // keep buf alive to here
}

// vmFlags returns the VmFlags line of the /proc/self/smaps entry that contains addr.
func vmFlags(t *testing.T, addr uintptr) string {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			var lo, hi uintptr
			if _, err := fmt.Sscanf(f[0], "%x-%x", &lo, &hi); err == nil {
				in = lo <= addr && addr < hi
			}
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:"))
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}
