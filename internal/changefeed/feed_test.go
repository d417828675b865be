package changefeed_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/changefeed"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

var t0 = time.Date(2026, 4, 5, 6, 7, 8, 0, time.UTC)

// recorder is a Handler that records what it is given. failOn, while set, makes Apply fail
// for that key.
type recorder struct {
	kinds []string

	mu      sync.Mutex
	loads   int
	applied []storage.Change
	failOn  string
	fails   int
}

func (r *recorder) Kinds() []string { return r.kinds }

func (r *recorder) Load(ctx context.Context, s storage.Store) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loads++
	return nil
}

func (r *recorder) Apply(ctx context.Context, s storage.Store, c storage.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.kinds, c.Kind) {
		return fmt.Errorf("given kind %q it did not ask for", c.Kind)
	}
	if r.failOn != "" && c.Key == r.failOn {
		r.fails++
		return errors.New("handler failure")
	}
	r.applied = append(r.applied, c)
	return nil
}

func (r *recorder) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.applied {
		out = append(out, c.Key)
	}
	return out
}

func (r *recorder) changes() []storage.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.applied)
}

func (r *recorder) setFail(key string) {
	r.mu.Lock()
	r.failOn = key
	r.mu.Unlock()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, dir string) *sqlstore.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), dir)
	must(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

var quiet = slog.New(slog.DiscardHandler)

// revoke writes a revocation change (kind revocation, key jti).
func revoke(t *testing.T, s storage.Store, jti string) {
	t.Helper()
	must(t, s.RevokeToken(context.Background(), storage.RevokedToken{JTI: jti, ExpiresAt: t0.Add(time.Hour)}))
}

// permission writes a permission change (kind permission, key name).
func permission(t *testing.T, s storage.Store, name string) {
	t.Helper()
	must(t, s.UpsertPermission(context.Background(), &storage.Permission{Name: name, Provider: "svc", Description: name,
		ReleaseStage: "STABLE", CustomRoleUse: "ALLOW", ResourceTypes: []string{"svc/things"}, Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
}

func latest(t *testing.T, s storage.Store) int64 {
	t.Helper()
	seq, err := s.LatestSeq(context.Background())
	must(t, err)
	return seq
}

func TestLoadSetsSeqToLatest(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "data"))
	revs := &recorder{kinds: []string{storage.KindRevocation}}
	f := changefeed.New(st, quiet, revs)
	must(t, f.Load(ctx))
	if f.Seq() != 0 || revs.loads != 1 {
		t.Fatalf("empty store: seq %d, loads %d", f.Seq(), revs.loads)
	}
	revoke(t, st, "a")
	revoke(t, st, "b")
	permission(t, st, "svc.things.view")
	must(t, f.Load(ctx))
	if want := latest(t, st); f.Seq() != want || want == 0 {
		t.Fatalf("after Load: seq %d, latest %d", f.Seq(), want)
	}
	if revs.loads != 2 {
		t.Fatalf("loads %d", revs.loads)
	}
	// Load does not replay what it loaded.
	must(t, f.Sync(ctx))
	if got := revs.keys(); len(got) != 0 {
		t.Fatalf("Sync after Load applied %v", got)
	}
}

func TestSyncAppliesInOrderOnceByKind(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "data"))
	revs := &recorder{kinds: []string{storage.KindRevocation}}
	perms := &recorder{kinds: []string{storage.KindPermission}}
	both := &recorder{kinds: []string{storage.KindRevocation, storage.KindPermission}}
	none := &recorder{}
	f := changefeed.New(st, quiet, revs, perms, both, none)
	must(t, f.Load(ctx))

	revoke(t, st, "r1")
	permission(t, st, "svc.p1.view")
	revoke(t, st, "r2")
	must(t, st.CreateWorkspace(ctx, &storage.Workspace{ID: "0192f3a4-5b6c-7d8e-9fab-cdef01234567", Name: "w",
		Type: storage.WorkspaceStandard, Generation: 1, CreatedAt: t0, UpdatedAt: t0})) // a kind nobody wants
	permission(t, st, "svc.p2.view")
	revoke(t, st, "r3")

	must(t, f.Sync(ctx))
	if got := revs.keys(); !slices.Equal(got, []string{"r1", "r2", "r3"}) {
		t.Errorf("revocation handler got %v", got)
	}
	if got := perms.keys(); !slices.Equal(got, []string{"svc.p1.view", "svc.p2.view"}) {
		t.Errorf("permission handler got %v", got)
	}
	if got := both.keys(); !slices.Equal(got, []string{"r1", "svc.p1.view", "r2", "svc.p2.view", "r3"}) {
		t.Errorf("two-kind handler got %v", got)
	}
	if got := none.keys(); len(got) != 0 {
		t.Errorf("handler of no kinds got %v", got)
	}
	// Seq numbers strictly increase as applied.
	cs := both.changes()
	for i := 1; i < len(cs); i++ {
		if cs[i].Seq <= cs[i-1].Seq {
			t.Fatalf("out of order: %+v", cs)
		}
	}
	if want := latest(t, st); f.Seq() != want {
		t.Fatalf("seq %d, latest %d", f.Seq(), want)
	}

	// Exactly once: syncing again applies nothing more.
	must(t, f.Sync(ctx))
	must(t, f.Sync(ctx))
	if n := len(both.keys()); n != 5 {
		t.Fatalf("after more syncs the handler has %d changes", n)
	}
	revoke(t, st, "r4")
	must(t, f.Sync(ctx))
	if got := revs.keys(); !slices.Equal(got, []string{"r1", "r2", "r3", "r4"}) {
		t.Errorf("after one more write: %v", got)
	}
}

