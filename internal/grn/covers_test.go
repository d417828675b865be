package grn

import "testing"

func TestCovers(t *testing.T) {
	const (
		ws2    = "grn:glp/workspaces/" + ws2Hex
		resEU  = wsPrefix + "/regions/eu-central/providers/compute-ops-mgmt"
		resDef = wsPrefix + "/regions/default/providers/compute-ops-mgmt"
		role   = "grn:glp/providers/authorization/roles/admin"
	)
	cases := []struct {
		scope, res string
		want       bool
	}{
		// Platform root.
		{"grn:glp", "grn:glp", true},
		{"grn:glp", wsPrefix, true},
		{"grn:glp", resUSW + "/servers/1/disks/2", true},
		{"grn:glp", role, true},
		{"grn:glp", "grn:other/workspaces/" + wsHex, false},
		{"grn:other", "grn:glp", false},
		{"grn:gl", "grn:glp", false},
		// Whole workspace: any region, same workspace only.
		{wsPrefix, wsPrefix, true},
		{wsPrefix, resUSW + "/servers/1", true},
		{wsPrefix, resEU + "/servers/1", true},
		{wsPrefix, resDef + "/servers/1", true},
		{wsPrefix, ws2 + "/regions/us-west/providers/compute-ops-mgmt/servers/1", false},
		{wsPrefix, ws2, false},
		{wsPrefix, "grn:glp", false},
		{wsPrefix, role, false},
		{"grn:other/workspaces/" + wsHex, resUSW + "/servers/1", false},
		// Resources and their descendants, at pair boundaries.
		{resUSW + "/servers/1", resUSW + "/servers/1", true},
		{resUSW + "/servers/1", resUSW + "/servers/1/disks/2", true},
		{resUSW + "/servers/1", resUSW + "/servers/10", false},
		{resUSW + "/servers/10", resUSW + "/servers/1", false},
		{resUSW + "/servers/1", resUSW + "/servers/10/disks/2", false},
		{resUSW + "/servers/1", resUSW + "/servers-x/1", false},
		{resUSW + "/servers/1", resUSW + "/disks/1", false},
		{resUSW + "/servers/1", wsPrefix, false},
		{resUSW + "/servers/1/disks/2", resUSW + "/servers/1", false},
		{resUSW + "/servers/1", ws2 + "/regions/us-west/providers/compute-ops-mgmt/servers/1", false},
		{resUSW + "/servers/1", wsPrefix + "/regions/us-west/providers/other/servers/1", false},
		// Regions match exactly; "default" is just a name.
		{resUSW + "/servers/1", resEU + "/servers/1", false},
		{resDef + "/servers/1", resUSW + "/servers/1", false},
		{resUSW + "/servers/1", resDef + "/servers/1", false},
		// Wildcards: last id only, any instance and its descendants.
		{resUSW + "/servers/*", resUSW + "/servers/7", true},
		{resUSW + "/servers/*", resUSW + "/servers/7/disks/2", true},
		{resUSW + "/servers/*", resUSW + "/servers/*", true},
		{resUSW + "/servers/*", resUSW + "/other/1", false},
		{resUSW + "/servers/*", resEU + "/servers/7", false},
		{resUSW + "/servers/7", resUSW + "/servers/*", false},
		{resUSW + "/servers/1/disks/*", resUSW + "/servers/1/disks/9", true},
		{resUSW + "/servers/1/disks/*", resUSW + "/servers/2/disks/9", false},
		{resUSW + "/servers/1/disks/*", resUSW + "/servers/1", false},
		// Platform-level resources stay platform-level.
		{role, role, true},
		{"grn:glp/providers/authorization/roles/*", role, true},
		{"grn:glp/providers/authorization/roles/*", "grn:glp/providers/authorization/groups/g", false},
		{role, "grn:glp/providers/authorization/roles/admin2", false},
		{role, wsPrefix + "/regions/us-west/providers/authorization/roles/admin", false},
		{wsPrefix + "/regions/us-west/providers/authorization/roles/admin", role, false},
		// Workspace spellings are normalised before comparing.
		{"grn:glp/workspaces/" + wsHyphUp, resUSW + "/servers/1", true},
		{"grn:glp/workspaces/" + wsHyph + "/regions/us-west/providers/compute-ops-mgmt/servers/1",
			"grn:glp/workspaces/" + wsUpper + "/regions/us-west/providers/compute-ops-mgmt/servers/1/disks/2", true},
	}
	for _, tc := range cases {
		scope, res := MustParse(tc.scope), MustParse(tc.res)
		if got := scope.Covers(res); got != tc.want {
			t.Errorf("%s\n  covers %s = %v, want %v", tc.scope, tc.res, got, tc.want)
		}
		if got := CoversText(scope.String(), res); got != tc.want {
			t.Errorf("CoversText(%s,\n  %s) = %v, want %v", tc.scope, tc.res, got, tc.want)
		}
	}
}

func TestCoversZero(t *testing.T) {
	var zero GRN
	for _, s := range []string{"grn:glp", wsPrefix, resUSW + "/servers/*"} {
		g := MustParse(s)
		if g.Covers(zero) || zero.Covers(g) {
			t.Errorf("zero GRN and %s cover one another", s)
		}
	}
	if zero.Covers(zero) {
		t.Error("zero GRN covers itself")
	}
	for _, s := range []string{"grn:glp", wsPrefix, resUSW + "/servers/*", "", "grn:"} {
		if CoversText(s, zero) {
			t.Errorf("CoversText(%q, zero GRN) = true", s)
		}
	}
}

func TestCoversDoesNotAllocate(t *testing.T) {
	s, r := MustParse(resUSW+"/servers/*"), MustParse(resUSW+"/servers/7/disks/2")
	if n := testing.AllocsPerRun(100, func() { s.Covers(r) }); n != 0 {
		t.Errorf("Covers allocates %v times per call", n)
	}
	text := s.String()
	if n := testing.AllocsPerRun(100, func() { CoversText(text, r) }); n != 0 {
		t.Errorf("CoversText allocates %v times per call", n)
	}
}

var sink bool

func BenchmarkCovers(b *testing.B) {
	s := MustParse(resUSW + "/servers/1/disks/*")
	r := MustParse("grn:glp/workspaces/" + wsHyph +
		"/regions/us-west/providers/compute-ops-mgmt/servers/1/disks/2/partitions/3")
	b.ReportAllocs()
	for b.Loop() {
		sink = s.Covers(r)
	}
	if !sink {
		b.Fatal("scope does not cover resource")
	}
}
