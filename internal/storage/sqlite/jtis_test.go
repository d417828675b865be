package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

// TestAssertionIDsDurableAcrossClose: every jti use answered nil while the store was closing
// is in the database when it is opened again (nothing is acknowledged before its commit), and
// Close leaves no committer goroutine behind.
func TestAssertionIDsDurableAcrossClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exp := now.Add(time.Hour)
	const n = 200
	wait := useConcurrently(ctx, s, n, exp, now)
	time.Sleep(time.Millisecond) // some uses queued, some not yet: both must be answered
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	errs := wait()
	// Close waited for the committer to close its stopped channel; it returns right after.
	for deadline := time.Now().Add(10 * time.Second); !committerGone(); runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("the jti committer goroutine is still running after Close")
		}
	}
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	acked := 0
	for i, err := range errs {
		again := s.UseAssertionID(ctx, "client", fmt.Sprintf("jti-%d", i), exp, now)
		switch {
		case err == nil:
			acked++
			if !errors.Is(again, storage.ErrConflict) {
				t.Fatalf("jti-%d was acknowledged before Close but is not stored: %v", i, again)
			}
		case errors.Is(err, storage.ErrConflict):
			t.Fatalf("jti-%d, used once, conflicted", i)
		}
	}
	t.Logf("%d of %d uses acknowledged before Close", acked, n)
}

// useConcurrently starts the uses of jti-0 ... jti-(n-1) at once; wait returns their answers,
// in that order, once all have one.
func useConcurrently(ctx context.Context, s *sqlstore.Store, n int, exp, now time.Time) (wait func() []error) {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.UseAssertionID(ctx, "client", fmt.Sprintf("jti-%d", i), exp, now) })
	}
	return func() []error { wg.Wait(); return errs }
}

func committerGone() bool {
	buf := make([]byte, 1<<20)
	return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "jtiCommitter).run")
}

// TestAssertionIDsFailedBatch: when the batch's transaction fails, every use in it gets the
// error (not nil, not a replay) and none is recorded.
func TestAssertionIDsFailedBatch(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().ExecContext(ctx, `CREATE TRIGGER refuse_jtis BEFORE INSERT ON client_assertion_jtis
		BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	const n = 50
	for i, err := range useConcurrently(ctx, s, n, now.Add(time.Minute), now)() {
		if err == nil || errors.Is(err, storage.ErrConflict) {
			t.Fatalf("jti-%d in a failed batch: %v, want the failure", i, err)
		}
	}
	if _, err := s.DB().ExecContext(ctx, `DROP TRIGGER refuse_jtis`); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := s.UseAssertionID(ctx, "client", fmt.Sprintf("jti-%d", i), now.Add(time.Minute), now); err != nil {
			t.Fatalf("jti-%d after its failed batch: %v, want nil (nothing was recorded)", i, err)
		}
	}
}
