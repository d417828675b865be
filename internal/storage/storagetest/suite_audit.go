package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

func actor(chain string) *storage.AuditActor {
	return &storage.AuditActor{Chain: chain, Principal: "api-client:c1", CredentialID: "c1", SourceAddr: "192.0.2.7",
		RequestID: "req-1", Category: "API Gateway", Action: "POST /x", TargetKind: storage.KindCredential,
		Now: func() time.Time { return now }}
}

// testAuditInTransaction: a write whose context carries an actor commits exactly one record
// with it, naming the target; a write that fails leaves none; a second transaction of the
// same context adds none; a write without an actor records nothing.
func testAuditInTransaction(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	u := newUser(t, s, ws.ID)
	a := actor(ws.ID)
	a.OwnerID = u.ID
	actx := storage.WithAudit(ctx, a)
	c := newCredential(ws.ID, u.ID, "one")
	mustNil(t, s.CreateCredential(actx, c, 0))
	if !a.Recorded() {
		t.Fatal("the actor was not marked recorded after the commit")
	}
	items, total, err := s.ListAudit(ctx, storage.AuditQuery{Chain: ws.ID, Limit: 10, CountUpTo: 100})
	mustNil(t, err)
	if total != 1 || len(items) != 1 {
		t.Fatalf("records = %d (total %d), want 1", len(items), total)
	}
	r := items[0]
	if r.TargetID != c.ID || r.TargetKind != storage.KindCredential || r.Principal != "api-client:c1" || r.Username != u.Email ||
		r.OwnerID != u.ID || r.SourceAddr != "192.0.2.7" || r.RequestID != "req-1" || r.Seq != 1 || r.PrevHash != "" ||
		r.Outcome != storage.AuditSuccess || r.WorkspaceName != ws.Name || !r.At.Equal(now) {
		t.Fatalf("record = %+v", r)
	}
	if r.Hash != storage.AuditHash("", &r.AuditRecord) {
		t.Fatal("stored hash is not the record's")
	}
	// The same context's next transaction adds nothing.
	mustNil(t, s.DeleteCredential(actx, c.ID))
	// A failed write (a duplicate) leaves no record, and a write without actor none either.
	b := actor(ws.ID)
	dup := newCredential(ws.ID, u.ID, "two")
	mustNil(t, s.CreateCredential(ctx, dup, 0))
	again := *dup
	mustIs(t, s.CreateCredential(storage.WithAudit(ctx, b), &again, 0), storage.ErrConflict)
	if b.Recorded() {
		t.Fatal("a failed write was marked recorded")
	}
	// A rolled-back transaction that logged a change leaves no record.
	boom := errors.New("boom")
	err = s.WithTx(storage.WithAudit(ctx, b), func(tx storage.Store) error {
		if err := tx.DeleteCredential(ctx, dup.ID); err != nil {
			return err
		}
		return boom
	})
	mustIs(t, err, boom)
	_, total, err = s.ListAudit(ctx, storage.AuditQuery{Chain: ws.ID, Limit: 10, CountUpTo: 100})
	mustNil(t, err)
	if total != 1 {
		t.Fatalf("records after failed writes = %d, want 1", total)
	}
	// The next recorded write chains after the first.
	mustNil(t, s.DeleteCredential(storage.WithAudit(ctx, b), dup.ID))
	items, _, err = s.ListAudit(ctx, storage.AuditQuery{Chain: ws.ID, Limit: 10, Sort: "r.seq ASC"})
	mustNil(t, err)
	if len(items) != 2 || items[1].Seq != 2 || items[1].PrevHash != items[0].Hash || items[1].TargetID != dup.ID {
		t.Fatalf("chain = %+v", items)
	}
	got, err := s.GetAudit(ctx, ws.ID, items[1].ID)
	mustNil(t, err)
	if got.Hash != items[1].Hash {
		t.Fatal("GetAudit returned another record")
	}
	_, err = s.GetAudit(ctx, "", items[1].ID)
	mustIs(t, err, storage.ErrNotFound)
}

