package iamload_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/changefeed"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/iamload"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
)

// TestLoad loads a small data set in several transactions and checks what a node built from
// it decides, on the paths the benchmarks measure.
func TestLoad(t *testing.T) {
	ctx, now := context.Background(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := rbac.EnsureBuiltins(ctx, st, now); err != nil {
		t.Fatal(err)
	}
	shape := iamload.Default
	shape.Workspaces, shape.WorkspacesPerTx = 5, 2
	stats, err := iamload.Load(ctx, st, sqlite.Dialect(), shape, now)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Workspaces != 5 || stats.Assignments != 500 || stats.Users != 175 {
		t.Fatalf("stats %+v", stats)
	}
	if _, total, _ := st.QueryAssignments(ctx, storage.AssignmentQuery{WorkspaceID: iamload.ID(iamload.KindWorkspace, 3, 0)}); total != 100 {
		t.Fatalf("workspace 3 holds %d assignments", total)
	}
	eng := rbac.NewEngine()
	if err := changefeed.New(st, slog.New(slog.DiscardHandler), eng).Load(ctx); err != nil {
		t.Fatal(err)
	}
	user := func(ws, k int) []string { return []string{"user:" + iamload.ID(iamload.KindUser, ws, k)} }
	res := func(ws int, path string) grn.GRN { return grn.MustParse(iamload.ResourceGRN(ws, path)) }
	for _, c := range []struct {
		who     []string
		perm    string
		on      grn.GRN
		allowed bool
	}{
		{user(2, 1), iamload.PermView, res(2, "servers/1/nics/0"), true},
		{user(2, 4), iamload.PermView, res(2, "servers/77"), true}, // servers/*
		{user(2, 1), iamload.PermView, res(2, fmt.Sprintf("servers/%d", iamload.GroupServer)), true},
		{user(2, iamload.GroupMembers), iamload.PermView, res(2, fmt.Sprintf("servers/%d", iamload.GroupServer)), false},
		{[]string{shape.Subject(2, shape.Subjects-1)}, iamload.PermView, res(2, "nics/5"), true}, // scope group
		{user(2, 1), "glp.workspace.view", grn.MustParse(iamload.WorkspaceGRN(2)), true},
		{user(2, 1), iamload.PermView, res(3, "servers/1"), false},
		{user(2, 1), iamload.PermPower, res(2, "servers/1"), false},
	} {
		if got := eng.Decide(rbac.Where{Workspace: iamload.ID(iamload.KindWorkspace, 2, 0)}, c.who, c.perm, c.on).Allowed; got != c.allowed {
			t.Errorf("%v %s on %s: %v, want %v", c.who, c.perm, c.on, got, c.allowed)
		}
	}
}
