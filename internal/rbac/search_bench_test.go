package rbac_test

import (
	"slices"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/iamload"
)

// BenchmarkSearch measures AuthZEN's subject and resource searches on the full data set
// (1,000,000 assignments), as the HTTP handlers run them: the engine's candidates, each
// confirmed by a decision. It reports the median and 99th percentile of one search. Run it
// with
//
//	go test ./internal/rbac -run '^$' -bench BenchmarkSearch -benchtime 2000x
func BenchmarkSearch(b *testing.B) {
	shape := benchShape(b)
	eng := loadedEngine(b, shape)
	in := benchInputsOf(shape)
	confirmSubjects := func(x *benchInput, perm string, r grn.GRN) int {
		n := 0
		for _, pr := range eng.SubjectCandidates(x.where, perm, r) {
			if eng.Decide(x.where, []string{pr}, perm, r).Allowed {
				n++
			}
		}
		return n
	}
	confirmResources := func(x *benchInput, principals []string, rtype string) int {
		n := 0
		cands, _ := eng.ResourceCandidates(x.where, principals, iamload.PermView, rtype)
		for _, text := range cands {
			if eng.Decide(x.where, principals, iamload.PermView, grn.MustParse(text)).Allowed {
				n++
			}
		}
		return n
	}
	wildcardUser := func(x *benchInput) []string { // subject 4 holds the custom role on servers/*
		return []string{shape.Subject(int(mustHex(x.ws.Workspace)), 4)}
	}
	cases := []struct {
		name   string
		search func(x *benchInput) int
	}{
		{"subject/who-views-a-server", func(x *benchInput) int { return confirmSubjects(x, iamload.PermView, x.server) }},
		{"subject/who-views-the-workspace", func(x *benchInput) int { return confirmSubjects(x, "glp.workspace.view", x.ws) }},
		{"subject/who-views-a-group-server", func(x *benchInput) int { return confirmSubjects(x, iamload.PermView, x.groupServer) }},
		{"resource/servers-of-a-user", func(x *benchInput) int { return confirmResources(x, []string{x.user}, iamload.Provider+"/servers") }},
		{"resource/servers-under-a-wildcard", func(x *benchInput) int { return confirmResources(x, wildcardUser(x), iamload.Provider+"/servers") }},
	}
	for _, c := range cases {
		for i := range in {
			if c.search(&in[i]) == 0 {
				b.Fatalf("%s: input %d found nothing", c.name, i)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var lat []time.Duration
			found, i := 0, 0
			for b.Loop() {
				start := time.Now()
				found += c.search(&in[i&(benchInputs-1)])
				lat = append(lat, time.Since(start))
				i++
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(found)/float64(i), "results/op")
		})
	}
}
