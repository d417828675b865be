package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// testChangeLogCompaction: compaction deletes a prefix of the log cut at a sequence number,
// keeps the newest entry, leaves LatestSeq alone, and may run on several nodes at once.
func testChangeLogCompaction(t *testing.T, s storage.Store) {
	ctx := context.Background()
	oldest, err := s.OldestSeq(ctx)
	mustNil(t, err)
	if n, err := s.CompactChanges(ctx, time.Now().Add(time.Hour)); err != nil || (oldest == 0 && n != 0) {
		t.Fatalf("compacting an empty log: %d, %v", n, err)
	}
	revokeN := func(prefix string, n int) {
		t.Helper()
		for i := range n {
			mustNil(t, s.RevokeToken(ctx, storage.RevokedToken{JTI: fmt.Sprintf("%s%d", prefix, i), ExpiresAt: now.Add(time.Hour)}))
		}
	}
	revokeN("old", 5)
	// Every entry is written after this cutoff: nothing goes.
	cutoff := time.Now().Add(-time.Minute)
	if n, err := s.CompactChanges(ctx, cutoff); err != nil || n != 0 {
		t.Fatalf("compacting entries younger than the cutoff: %d, %v", n, err)
	}
	mid := time.Now().Add(time.Millisecond)
	time.Sleep(5 * time.Millisecond) // stored times have microsecond precision
	revokeN("new", 3)
	before, err := s.LatestSeq(ctx)
	mustNil(t, err)
	all, err := s.ChangesSince(ctx, 0, 1000)
	mustNil(t, err)
	// Compact what was written before mid: the "old" entries (and whatever came before them).
	n, err := s.CompactChanges(ctx, mid)
	mustNil(t, err)
	if want := int64(len(all) - 3); n != want {
		t.Fatalf("compaction deleted %d entries, want %d", n, want)
	}
	left, err := s.ChangesSince(ctx, 0, 1000)
	mustNil(t, err)
	if len(left) != 3 || left[0].Key != "new0" || left[2].Seq != before {
		t.Fatalf("left after compaction: %+v", left)
	}
	oldest, err = s.OldestSeq(ctx)
	mustNil(t, err)
	if oldest != left[0].Seq {
		t.Fatalf("OldestSeq = %d, want %d", oldest, left[0].Seq)
	}
	if latest, _ := s.LatestSeq(ctx); latest != before {
		t.Fatalf("LatestSeq moved from %d to %d", before, latest)
	}
	// A cutoff after every entry keeps the newest one, so LatestSeq and the log agree and a
	// reader can tell how far the log reaches; several compactions at once agree too.
	var wg sync.WaitGroup
	total := make(chan int64, 4)
	for range 4 {
		wg.Go(func() {
			n, err := s.CompactChanges(ctx, time.Now().Add(time.Hour))
			if err != nil {
				t.Error(err)
			}
			total <- n
		})
	}
	wg.Wait()
	close(total)
	var sum int64
	for n := range total {
		sum += n
	}
	if sum != 2 {
		t.Fatalf("concurrent compactions deleted %d entries in all, want 2", sum)
	}
	left, err = s.ChangesSince(ctx, 0, 1000)
	mustNil(t, err)
	if len(left) != 1 || left[0].Seq != before || left[0].Key != "new2" {
		t.Fatalf("left after compacting everything: %+v", left)
	}
	// Writing goes on after the compacted prefix, densely.
	revokeN("later", 1)
	next, err := s.ChangesSince(ctx, before, 10)
	mustNil(t, err)
	if len(next) != 1 || next[0].Seq != before+1 {
		t.Fatalf("the write after compaction: %+v (latest was %d)", next, before)
	}
}