// TestSyncManyChanges crosses the feed's read batch.
func TestSyncManyChanges(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "data"))
	revs := &recorder{kinds: []string{storage.KindRevocation}}
	f := changefeed.New(st, quiet, revs)
	must(t, f.Load(ctx))
	const n = 2000 // two full read batches: the edge where the last read comes back empty
	must(t, st.WithTx(ctx, func(tx storage.Store) error {
		for i := range n {
			if err := tx.RevokeToken(ctx, storage.RevokedToken{JTI: fmt.Sprintf("j%05d", i), ExpiresAt: t0}); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, f.Sync(ctx))
	got := revs.keys()
	if len(got) != n || got[0] != "j00000" || got[n-1] != fmt.Sprintf("j%05d", n-1) || !slices.IsSorted(got) {
		t.Fatalf("applied %d changes, first %v", len(got), got[:min(3, len(got))])
	}
}

func TestSyncHandlerErrorRetries(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "data"))
	revs := &recorder{kinds: []string{storage.KindRevocation}}
	f := changefeed.New(st, quiet, revs)
	must(t, f.Load(ctx))

	revoke(t, st, "ok1")
	revoke(t, st, "bad")
	revoke(t, st, "ok2")
	changes, err := st.ChangesSince(ctx, 0, 10)
	must(t, err)
	if len(changes) != 3 {
		t.Fatalf("%d changes", len(changes))
	}

	revs.setFail("bad")
	if err := f.Sync(ctx); err == nil {
		t.Fatal("Sync hid the handler's error")
	}
	if f.Seq() != changes[0].Seq {
		t.Fatalf("seq %d after the failure, want %d (the last applied change)", f.Seq(), changes[0].Seq)
	}
	if got := revs.keys(); !slices.Equal(got, []string{"ok1"}) {
		t.Fatalf("applied %v; the changes after the failed one must wait", got)
	}
	// Still failing: nothing moves, nothing is applied twice.
	if err := f.Sync(ctx); err == nil {
		t.Fatal("second Sync hid the error")
	}
	if got := revs.keys(); !slices.Equal(got, []string{"ok1"}) || f.Seq() != changes[0].Seq {
		t.Fatalf("after a second failure: %v, seq %d", got, f.Seq())
	}
	// Fixed: the failed change and the rest are applied, each once.
	revs.setFail("")
	must(t, f.Sync(ctx))
	if got := revs.keys(); !slices.Equal(got, []string{"ok1", "bad", "ok2"}) {
		t.Fatalf("after recovery: %v", got)
	}
	if f.Seq() != changes[2].Seq {
		t.Fatalf("seq %d, want %d", f.Seq(), changes[2].Seq)
	}
	if revs.fails != 2 {
		t.Fatalf("failing change attempted %d times, want 2", revs.fails)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunPicksUpAnotherProcessesWrite(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := filepath.Join(t.TempDir(), "data")
	st := open(t, dir)
	other := open(t, dir) // a second node on the same database file
	revs := &recorder{kinds: []string{storage.KindRevocation}}
	f := changefeed.New(st, quiet, revs)
	must(t, f.Load(ctx))
	done := make(chan struct{})
	go func() { f.Run(ctx, 10*time.Millisecond, nil); close(done) }()

	revoke(t, other, "from-the-other-node")
	eventually(t, 10*time.Second, "the other node's write applied", func() bool {
		return slices.Equal(revs.keys(), []string{"from-the-other-node"})
	})
	if want := latest(t, other); f.Seq() != want {
		t.Fatalf("seq %d, latest %d", f.Seq(), want)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestRunWakes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := open(t, filepath.Join(t.TempDir(), "data"))
	revs := &recorder{kinds: []string{storage.KindRevocation}}
	f := changefeed.New(st, quiet, revs)
	must(t, f.Load(ctx))
	wake := make(chan struct{})
	done := make(chan struct{})
	go func() { f.Run(ctx, time.Hour, wake); close(done) }() // the ticker never fires in this test

	revoke(t, st, "w1")
	wake <- struct{}{} // unbuffered: Run has taken it when this returns
	eventually(t, 10*time.Second, "the woken sync", func() bool { return slices.Equal(revs.keys(), []string{"w1"}) })
	revoke(t, st, "w2")
	wake <- struct{}{}
	eventually(t, 10*time.Second, "the second woken sync", func() bool { return slices.Equal(revs.keys(), []string{"w1", "w2"}) })
	cancel()
	<-done
}

// TestRunSurvivesHandlerErrors: a failing sync is logged and retried at the next poll.
func TestRunSurvivesHandlerErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := open(t, filepath.Join(t.TempDir(), "data"))
	revs := &recorder{kinds: []string{storage.KindRevocation}}
	f := changefeed.New(st, quiet, revs)
	must(t, f.Load(ctx))
	revs.setFail("flaky")
	revoke(t, st, "flaky")
	done := make(chan struct{})
	go func() { f.Run(ctx, 5*time.Millisecond, nil); close(done) }()
	eventually(t, 10*time.Second, "a failed attempt", func() bool {
		revs.mu.Lock()
		defer revs.mu.Unlock()
		return revs.fails > 0
	})
	revs.setFail("")
	eventually(t, 10*time.Second, "the retried change", func() bool { return slices.Equal(revs.keys(), []string{"flaky"}) })
	cancel()
	<-done
}

// A poison entry (one view fails it every time) is skipped after SkipAfter syncs over
// SkipAge: later entries reach every view, other views get the poison entry itself, and the
// skip is counted and reported.
func TestSyncSkipsAPoisonEntry(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "data"))
	failing := &recorder{kinds: []string{storage.KindRevocation}}
	other := &recorder{kinds: []string{storage.KindRevocation}}
	f := changefeed.New(st, quiet, failing, other)
	f.SkipAfter, f.SkipAge = 3, 0
	must(t, f.Load(ctx))
	failing.setFail("poison")
	revoke(t, st, "ok1")
	revoke(t, st, "poison")
	revoke(t, st, "ok2")
	for i := 1; i < 3; i++ {
		if err := f.Sync(ctx); err == nil {
			t.Fatalf("sync %d went past the failing entry before SkipAfter", i)
		}
	}
	if f.SkippedCount() != 0 || f.LastSkipped() != nil {
		t.Fatal("skipped before SkipAfter")
	}
	must(t, f.Sync(ctx))
	if got := failing.keys(); !slices.Equal(got, []string{"ok1", "ok2"}) {
		t.Errorf("the failing view got %v, want ok1 and ok2", got)
	}
	if got := other.keys(); !slices.Equal(got, []string{"ok1", "poison", "poison", "poison", "ok2"}) {
		t.Errorf("the other view got %v, want every entry (poison once per attempt)", got)
	}
	if f.Seq() != latest(t, st) {
		t.Errorf("seq %d, want %d", f.Seq(), latest(t, st))
	}
	sk := f.LastSkipped()
	if f.SkippedCount() != 1 || sk == nil || sk.Key != "poison" || sk.Kind != storage.KindRevocation || sk.Error == "" {
		t.Errorf("skipped %d, last %+v", f.SkippedCount(), sk)
	}
	// Later writes keep flowing.
	revoke(t, st, "ok3")
	must(t, f.Sync(ctx))
	if got := failing.keys(); !slices.Equal(got, []string{"ok1", "ok2", "ok3"}) {
		t.Errorf("after the skip: %v", got)
	}
}

