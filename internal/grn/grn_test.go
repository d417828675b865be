package grn

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const (
	wsHex    = "0192f3a45b6c7d8e9fabcdef01234567"
	wsHyph   = "0192f3a4-5b6c-7d8e-9fab-cdef01234567"
	wsUpper  = "0192F3A45B6C7D8E9FABCDEF01234567"
	wsHyphUp = "0192F3A4-5B6C-7D8E-9FAB-CDEF01234567"
	ws2Hex   = "0192f3a45b6c7d8e9fabcdef89abcdef"
	wsPrefix = "grn:glp/workspaces/" + wsHex
	resUSW   = wsPrefix + "/regions/us-west/providers/compute-ops-mgmt"
)

// pairs returns "/t0/i0/t1/i1/..." with n pairs.
func pairs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("/t" + string(rune('a'+i)) + "/" + string(rune('a'+i)))
	}
	return b.String()
}

type validCase struct {
	in   string
	want GRN
	text string // canonical String(); "" means in itself
}

func validCases() []validCase {
	long := "grn:glp/providers/p/t/"
	long += strings.Repeat("x", MaxLength-len(long))
	return []validCase{
		{in: "grn:glp", want: GRN{Platform: "glp"}},
		{in: "grn:my-cloud_2.0", want: GRN{Platform: "my-cloud_2.0"}},
		{in: "grn:workspaces", want: GRN{Platform: "workspaces"}},
		{in: wsPrefix, want: GRN{Platform: "glp", Workspace: wsHex}},
		{in: "grn:glp/workspaces/" + wsHyph, want: GRN{Platform: "glp", Workspace: wsHex}, text: wsPrefix},
		{in: "grn:glp/workspaces/" + wsUpper, want: GRN{Platform: "glp", Workspace: wsHex}, text: wsPrefix},
		{in: "grn:glp/workspaces/" + wsHyphUp, want: GRN{Platform: "glp", Workspace: wsHex}, text: wsPrefix},
		{in: resUSW + "/servers/1", want: GRN{Platform: "glp", Workspace: wsHex, Region: "us-west",
			Provider: "compute-ops-mgmt", Path: []Pair{{"servers", "1"}}}},
		{in: "grn:glp/workspaces/" + wsHyph + "/regions/default/providers/p/servers/1/disks/2",
			want: GRN{Platform: "glp", Workspace: wsHex, Region: "default", Provider: "p",
				Path: []Pair{{"servers", "1"}, {"disks", "2"}}},
			text: wsPrefix + "/regions/default/providers/p/servers/1/disks/2"},
		{in: resUSW + "/servers/*", want: GRN{Platform: "glp", Workspace: wsHex, Region: "us-west",
			Provider: "compute-ops-mgmt", Path: []Pair{{"servers", "*"}}}},
		{in: resUSW + "/servers/1/disks/*", want: GRN{Platform: "glp", Workspace: wsHex, Region: "us-west",
			Provider: "compute-ops-mgmt", Path: []Pair{{"servers", "1"}, {"disks", "*"}}}},
		{in: "grn:glp/providers/authorization/roles/ccs.workspace-admin", want: GRN{Platform: "glp",
			Provider: "authorization", Path: []Pair{{"roles", "ccs.workspace-admin"}}}},
		{in: "grn:glp/providers/authorization/roles/*", want: GRN{Platform: "glp",
			Provider: "authorization", Path: []Pair{{"roles", "*"}}}},
		// Keywords are ordinary names in type/id positions.
		{in: "grn:glp/providers/workspaces/workspaces/providers/regions/regions", want: GRN{Platform: "glp",
			Provider: "workspaces", Path: []Pair{{"workspaces", "providers"}, {"regions", "regions"}}}},
		// Dots are fine inside segments, and "..." is not a dot segment.
		{in: "grn:glp/providers/p/t/.../u/.x", want: GRN{Platform: "glp", Provider: "p",
			Path: []Pair{{"t", "..."}, {"u", ".x"}}}},
		{in: "grn:glp/providers/p" + pairs(MaxPairs), want: GRN{Platform: "glp", Provider: "p", Path: pairPath(MaxPairs)}},
		// Inputs found by FuzzParse.
		{in: "grn:0/providers/0/0/0/0/0/0/0/0/0", want: GRN{Platform: "0", Provider: "0",
			Path: []Pair{{"0", "0"}, {"0", "0"}, {"0", "0"}, {"0", "0"}}}},
		{in: "grn:0/workspaces/00000000-0000-0000-0000-000000000000", // the nil UUID is a UUID
			want: GRN{Platform: "0", Workspace: strings.Repeat("0", 32)},
			text: "grn:0/workspaces/" + strings.Repeat("0", 32)},
		{in: long, want: GRN{Platform: "glp", Provider: "p", Path: []Pair{{"t", long[len("grn:glp/providers/p/t/"):]}}}},
	}
}

