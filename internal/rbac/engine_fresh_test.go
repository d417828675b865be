package rbac_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

func TestFreshnessAfterDelete(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	who := []string{principal.User(userResource)}
	r := grn.MustParse(res(wsA, "servers/1"))
	if !f.eng.Decide(inA, who, permView, r).Allowed {
		t.Fatal("precondition: allowed")
	}
	must(t, f.store.DeleteAssignment(ctx, f.assign["resource"]))
	must(t, f.feed.Sync(ctx))
	if d := f.eng.Decide(inA, who, permView, r); d.Allowed {
		t.Fatalf("allowed right after the assignment was deleted and synced: %+v", d)
	}
	// Other assignments are untouched.
	if !f.eng.Decide(inA, []string{principal.User(userWildcard)}, permView, r).Allowed {
		t.Fatal("deleting one assignment affected another")
	}
	// Re-creating works (the engine's per-subject list was cleaned, not corrupted).
	f.add(t, "resource2", wsA, principal.User(userResource), customRole, res(wsA, "servers/1"))
	must(t, f.feed.Sync(ctx))
	if d := f.eng.Decide(inA, who, permView, r); !d.Allowed || d.AssignmentID != f.assign["resource2"] {
		t.Fatalf("after re-creating: %+v", d)
	}
}

func TestFreshnessAfterRoleChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	who := []string{principal.User(userWhole)}
	r := grn.MustParse(res(wsA, "servers/1"))
	if !f.eng.Decide(inA, who, permLegacy, r).Allowed {
		t.Fatal("precondition: allowed")
	}
	role, err := f.store.GetRole(ctx, customRole)
	must(t, err)
	role.Permissions = slices.DeleteFunc(role.Permissions, func(p string) bool { return p == permLegacy })
	role.UpdatedAt = t0.Add(time.Minute)
	must(t, f.store.UpsertRole(ctx, role))
	must(t, f.feed.Sync(ctx))
	if d := f.eng.Decide(inA, who, permLegacy, r); d.Allowed {
		t.Fatalf("allowed right after the permission left the role: %+v", d)
	}
	if !f.eng.Decide(inA, who, permView, r).Allowed {
		t.Fatal("the role's remaining permissions stopped working")
	}
}

func TestFreshnessAfterPermissionChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	who := []string{principal.User(userResource)}
	r := grn.MustParse(res(wsA, "servers/1"))
	if !f.eng.Decide(inA, who, permView, r).Allowed {
		t.Fatal("precondition: allowed")
	}
	p, err := f.store.GetPermission(ctx, permView)
	must(t, err)
	p.FixedScope = true
	must(t, f.store.UpsertPermission(ctx, p))
	must(t, f.feed.Sync(ctx))
	if f.eng.Decide(inA, who, permView, r).Allowed {
		t.Fatal("resource scope still allowed after the permission became fixed-scope")
	}
}

func TestFreshnessAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	other := openStore(t, f.dir) // another process on the same database file
	who := []string{principal.User(userNobody)}
	r := grn.MustParse(res(wsA, "servers/5"))
	if f.eng.Decide(inA, who, permView, r).Allowed {
		t.Fatal("precondition: denied")
	}
	id := ids.New()
	must(t, other.CreateAssignment(ctx, &storage.Assignment{ID: id, WorkspaceID: wsA, Subject: principal.User(userNobody),
		RoleID: customRole, Scopes: []string{res(wsA, "servers/5")}, Source: "LOCAL", Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	must(t, f.feed.Sync(ctx))
	if d := f.eng.Decide(inA, who, permView, r); !d.Allowed || d.AssignmentID != id {
		t.Fatalf("the first node did not see the second node's assignment: %+v", d)
	}
	must(t, other.DeleteAssignment(ctx, id))
	must(t, f.feed.Sync(ctx))
	if f.eng.Decide(inA, who, permView, r).Allowed {
		t.Fatal("the first node did not see the second node's delete")
	}
}

func TestEnsureBuiltinsIdempotent(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	st := openStore(t, dir)
	must(t, rbac.EnsureBuiltins(ctx, st, t0))
	first, err := st.LatestSeq(ctx)
	must(t, err)
	perms, roles := rbac.Builtins()
	if first < int64(len(perms)+len(roles)) {
		t.Fatalf("first EnsureBuiltins logged %d changes, want at least %d", first, len(perms)+len(roles))
	}
	must(t, rbac.EnsureBuiltins(ctx, st, t0.Add(time.Hour)))
	if second, err := st.LatestSeq(ctx); err != nil || second != first {
		t.Fatalf("second EnsureBuiltins changed the log: %d -> %d (%v)", first, second, err)
	}
	// A reopened store (another node starting) is equally left alone.
	must(t, st.Close())
	st = openStore(t, dir)
	must(t, rbac.EnsureBuiltins(ctx, st, t0.Add(2*time.Hour)))
	if third, err := st.LatestSeq(ctx); err != nil || third != first {
		t.Fatalf("EnsureBuiltins after reopening changed the log: %d -> %d (%v)", first, third, err)
	}
}

// TestConcurrentDecideAndSync runs decisions while assignments come and go (run with -race).
func TestConcurrentDecideAndSync(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := grn.MustParse(res(wsA, "servers/1"))
	done := make(chan struct{})
	errs := make(chan string, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- ""
					return
				default:
				}
				if !f.eng.Decide(inA, []string{principal.User(userWhole)}, permView, r).Allowed {
					errs <- "a stable assignment was denied during syncs"
					return
				}
				f.eng.Decide(inA, []string{principal.User(userNobody)}, permView, r)
			}
		}()
	}
	for i := range 20 {
		f.add(t, "churn", wsA, principal.User(userNobody), customRole, res(wsA, "servers/"+string(rune('a'+i))))
		must(t, f.feed.Sync(ctx))
		must(t, f.store.DeleteAssignment(ctx, f.assign["churn"]))
		must(t, f.feed.Sync(ctx))
	}
	close(done)
	for range 4 {
		if msg := <-errs; msg != "" {
			t.Fatal(msg)
		}
	}
}