// A failure that lasts less than SkipAge skips nothing, however many syncs see it.
func TestSyncDoesNotSkipABriefFailure(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "data"))
	revs := &recorder{kinds: []string{storage.KindRevocation}}
	f := changefeed.New(st, quiet, revs)
	f.SkipAfter, f.SkipAge = 1, time.Hour
	must(t, f.Load(ctx))
	revs.setFail("flaky")
	revoke(t, st, "flaky")
	for range 5 {
		if err := f.Sync(ctx); err == nil {
			t.Fatal("a brief failure was skipped")
		}
	}
	revs.setFail("")
	must(t, f.Sync(ctx))
	if got := revs.keys(); !slices.Equal(got, []string{"flaky"}) || f.SkippedCount() != 0 {
		t.Errorf("applied %v, skipped %d", got, f.SkippedCount())
	}
}

// TestSyncReloadsAfterCompaction: a node that fell behind by more than the retained log (a
// second store on the same database file compacted it meanwhile) rebuilds its views instead of
// applying a log with a hole, and then follows the log again.
func TestSyncReloadsAfterCompaction(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	st := open(t, dir)
	other := open(t, dir)
	revs := &recorder{kinds: []string{storage.KindRevocation}}
	f := changefeed.New(st, quiet, revs)
	must(t, f.Load(ctx))
	revoke(t, other, "seen")
	must(t, f.Sync(ctx))

	// Compaction that keeps what this node still needs changes nothing for it.
	revoke(t, other, "kept")
	n, err := other.CompactChanges(ctx, time.Now().Add(-time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("compacting before an hour ago deleted %d entries", n)
	}
	must(t, f.Sync(ctx))
	if got := revs.keys(); !slices.Equal(got, []string{"seen", "kept"}) || revs.loads != 1 || f.Reloads() != 0 {
		t.Fatalf("applied %v, loads %d, reloads %d", got, revs.loads, f.Reloads())
	}

	// The node pauses; meanwhile writes go on and the log is compacted past its position.
	revoke(t, other, "missed1")
	revoke(t, other, "missed2")
	revoke(t, other, "newest")
	n, err = other.CompactChanges(ctx, time.Now().Add(time.Hour))
	must(t, err)
	if n != 4 { // seen, kept, missed1, missed2: the newest entry stays
		t.Fatalf("compaction deleted %d entries, want 4", n)
	}
	oldest, err := other.OldestSeq(ctx)
	must(t, err)
	if want := latest(t, other); oldest != want {
		t.Fatalf("oldest retained %d, want the newest %d", oldest, want)
	}
	must(t, f.Sync(ctx))
	if revs.loads != 2 || f.Reloads() != 1 {
		t.Fatalf("after the gap: loads %d, reloads %d; want a full reload", revs.loads, f.Reloads())
	}
	if got := revs.keys(); !slices.Equal(got, []string{"seen", "kept"}) {
		t.Fatalf("entries applied across the gap: %v", got)
	}
	if want := latest(t, other); f.Seq() != want {
		t.Fatalf("seq %d after the reload, latest %d", f.Seq(), want)
	}
	// Back on the log: the next write is applied, with no further reload.
	revoke(t, other, "after")
	must(t, f.Sync(ctx))
	if got := revs.keys(); !slices.Equal(got, []string{"seen", "kept", "after"}) || f.Reloads() != 1 {
		t.Fatalf("after the reload: applied %v, reloads %d", got, f.Reloads())
	}
}