func pairPath(n int) []Pair {
	var p []Pair
	for i := range n {
		p = append(p, Pair{"t" + string(rune('a'+i)), string(rune('a' + i))})
	}
	return p
}

func TestParseValid(t *testing.T) {
	for _, tc := range validCases() {
		g, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !g.Equal(tc.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tc.in, g, tc.want)
		}
		text := tc.text
		if text == "" {
			text = tc.in
		}
		if g.String() != text {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, g.String(), text)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range validCases() {
		g := MustParse(tc.in)
		again, err := Parse(g.String())
		if err != nil || !again.Equal(g) || again.String() != g.String() {
			t.Errorf("round trip of %q: Parse(%q) = %#v, %v", tc.in, g.String(), again, err)
		}
	}
}

type invalidCase struct {
	in     string
	pos    int    // expected Error.Pos; -1 to skip the check
	reason string // substring of Error.Reason
}

func invalidCases() []invalidCase {
	long := "grn:glp/providers/p/t/" + strings.Repeat("x", 2000)
	over := "grn:glp/providers/p/t/"
	over += strings.Repeat("x", MaxLength+1-len(over))
	return []invalidCase{
		{"", 0, "empty input"},
		{"grn", 0, `must start with "grn:"`},
		{"urn:glp", 0, `must start with "grn:"`},
		{"GRN:glp/workspaces/" + wsHex, 0, "lower-case"},
		{"Grn:glp", 0, "lower-case"},
		{" grn:glp", 0, `must start with "grn:"`},
		{"grn:", 4, "empty segment where platform"},
		{"grn:glp ", 7, "whitespace"},
		{"grn:g\tlp", 5, "whitespace"},
		{"grn:glp\n", 7, "whitespace"},
		{"grn:glp\x00", 7, "control byte 0x00"},
		{"grn:glp/", 7, "trailing slash"},
		{"grn:glp//workspaces", 8, "empty segment"},
		{"grn:glp:x", 7, `character ':'`},
		{"grn:grn:glp", 7, `character ':'`},
		{`grn:glp\providers`, 7, `character '\\'`},
		{"grn:.", 4, `"." or ".."`},
		{"grn:..", 4, `"." or ".."`},
		{"grn:*", 4, "wildcard"},
		{"grn:glр", 6, "non-ASCII"}, // Cyrillic er
		{"grn:glp/tenants/x", 8, `expected "workspaces" or "providers"`},
		{"grn:glp/Workspaces/" + wsHex, 8, `expected "workspaces" or "providers"`},
		{"grn:glp/workspaces", 18, "missing workspace id"},
		{"grn:glp/workspaces/", 18, "trailing slash"},
		{"grn:glp/workspaces/" + wsHex + "/", 51, "trailing slash"},
		{"grn:glp/workspaces/not-a-uuid", 19, "workspace id is not a UUID"},
		{"grn:glp/workspaces/" + wsHex + "0", 19, "workspace id is not a UUID"},
		{"grn:glp/workspaces/" + wsHex[:31], 19, "workspace id is not a UUID"},
		{"grn:glp/workspaces/0192f3a45-b6c-7d8e-9fab-cdef01234567", 19, "workspace id is not a UUID"},
		{"grn:glp/workspaces/{" + wsHyph + "}", 19, `character '{'`},
		{"grn:glp/workspaces/*", 19, "wildcard"},
		{"grn:glp/workspaces/" + wsHex + "/workspaces/" + wsHex, 52, `expected "regions"`},
		{"grn:glp/workspaces/" + wsHex + "/providers/p/servers/1", 52, `expected "regions"`},
		{"grn:glp/workspaces/" + wsHex + "/regions", 59, "missing region"},
		{"grn:glp/workspaces/" + wsHex + "/regions/us-west", 67, `missing "providers"`},
		{"grn:glp/workspaces/" + wsHex + "/regions/*/providers/p/s/1", 60, "wildcard"},
		{"grn:glp/workspaces/" + wsHex + "/regions/us-west/providers", 77, "missing provider namespace"},
		{resUSW, 94, "missing resource type"},
		{resUSW + "/servers", 102, "missing id of resource type servers"},
		{resUSW + "/servers/1/disks", 110, "missing id of resource type disks"},
		{resUSW + "/servers/1/", 104, "trailing slash"},
		{resUSW + "/servers/1//disks/2", 105, "empty segment"},
		{resUSW + "/servers/*/disks/1", 103, "wildcard"},
		{resUSW + "/*/1", 95, "wildcard"},
		{resUSW + "/servers/1*", 104, "wildcard"},
		{resUSW + "/servers/**", 103, "wildcard"},
		{resUSW + "/servers/..", 103, `"." or ".."`},
		{resUSW + "/servers/.", 103, `"." or ".."`},
		{resUSW + "/servers/a%2Fb", 104, "percent-encoding"},
		{resUSW + "/servers/1?x=1", 104, "query"},
		{resUSW + "/servers/1#frag", 104, "fragment"},
		{resUSW + "/servers/ß", 103, "non-ASCII"},
		{resUSW + "/servers/\u200b1", 103, "non-ASCII"}, // zero-width space
		{"grn:glp/providers/*/roles/x", 18, "wildcard"},
		{"grn:glp/providers/authorization", 31, "missing resource type"},
		{"grn:glp/providers/authorization/roles", 37, "missing id of resource type roles"},
		{"grn:glp/providers/p" + pairs(MaxPairs+1), 100, "more than 16 type/id pairs"},
		// Inputs found by FuzzParse.
		{"grn:\x7f", 4, "control byte 0x7f"},
		{"grn:0\x7f", 5, "control byte 0x7f"},
		{"GRN\xe3", 0, `must start with "grn:"`},
		{"g\xbc00", 0, `must start with "grn:"`},
		{"grn:0/workspaces/0X000000-0000-0000-0000-000000000000", 17, "workspace id is not a UUID"},
		{"grn:0/workspaces/00000000-0X00-0000-0000-000000000000", 17, "workspace id is not a UUID"},
		{"grn:0/workspaces/000X0000000000000000000000000000", 17, "workspace id is not a UUID"},
		{long, MaxLength, "longer than 1024 bytes"},
		{over, MaxLength, "longer than 1024 bytes"},
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range invalidCases() {
		g, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error", tc.in, g)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) error %T is not *Error", tc.in, err)
			continue
		}
		if !g.IsZero() || e.Input != tc.in || !strings.Contains(e.Reason, tc.reason) ||
			(tc.pos >= 0 && e.Pos != tc.pos) {
			t.Errorf("Parse(%q) = %#v, %#v; want Pos %d, Reason containing %q", tc.in, g, e, tc.pos, tc.reason)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Parse("grn:glp/workspaces/nope")
	if want := "invalid GRN at byte 19: workspace id is not a UUID"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestAccessors(t *testing.T) {
	root, ws := MustParse("grn:glp"), MustParse(wsPrefix)
	res := MustParse(resUSW + "/servers/1/disks/2")
	role := MustParse("grn:glp/providers/authorization/roles/admin")
	var zero GRN
	checks := []struct {
		name      string
		got, want any
	}{
		{"zero.IsZero", zero.IsZero(), true},
		{"root.IsZero", root.IsZero(), false},
		{"zero.IsPlatform", zero.IsPlatform(), false},
		{"root.IsPlatform", root.IsPlatform(), true},
		{"ws.IsPlatform", ws.IsPlatform(), false},
		{"ws.IsWorkspace", ws.IsWorkspace(), true},
		{"root.IsWorkspace", root.IsWorkspace(), false},
		{"res.IsWorkspace", res.IsWorkspace(), false},
		{"res.ResourceType", res.ResourceType(), "compute-ops-mgmt/disks"},
		{"role.ResourceType", role.ResourceType(), "authorization/roles"},
		{"ws.ResourceType", ws.ResourceType(), ""},
		{"root.ResourceType", root.ResourceType(), ""},
		{"res.WorkspaceGRN", res.WorkspaceGRN().String(), wsPrefix},
		{"ws.WorkspaceGRN", ws.WorkspaceGRN().String(), wsPrefix},
		{"role.WorkspaceGRN", role.WorkspaceGRN().IsZero(), true},
		{"root.WorkspaceGRN", root.WorkspaceGRN().IsZero(), true},
		{"zero.String", zero.String(), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConstructors(t *testing.T) {
	if g := Platform(""); g.String() != "grn:glp" {
		t.Errorf(`Platform("") = %q`, g)
	}
	if g := Platform("other"); g.String() != "grn:other" || !g.IsPlatform() {
		t.Errorf(`Platform("other") = %q`, g)
	}
	for _, bad := range []string{"glp/workspaces", "*", "..", "g p"} {
		if g := Platform(bad); !g.IsZero() {
			t.Errorf("Platform(%q) = %#v, want zero", bad, g)
		}
	}
	for _, id := range []string{wsHex, wsHyph, wsUpper, wsHyphUp} {
		g, err := Workspace("", id)
		if err != nil || !g.Equal(MustParse(wsPrefix)) {
			t.Errorf("Workspace(%q) = %#v, %v", id, g, err)
		}
	}
	bad := [][2]string{
		{"glp", "nope"},
		{"glp", wsHex + "/regions/r/providers/p/t/1"},
		{"glp/providers/x", wsHex},
		{"..", wsHex},
	}
	for _, b := range bad {
		var e *Error
		if g, err := Workspace(b[0], b[1]); !errors.As(err, &e) || !g.IsZero() {
			t.Errorf("Workspace(%q, %q) = %#v, %v; want *Error", b[0], b[1], g, err)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse did not panic on invalid input")
		}
	}()
	MustParse("grn:glp/")
}

func TestText(t *testing.T) {
	type doc struct {
		Scope GRN `json:"scope"`
	}
	in := `{"scope":"grn:glp/workspaces/` + wsHyph + `"}`
	var d doc
	if err := json.Unmarshal([]byte(in), &d); err != nil || !d.Scope.Equal(MustParse(wsPrefix)) {
		t.Fatalf("Unmarshal = %#v, %v", d, err)
	}
	out, err := json.Marshal(d)
	if want := `{"scope":"` + wsPrefix + `"}`; err != nil || string(out) != want {
		t.Errorf("Marshal = %s, %v; want %s", out, err, want)
	}
	if err := json.Unmarshal([]byte(`{"scope":""}`), &d); err != nil || !d.Scope.IsZero() {
		t.Errorf("empty scope = %#v, %v; want zero", d, err)
	}
	var e *Error
	if err := json.Unmarshal([]byte(`{"scope":"grn:glp/"}`), &d); !errors.As(err, &e) {
		t.Errorf("invalid scope error = %v, want *Error", err)
	}
}

func BenchmarkParse(b *testing.B) {
	in := "grn:glp/workspaces/" + wsHyph + "/regions/us-west/providers/compute-ops-mgmt/servers/1/disks/2"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