// testAuditChainsAndPruning: chains are per workspace; pruning moves the anchor so that the
// rest still links; filters and paging.
func testAuditChainsAndPruning(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mk := func(chain string, at time.Time, cat string) *storage.AuditRecord {
		return &storage.AuditRecord{Chain: chain, At: at, Category: cat, Action: "x", Outcome: storage.AuditFailure,
			Username: "u@example.test", SourceAddr: "198.51.100.1", Description: "Thing 100% done_" + cat}
	}
	var recs []*storage.AuditRecord
	for i := 0; i < 5; i++ {
		recs = append(recs, mk("A", now.Add(time.Duration(i)*time.Hour), "Alpha"), mk("", now.Add(time.Duration(i)*time.Hour), "Beta"))
	}
	mustNil(t, s.AppendAudit(ctx, recs[:4]))
	mustNil(t, s.AppendAudit(ctx, recs[4:]))
	heads, err := s.AuditHeads(ctx)
	mustNil(t, err)
	if len(heads) != 2 || heads[0].Chain != "" || heads[0].Seq != 5 || heads[1].Seq != 5 || heads[1].Hash != recs[8].Hash {
		t.Fatalf("heads = %+v", heads)
	}
	items, total, err := s.ListAudit(ctx, storage.AuditQuery{Chain: "A", Limit: 2, Offset: 1, CountUpTo: 3})
	mustNil(t, err)
	if total != 3 || len(items) != 2 || items[0].Seq != 4 || items[1].Seq != 3 {
		t.Fatalf("page = %d items (total %d): %+v", len(items), total, items)
	}
	// A predicate of the audit filter's columns (contains is LIKE with '!' escapes).
	items, _, err = s.ListAudit(ctx, storage.AuditQuery{Chain: "A", Limit: 10,
		Filter: storage.Predicate{SQL: "(LOWER(r.description) LIKE ? ESCAPE '!') AND (r.at >= ?)", Args: []any{"%100!% done!_%", now.Add(3 * time.Hour)}}})
	mustNil(t, err)
	if len(items) != 2 {
		t.Fatalf("filtered = %d, want 2", len(items))
	}
	n, err := s.PruneAudit(ctx, now.Add(2*time.Hour))
	mustNil(t, err)
	if n != 4 {
		t.Fatalf("pruned %d, want 4", n)
	}
	heads, err = s.AuditHeads(ctx)
	mustNil(t, err)
	for _, h := range heads {
		if h.AnchorSeq != 2 {
			t.Fatalf("anchor = %+v, want seq 2", h)
		}
		var first *storage.AuditRecord
		mustNil(t, s.EachAudit(ctx, h.Chain, func(r *storage.AuditRecord) error {
			if first == nil {
				c := *r
				first = &c
			}
			return nil
		}))
		if first == nil || first.Seq != 3 || first.PrevHash != h.AnchorHash {
			t.Fatalf("first remaining record %+v does not link to the anchor %+v", first, h)
		}
	}
	// Everything older than the cutoff goes, the head stays.
	n, err = s.PruneAudit(ctx, now.Add(24*time.Hour))
	mustNil(t, err)
	if n != 6 {
		t.Fatalf("pruned %d, want 6", n)
	}
	heads, err = s.AuditHeads(ctx)
	mustNil(t, err)
	if heads[1].AnchorSeq != 5 || heads[1].AnchorHash != heads[1].Hash {
		t.Fatalf("head after pruning all = %+v", heads[1])
	}
	mustNil(t, s.AppendAudit(ctx, []*storage.AuditRecord{mk("A", now.Add(30*time.Hour), "Alpha")}))
	items, _, err = s.ListAudit(ctx, storage.AuditQuery{Chain: "A", Limit: 10})
	mustNil(t, err)
	if len(items) != 1 || items[0].Seq != 6 || items[0].PrevHash != heads[1].Hash {
		t.Fatalf("after pruning, the chain goes on from the anchor: %+v", items)
	}
}
