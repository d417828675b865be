package grn_test

import (
	"errors"
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
)

var escapeCases = []struct{ id, seg string }{
	{"todo-1", "todo-1"},
	{"beth@the-smiths.com", "beth_40the-smiths.com"},
	{"/users/{userId}", "_2Fusers_2F_7BuserId_7D"},
	{"a_b", "a_5Fb"},
	{"*", "_2A"},
	{".", "_2E"},
	{"..", "_2E_2E"},
	{"...", "..."},
	{"é", "_C3_A9"},
	{"7240d0db-8ff0-41ec-98b2-34a096273b92", "7240d0db-8ff0-41ec-98b2-34a096273b92"},
	{"CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs", "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
}

// TestEscapeID checks the documented encoding both ways and that every escaped id is a GRN
// id, never the wildcard.
func TestEscapeID(t *testing.T) {
	for _, c := range escapeCases {
		if got := grn.EscapeID(c.id); got != c.seg {
			t.Errorf("EscapeID(%q) = %q, want %q", c.id, got, c.seg)
		}
		if got, err := grn.UnescapeID(c.seg); err != nil || got != c.id {
			t.Errorf("UnescapeID(%q) = %q, %v", c.seg, got, err)
		}
		g, err := grn.Parse("grn:glp/workspaces/00000000000000000000000000000001/regions/default/providers/p/t/" + c.seg)
		if err != nil || g.Path[0].ID != c.seg {
			t.Errorf("the GRN of %q does not parse: %v", c.id, err)
		}
	}
	for _, seg := range []string{"_2f", "_2", "_", "a_5", "_41", "a@b", ".", "..", "_2E.", "_zz"} {
		if _, err := grn.UnescapeID(seg); !errors.Is(err, grn.ErrEscape) {
			t.Errorf("UnescapeID(%q) accepted a segment EscapeID cannot produce", seg)
		}
	}
}

// FuzzEscapeID holds EscapeID and UnescapeID to being inverse, canonical and GRN-safe.
func FuzzEscapeID(f *testing.F) {
	for _, c := range escapeCases {
		f.Add(c.id)
		f.Add(c.seg)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		seg := grn.EscapeID(s)
		back, err := grn.UnescapeID(seg)
		if err != nil || back != s {
			t.Fatalf("UnescapeID(EscapeID(%q)) = %q, %v", s, back, err)
		}
		if len(seg) <= 300 {
			if _, err := grn.Parse("grn:glp/providers/p/t/" + seg); err != nil || seg == "*" {
				t.Fatalf("EscapeID(%q) = %q is not a GRN id: %v", s, seg, err)
			}
		}
		if id, err := grn.UnescapeID(s); err == nil && grn.EscapeID(id) != s {
			t.Fatalf("UnescapeID(%q) = %q, which escapes differently", s, id)
		}
	})
}
