package audit

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCompileFilter(t *testing.T) {
	for _, tc := range []struct {
		in, sql string
		args    int
	}{
		{"", "", 0},
		{"   ", "", 0},
		{"category eq 'API Gateway'", "(r.category = ?)", 1},
		{"category in ('Device Management', 'User Activity')", "(r.category IN (?, ?))", 2},
		{"contains(description, 'Logged in')", "(LOWER(r.description) LIKE ? ESCAPE '!')", 1},
		{"CONTAINS ( username , 'x' )", "(LOWER(r.username) LIKE ? ESCAPE '!')", 1},
		{"createdAt ge '2024-02-16T07:54:55.0Z' and createdAt lt '2025-02-16T07:54:55.0Z'", "(r.at >= ?) AND (r.at < ?)", 2},
		{"workspace/type eq 'MSP'", "(COALESCE(w.type, '') = ?)", 1},
		{"serviceOffer/id in ('00000000-0000-0000-0000-000000000000', 'd46569ae-0516-4dd2-81ce-b6d645842acc') and region eq 'us-west'", "1 = 1 AND 1 = 0", 0},
		{"hasDetails eq 'false'", "1 = 0", 0},
		{"username eq 'O''Brien'", "(r.username = ?)", 1},
	} {
		p, err := CompileFilter(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if p.SQL != tc.sql || len(p.Args) != tc.args {
			t.Errorf("%q: %q %v, want %q with %d args", tc.in, p.SQL, p.Args, tc.sql, tc.args)
		}
	}
	p, _ := CompileFilter("contains(description, '100%_done!')")
	if p.Args[0] != "%100!%!_done!!%" {
		t.Errorf("LIKE escaping: %q", p.Args[0])
	}
	p, _ = CompileFilter("createdAt ge '2024-02-16T08:54:55+01:00'")
	if got := p.Args[0].(time.Time); !got.Equal(time.Date(2024, 2, 16, 7, 54, 55, 0, time.UTC)) {
		t.Errorf("time bound as %v", got)
	}
	for _, bad := range []string{"category", "category eq", "category eq 'x' or category eq 'y'", "nope eq 'x'",
		"category lt 'x'", "createdAt eq '2024-01-01T00:00:00Z'", "createdAt ge 'soon'", "contains(category, 'x')",
		"category eq 'unterminated", "category in ()", "category in ('a' 'b')", "workspace/type eq 'OTHER'",
		"serviceOffer/id in ('1','2','3','4','5','6')", "category eq 'x' and", "(category eq 'x')", "category eq \"x\"",
		strings.Repeat("category eq 'x' and ", 40) + "category eq 'x'", strings.Repeat("x", MaxFilterLength+1)} {
		if _, err := CompileFilter(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzCompileFilter: the compiler never panics, and its SQL holds no byte of the input
// beyond the fixed vocabulary (every value is a bound argument).
func FuzzCompileFilter(f *testing.F) {
	for _, s := range []string{"category eq 'API Gateway'", "contains(description, 'x') and createdAt ge '2024-01-01T00:00:00Z'",
		"category in ('a', 'b')", "workspace/name eq 'O''Brien'", "serviceOffer/id eq '00000000-0000-0000-0000-000000000000'",
		"username eq '; DROP TABLE audit_records; --'", "contains(ipAddress, '%')"} {
		f.Add(s)
	}
	allowed := []string{"r.at", "r.category", "r.description", "r.source_addr", "r.username", "COALESCE(w.name, '')",
		"COALESCE(w.type, '')", "LOWER(", "LIKE", "ESCAPE '!'", "IN", "AND", "1 = 1", "1 = 0", ">=", "=", "<", "?", "(", ")", ",", " "}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := CompileFilter(in)
		if err != nil {
			return
		}
		rest := p.SQL
		for _, a := range allowed {
			rest = strings.ReplaceAll(rest, a, "")
		}
		if rest != "" {
			t.Fatalf("%q compiled to %q, which holds %q", in, p.SQL, rest)
		}
		if strings.Count(p.SQL, "?") != len(p.Args) {
			t.Fatalf("%q: %d placeholders, %d args", in, strings.Count(p.SQL, "?"), len(p.Args))
		}
		for _, a := range p.Args {
			if s, ok := a.(string); ok && !utf8.ValidString(s) && utf8.ValidString(in) {
				t.Fatalf("%q: argument %q is not valid UTF-8", in, s)
			}
		}
	})
}
