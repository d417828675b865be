package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// useAll runs use(i) for i in [0, n) from n goroutines released together and returns the
// errors by i.
func useAll(n int, use func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = use(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// testAssertionIDsConcurrent: UseAssertionID under concurrency (the SQL store records
// concurrent uses in shared transactions): each use's outcome is its own.
func testAssertionIDsConcurrent(t *testing.T, s storage.Store) {
	ctx := context.Background()
	exp := now.Add(time.Minute)

	// One jti used by many at once: exactly one succeeds, every other is a replay.
	errs := useAll(64, func(int) error { return s.UseAssertionID(ctx, "client-a", "same", exp, now) })
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, storage.ErrConflict):
			t.Fatalf("use %d of one jti: %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of 64 concurrent uses of one jti succeeded, want exactly 1", wins)
	}
	mustIs(t, s.UseAssertionID(ctx, "client-a", "same", exp, now), storage.ErrConflict)

	// One jti for many clients at once: each client's is its own.
	for i, err := range useAll(64, func(i int) error {
		return s.UseAssertionID(ctx, fmt.Sprintf("client-%d", i), "shared", exp, now)
	}) {
		if err != nil {
			t.Fatalf("client %d's use of a jti other clients use: %v", i, err)
		}
	}

	// Many distinct jtis at once: all recorded, and each is then a replay.
	const n = 300
	for i, err := range useAll(n, func(i int) error {
		return s.UseAssertionID(ctx, "client-b", fmt.Sprintf("jti-%d", i), exp, now)
	}) {
		if err != nil {
			t.Fatalf("distinct jti %d: %v", i, err)
		}
	}
	for i, err := range useAll(n, func(i int) error {
		return s.UseAssertionID(ctx, "client-b", fmt.Sprintf("jti-%d", i), exp, now.Add(time.Second))
	}) {
		if !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("second use of jti %d: %v, want ErrConflict", i, err)
		}
	}

	// Replays, fresh jtis, expired rows and duplicates mixed at once: each use gets its own
	// outcome. Even i: recorded before (replays); i%4 == 1: recorded with an expiry that has
	// passed (taken over); i%4 == 3: fresh, used twice at once (one of the two wins).
	const m = 80
	for i := 0; i < m; i++ {
		switch i % 4 {
		case 0, 2:
			mustNil(t, s.UseAssertionID(ctx, "client-c", fmt.Sprintf("mix-%d", i), exp, now))
		case 1:
			mustNil(t, s.UseAssertionID(ctx, "client-c", fmt.Sprintf("mix-%d", i), now.Add(-time.Minute), now.Add(-2*time.Minute)))
		}
	}
	errs = useAll(m+m/4, func(i int) error {
		if i >= m {
			i = 4*(i-m) + 3 // the second use of each i%4 == 3
		}
		return s.UseAssertionID(ctx, "client-c", fmt.Sprintf("mix-%d", i), exp, now)
	})
	for i := 0; i < m; i++ {
		err := errs[i]
		switch i % 4 {
		case 0, 2:
			mustIs(t, err, storage.ErrConflict)
		case 1:
			mustNil(t, err)
		case 3:
			other := errs[m+i/4]
			if (err == nil) == (other == nil) || (err != nil && !errors.Is(err, storage.ErrConflict)) ||
				(other != nil && !errors.Is(other, storage.ErrConflict)) {
				t.Fatalf("two concurrent uses of fresh jti mix-%d: %v and %v, want one nil and one ErrConflict", i, err, other)
			}
		}
	}

	// Inside a transaction, a use is recorded with it: undone by its rollback, kept by its
	// commit.
	rollback := errors.New("roll back")
	mustIs(t, s.WithTx(ctx, func(tx storage.Store) error {
		mustNil(t, tx.UseAssertionID(ctx, "client-e", "in-tx", exp, now))
		mustIs(t, tx.UseAssertionID(ctx, "client-e", "in-tx", exp, now), storage.ErrConflict)
		return rollback
	}), rollback)
	mustNil(t, s.WithTx(ctx, func(tx storage.Store) error { return tx.UseAssertionID(ctx, "client-e", "in-tx", exp, now) }))
	mustIs(t, s.UseAssertionID(ctx, "client-e", "in-tx", exp, now), storage.ErrConflict)

	// A use whose context has ended records nothing.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.UseAssertionID(cancelled, "client-d", "cancelled", exp, now); !errors.Is(err, context.Canceled) {
		t.Fatalf("use with a cancelled context: %v, want context.Canceled", err)
	}
	mustNil(t, s.UseAssertionID(ctx, "client-d", "cancelled", exp, now))
}

// testAssertionIDsAfterClose: uses in flight when the store closes are answered (recorded or
// refused, never left waiting); a use after Close fails (not as a replay).
func testAssertionIDsAfterClose(t *testing.T, s storage.Store) {
	ctx := context.Background()
	exp := now.Add(time.Minute)
	mustNil(t, s.UseAssertionID(ctx, "client-a", "before", exp, now))
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.UseAssertionID(ctx, "client-a", fmt.Sprintf("during-%d", i), exp, now)
			if errors.Is(err, storage.ErrConflict) {
				t.Errorf("use %d during Close: %v, want nil or a failure", i, err)
			}
		}()
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	err := s.UseAssertionID(ctx, "client-a", "after", exp, now)
	if err == nil || errors.Is(err, storage.ErrConflict) {
		t.Fatalf("use after Close: %v, want a failure that is not ErrConflict", err)
	}
}
