package ids

import "testing"

func TestParse(t *testing.T) {
	const canon = "0192f3a4-5b6c-7d8e-9fab-cdef01234567"
	good := []string{canon, "0192F3A45B6C7D8E9FABCDEF01234567", "0192f3a45b6c7d8e9fabcdef01234567"}
	for _, in := range good {
		got, err := Parse(in)
		if err != nil || got != canon {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, canon)
		}
	}
	bad := []string{"", "x", "{0192f3a4-5b6c-7d8e-9fab-cdef01234567}", "urn:uuid:0192f3a4-5b6c-7d8e-9fab-cdef01234567",
		"0192f3a4-5b6c-7d8e-9fab-cdef0123456z", "0192f3a45b6c7d8e9fabcdef0123456", "../../etc/passwd"}
	for _, in := range bad {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %q, want error", in, got)
		}
	}
	if Hex(canon) != "0192f3a45b6c7d8e9fabcdef01234567" {
		t.Errorf("Hex(%q) = %q", canon, Hex(canon))
	}
	for _, tc := range []struct {
		hex, canon string
		want       bool
	}{
		{"0192f3a45b6c7d8e9fabcdef01234567", canon, true},
		{"0192f3a45b6c7d8e9fabcdef01234568", canon, false},
		{"0192F3A45B6C7D8E9FABCDEF01234567", canon, false}, // GRNs print lower case
		{"0192f3a45b6c7d8e9fabcdef0123456", canon, false},
		{"0192f3a45b6c7d8e9fabcdef01234567", "0192f3a45b6c7d8e9fabcdef01234567", false},
		{"", "", false},
		{"0192f3a45b6c7d8e9fabcdef01234567", "0192f3a4-5b6c-7d8e-9fab-cdef012345-6", false},
	} {
		if got := IsHexOf(tc.hex, tc.canon); got != tc.want {
			t.Errorf("IsHexOf(%q, %q) = %v, want %v", tc.hex, tc.canon, got, tc.want)
		}
	}
	if a, b := New(), New(); a == b {
		t.Error("New returned the same id twice")
	}
}
