package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/audit"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

func openStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	st, _, err := sqlite.OpenMode(context.Background(), t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func fill(t *testing.T, st storage.AuditLog, chain string, n int, start time.Time) {
	t.Helper()
	var recs []*storage.AuditRecord
	for i := 0; i < n; i++ {
		recs = append(recs, &storage.AuditRecord{Chain: chain, At: start.Add(time.Duration(i) * time.Minute), Category: "API Gateway",
			Action: "POST /workspaces/v1/credentials", Outcome: storage.AuditSuccess, Principal: "api-client:x", Description: "created"})
	}
	if err := st.AppendAudit(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func problems(t *testing.T, st storage.AuditLog) []audit.Problem {
	t.Helper()
	reports, err := audit.Verify(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Problem
	for _, r := range reports {
		out = append(out, r.Problems...)
	}
	return out
}

func exec(t *testing.T, st *sqlstore.Store, q string, args ...any) {
	t.Helper()
	if _, err := st.DB().Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyReportsAlteredAndDeletedRows edits a record and deletes others with SQL, as
// someone with the database's password would, and checks that verify names each.
func TestVerifyReportsAlteredAndDeletedRows(t *testing.T) {
	st := openStore(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fill(t, st, "ws-a", 10, start)
	fill(t, st, "", 3, start)
	if p := problems(t, st); len(p) != 0 {
		t.Fatalf("an untouched log: %v", p)
	}

	exec(t, st, `UPDATE audit_records SET description = 'nothing happened' WHERE chain = 'ws-a' AND seq = 3`)
	exec(t, st, `DELETE FROM audit_records WHERE chain = 'ws-a' AND seq = 6`)
	exec(t, st, `DELETE FROM audit_records WHERE chain = '' AND seq = 3`) // the newest of a chain
	got := problems(t, st)
	want := []struct {
		kind string
		seq  int64
		text string
	}{
		{audit.ProblemAltered, 3, "record 3"},
		{audit.ProblemDeleted, 6, "records 6 to 6"},
		{audit.ProblemDeleted, 3, "the newest"},
	}
	if len(got) != len(want) {
		t.Fatalf("problems = %v, want %d", got, len(want))
	}
	for _, w := range want {
		found := false
		for _, p := range got {
			found = found || p.Kind == w.kind && p.Seq == w.seq && strings.Contains(p.String(), w.text)
		}
		if !found {
			t.Errorf("no %s problem at %d (%q) in %v", w.kind, w.seq, w.text, got)
		}
	}

	// A record whose hash was recomputed after an edit still breaks the link to the next.
	exec(t, st, `UPDATE audit_records SET hash = 'ffff' WHERE chain = 'ws-a' AND seq = 8`)
	got = problems(t, st)
	var link bool
	for _, p := range got {
		link = link || p.Seq == 9 && p.Kind == audit.ProblemAltered
	}
	if !link {
		t.Errorf("a rewritten hash at 8 is not reported at 9: %v", got)
	}
}

// TestPruningKeepsTheChainVerifiable: retention deletes old records and moves the anchor;
// the rest verifies, and a deletion below the anchor's successor is still reported.
func TestPruningKeepsTheChainVerifiable(t *testing.T) {
	st := openStore(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fill(t, st, "ws-a", 10, start)
	n, err := st.PruneAudit(context.Background(), start.Add(4*time.Minute))
	if err != nil || n != 4 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if p := problems(t, st); len(p) != 0 {
		t.Fatalf("after pruning: %v", p)
	}
	fill(t, st, "ws-a", 2, start.Add(time.Hour))
	if p := problems(t, st); len(p) != 0 {
		t.Fatalf("after pruning and appending: %v", p)
	}
	exec(t, st, `DELETE FROM audit_records WHERE chain = 'ws-a' AND seq = 5`)
	if p := problems(t, st); len(p) != 1 || p[0].Kind != audit.ProblemDeleted || p[0].Seq != 5 {
		t.Fatalf("the first record after the anchor deleted: %v", p)
	}
}
