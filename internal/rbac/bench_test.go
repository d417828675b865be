package rbac_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/changefeed"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/heapstat"
	"github.com/keyhold/keyhold/internal/iamload"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
)

// benchShape is iamload.Default (10,000 workspaces, 1,000,000 assignments) unless
// KEYHOLD_BENCH_WORKSPACES asks for fewer or more workspaces.
func benchShape(b *testing.B) iamload.Shape {
	s, err := iamload.ShapeFromEnv()
	must(b, err)
	return s
}

// loadedEngine bulk-loads the data set into a fresh SQLite store, then loads an engine from
// it the way a node starts, and reports the load times and the engine's heap: the live heap
// after a GC, minus the live heap before the engine was built.
func loadedEngine(b testing.TB, shape iamload.Shape) *rbac.Engine {
	b.Helper()
	ctx := context.Background()
	st := openStore(b, filepath.Join(b.TempDir(), "data"))
	must(b, rbac.EnsureBuiltins(ctx, st, t0))
	stats, err := iamload.Load(ctx, st, sqlite.Dialect(), shape, t0)
	must(b, err)
	heap0, objects0 := heapstat.Live()
	start := time.Now()
	eng := rbac.NewEngine()
	must(b, changefeed.New(st, slog.New(slog.DiscardHandler), eng).Load(ctx))
	loadTime := time.Since(start)
	heap1, objects1 := heapstat.Live()
	b.Logf("%d workspaces, %d assignments: bulk insert %v, engine load %v; engine heap %.0f MiB (%.0f bytes per assignment) in %d objects; a full GC with it live takes %v",
		stats.Workspaces, stats.Assignments, stats.Elapsed.Round(time.Millisecond), loadTime.Round(time.Millisecond),
		float64(heap1-heap0)/(1<<20), float64(heap1-heap0)/float64(stats.Assignments), objects1-objects0, heapstat.GCTime())
	return eng
}

// benchInput is one decision request, parsed up front (parsing is not part of Decide).
type benchInput struct {
	user, client     string // a user (a member of its workspace's group) and an API client owned by nobody
	caller           *principal.Caller
	where            rbac.Where // the user's workspace
	ws, nic, server  grn.GRN    // own workspace; a nic of the user's server; the server
	groupServer, lab grn.GRN    // the group's server; a server in the scope group
	other            grn.GRN    // a server of another workspace
}

const benchInputs = 1024

func benchInputsOf(shape iamload.Shape) []benchInput {
	in := make([]benchInput, benchInputs)
	for i := range in {
		w := (i * 7919) % shape.Workspaces
		k := i % 4 // users 0..3 hold the custom role on servers/k and belong to the group
		user := principal.User(iamload.ID(iamload.KindUser, w, k))
		ws := iamload.ID(iamload.KindWorkspace, w, 0)
		in[i] = benchInput{user: user, client: principal.APIClient(iamload.ID(iamload.KindClient, w, 999)),
			caller: &principal.Caller{Subject: principal.APIClient(iamload.ID(iamload.KindClient, w, 999)),
				OwnerID: iamload.ID(iamload.KindUser, w, k), WorkspaceID: ws},
			where:       rbac.Where{Workspace: ws},
			ws:          grn.MustParse(iamload.WorkspaceGRN(w)),
			nic:         grn.MustParse(iamload.ResourceGRN(w, fmt.Sprintf("servers/%d/nics/0", k))),
			server:      grn.MustParse(iamload.ResourceGRN(w, fmt.Sprintf("servers/%d", k))),
			groupServer: grn.MustParse(iamload.ResourceGRN(w, fmt.Sprintf("servers/%d", iamload.GroupServer))),
			lab:         grn.MustParse(iamload.ResourceGRN(w, fmt.Sprintf("servers/%d", iamload.ScopeServers[0]))),
			other:       grn.MustParse(iamload.ResourceGRN((w+1)%shape.Workspaces, fmt.Sprintf("servers/%d", k))),
		}
	}
	return in
}

// BenchmarkDecisions measures in-process decisions on the full data set. Run it with
//
//	go test ./internal/rbac -run '^$' -bench BenchmarkDecisions -benchtime 2s
func BenchmarkDecisions(b *testing.B) {
	shape := benchShape(b)
	eng := loadedEngine(b, shape)
	in := benchInputsOf(shape)
	scopeUser := func(x *benchInput) []string {
		// The last subject of each workspace holds the custom role through the scope group.
		return []string{shape.Subject(int(mustHex(x.ws.Workspace)), shape.Subjects-1)}
	}
	cases := []struct {
		name    string
		allowed bool
		decide  func(x *benchInput) bool
	}{
		{"allowed/workspace-permission", true, func(x *benchInput) bool {
			return eng.Decide(x.where, []string{x.user}, "glp.workspace.view", x.ws).Allowed
		}},
		{"allowed/resource-scope", true, func(x *benchInput) bool {
			return eng.Decide(x.where, []string{x.user}, iamload.PermView, x.nic).Allowed
		}},
		{"allowed/caller-through-owner", true, func(x *benchInput) bool { return eng.Allowed(x.caller, iamload.PermView, x.nic) }},
		{"allowed/user-group", true, func(x *benchInput) bool {
			return eng.Decide(x.where, []string{x.user}, iamload.PermView, x.groupServer).Allowed
		}},
		{"allowed/scope-group", true, func(x *benchInput) bool { return eng.Decide(x.where, scopeUser(x), iamload.PermView, x.lab).Allowed }},
		{"allowed/deprecated", true, func(x *benchInput) bool {
			return eng.Decide(x.where, []string{x.user}, iamload.PermLegacy, x.server).Allowed
		}},
		{"denied/other-workspace", false, func(x *benchInput) bool {
			return eng.Decide(x.where, []string{x.user}, iamload.PermView, x.other).Allowed
		}},
		{"denied/fixed-scope-via-resource", false, func(x *benchInput) bool {
			return eng.Decide(x.where, []string{x.user}, iamload.PermPower, x.server).Allowed
		}},
		{"denied/unknown-permission", false, func(x *benchInput) bool {
			return eng.Decide(x.where, []string{x.user}, "svc.servers.nope", x.nic).Allowed
		}},
		{"denied/no-assignment", false, func(x *benchInput) bool {
			return eng.Decide(x.where, []string{x.client}, iamload.PermView, x.nic).Allowed
		}},
	}
	for _, c := range cases {
		for i := range in {
			if c.decide(&in[i]) != c.allowed {
				b.Fatalf("%s: input %d decided %v", c.name, i, !c.allowed)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if c.decide(&in[i&(benchInputs-1)]) != c.allowed {
					b.Fatal("wrong decision")
				}
				i++
			}
		})
	}
	b.Run("allowed/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				x := &in[i&(benchInputs-1)]
				if !eng.Decide(x.where, []string{x.user}, iamload.PermView, x.nic).Allowed {
					b.Error("wrong decision")
					return
				}
				i++
			}
		})
	})
}

// mustHex reads the workspace index back from a generated workspace's 32-hex id.
func mustHex(wsHex string) int64 {
	n, err := strconv.ParseInt(wsHex[:8], 16, 64)
	if err != nil {
		panic(err)
	}
	return n
}
