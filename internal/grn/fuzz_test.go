package grn

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that it either returns a valid GRN or an *Error
// locating the problem inside the input, and that valid GRNs print canonically: String
// re-parses to an equal value, is idempotent, is no longer than the input, and every GRN is
// covered by itself, its platform root and its workspace.
func FuzzParse(f *testing.F) {
	for _, tc := range validCases() {
		f.Add(tc.in)
	}
	for _, tc := range invalidCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := Parse(s)
		if err != nil {
			checkFuzzError(t, s, g, err)
			return
		}
		text := g.String()
		again, err := Parse(text)
		if err != nil || !again.Equal(g) || again.String() != text {
			t.Fatalf("Parse(%q) = %#v; re-parse of %q = %#v, %v", s, g, text, again, err)
		}
		if len(text) > len(s) || (g.Workspace == "" && text != s) {
			t.Fatalf("Parse(%q).String() = %q", s, text)
		}
		if !g.Covers(g) || !Platform(g.Platform).Covers(g) {
			t.Fatalf("%q is not covered by itself or its platform root", s)
		}
		if w := g.WorkspaceGRN(); w.IsZero() != (g.Workspace == "") || (!w.IsZero() && !w.Covers(g)) {
			t.Fatalf("%q: workspace GRN %q does not cover it", s, w)
		}
	})
}

// FuzzCoversText checks that CoversText on a scope's canonical text answers exactly as
// Covers on the parsed scope, for every pair of inputs that parse.
func FuzzCoversText(f *testing.F) {
	cases := validCases()
	for i, tc := range cases {
		f.Add(tc.in, cases[(i*7+3)%len(cases)].in)
		f.Add(tc.in, tc.in)
	}
	f.Fuzz(func(t *testing.T, scope, resource string) {
		s, err1 := Parse(scope)
		r, err2 := Parse(resource)
		if err1 != nil || err2 != nil {
			return
		}
		if got, want := CoversText(s.String(), r), s.Covers(r); got != want {
			t.Fatalf("CoversText(%q, %q) = %v, Covers = %v", s, r, got, want)
		}
	})
}

func checkFuzzError(t *testing.T, s string, g GRN, err error) {
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse(%q) error %T is not *Error", s, err)
	}
	if !g.IsZero() || e.Input != s || e.Pos < 0 || e.Pos > len(s) || e.Reason == "" {
		t.Fatalf("Parse(%q) = %#v, %#v", s, g, e)
	}
}
