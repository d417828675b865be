package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

const auditCols = `id, chain, seq, at, category, action, outcome, principal, credential_id, owner_id, username,
	source_addr, request_id, target_kind, target_id, target_grn, description, prev_hash, hash`

// txState is what a write transaction remembers of the changes it logged, for its audit
// record.
type txState struct {
	kind, key string // the first change
	wantKind  string // the kind the actor targets
	wantKey   string // the first change of wantKind
	changes   int
	actor     *storage.AuditActor
	record    *storage.AuditRecord // appended, committed with the transaction
}

func (t *txState) noteChange(kind, key string) {
	if t == nil {
		return
	}
	if t.changes == 0 {
		t.kind, t.key = kind, key
	}
	if t.wantKind != "" && t.wantKey == "" && kind == t.wantKind {
		t.wantKey = key
	}
	t.changes++
}

// appendActorRecord appends the audit record of the actor the transaction's context carries,
// once the write has logged at least one change and if no earlier transaction of that context
// recorded it. It runs last in the transaction, so the chain's head row is locked only for
// the commit.
func (s *Store) appendActorRecord(ctx context.Context, t *txState) error {
	a := t.actor
	if a == nil || t.changes == 0 || a.Recorded() {
		return nil
	}
	kind, key := t.kind, t.key
	if t.wantKey != "" {
		kind, key = t.wantKind, t.wantKey
	}
	r := &storage.AuditRecord{Chain: a.Chain, Category: a.Category, Action: a.Action, Outcome: storage.AuditSuccess,
		Principal: a.Principal, CredentialID: a.CredentialID, OwnerID: a.OwnerID, SourceAddr: a.SourceAddr,
		RequestID: a.RequestID, TargetKind: kind, TargetID: key}
	if a.Describe != nil {
		r.TargetKind, r.TargetID, r.TargetGRN, r.Description = a.Describe(kind, key)
	}
	if r.Description == "" {
		r.Description = a.Action + " " + kind + " " + key
	}
	r.At = time.Now()
	if a.Now != nil {
		r.At = a.Now()
	}
	if a.OwnerID != "" {
		err := s.queryRow(ctx, `SELECT email FROM users WHERE id = ?`, a.OwnerID).Scan(&r.Username)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return s.translate(err)
		}
	}
	if err := s.appendAudit(ctx, r); err != nil {
		return err
	}
	t.record = r
	return nil
}

// AppendAudit appends records to their chains in one transaction.
func (s *Store) AppendAudit(ctx context.Context, recs []*storage.AuditRecord) error {
	return s.WithTx(ctx, func(st storage.Store) error {
		inner := st.(*Store)
		for _, r := range recs {
			if err := inner.appendAudit(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// appendAudit chains r after its chain's head, under the head row's lock (taken here and held
// to commit): that lock, not the change log's, orders a chain, so chains of different
// workspaces never wait on each other.
func (s *Store) appendAudit(ctx context.Context, r *storage.AuditRecord) error {
	head, err := s.lockHead(ctx, r.Chain)
	if err != nil {
		return err
	}
	if r.ID == "" {
		r.ID = ids.New()
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
	r.Seq, r.PrevHash = head.Seq+1, head.Hash
	r.Hash = storage.AuditHash(r.PrevHash, r)
	if _, err := s.exec(ctx, `INSERT INTO audit_records (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Chain, r.Seq, r.At, r.Category, r.Action, r.Outcome, r.Principal, r.CredentialID, r.OwnerID, r.Username,
		r.SourceAddr, r.RequestID, r.TargetKind, r.TargetID, r.TargetGRN, r.Description, r.PrevHash, r.Hash); err != nil {
		return err
	}
	_, err = s.exec(ctx, `UPDATE audit_heads SET seq = ?, hash = ? WHERE chain = ?`, r.Seq, r.Hash, r.Chain)
	return err
}

// lockHead reads a chain's head, creating it when the chain is new, and locks it until commit.
func (s *Store) lockHead(ctx context.Context, chain string) (storage.AuditHead, error) {
	h := storage.AuditHead{Chain: chain}
	read := func() error {
		return s.queryRow(ctx, `SELECT seq, hash, anchor_seq, anchor_hash FROM audit_heads WHERE chain = ?`+s.d.ForUpdate,
			chain).Scan(&h.Seq, &h.Hash, &h.AnchorSeq, &h.AnchorHash)
	}
	err := read()
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.exec(ctx, `INSERT INTO audit_heads (chain, seq, hash, anchor_seq, anchor_hash) VALUES (?, 0, '', 0, '')
			ON CONFLICT (chain) DO NOTHING`, chain); err != nil {
			return h, err
		}
		err = read()
	}
	return h, s.translate(err)
}

func scanAudit(r interface{ Scan(...any) error }, extra ...any) (storage.AuditRecord, error) {
	var a storage.AuditRecord
	dest := []any{&a.ID, &a.Chain, &a.Seq, timeField{&a.At}, &a.Category, &a.Action, &a.Outcome, &a.Principal,
		&a.CredentialID, &a.OwnerID, &a.Username, &a.SourceAddr, &a.RequestID, &a.TargetKind, &a.TargetID,
		&a.TargetGRN, &a.Description, &a.PrevHash, &a.Hash}
	err := r.Scan(append(dest, extra...)...)
	return a, err
}

const auditFrom = ` FROM audit_records r LEFT JOIN workspaces w ON w.id = r.chain`

func prefixed(cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = "r." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

var auditSelect = `SELECT ` + prefixed(auditCols) + `, COALESCE(w.name, ''), COALESCE(w.type, '')` + auditFrom

// ListAudit reads one page of a chain's records.
func (s *Store) ListAudit(ctx context.Context, q storage.AuditQuery) ([]storage.AuditItem, int, error) {
	where := ` WHERE r.chain = ?`
	args := []any{q.Chain}
	if q.Filter.SQL != "" {
		where += " AND (" + q.Filter.SQL + ")"
		args = append(args, q.Filter.Args...)
	}
	total := 0
	if q.CountUpTo > 0 {
		cargs := append(append([]any{}, args...), q.CountUpTo)
		if err := s.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1`+auditFrom+where+` LIMIT ?) t`, cargs...).Scan(&total); err != nil {
			return nil, 0, s.translate(err)
		}
	}
	order := q.Sort
	if order == "" {
		order = "r.at DESC"
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := s.query(ctx, auditSelect+where+` ORDER BY `+order+`, r.seq DESC LIMIT ? OFFSET ?`, args...)
	items, err := collect(rows, err, func(r *sql.Rows) (storage.AuditItem, error) {
		var it storage.AuditItem
		rec, err := scanAudit(r, &it.WorkspaceName, &it.WorkspaceType)
		it.AuditRecord = rec
		return it, err
	})
	return items, total, err
}

// GetAudit reads one record of a chain.
func (s *Store) GetAudit(ctx context.Context, chain, id string) (*storage.AuditItem, error) {
	var it storage.AuditItem
	rec, err := scanAudit(s.queryRow(ctx, auditSelect+` WHERE r.chain = ? AND r.id = ?`, chain, id), &it.WorkspaceName, &it.WorkspaceType)
	if err != nil {
		return nil, s.translate(err)
	}
	it.AuditRecord = rec
	return &it, nil
}

// AuditHeads lists every chain's head.
func (s *Store) AuditHeads(ctx context.Context) ([]storage.AuditHead, error) {
	rows, err := s.query(ctx, `SELECT chain, seq, hash, anchor_seq, anchor_hash FROM audit_heads ORDER BY chain`)
	return collect(rows, err, func(r *sql.Rows) (storage.AuditHead, error) {
		var h storage.AuditHead
		err := r.Scan(&h.Chain, &h.Seq, &h.Hash, &h.AnchorSeq, &h.AnchorHash)
		return h, err
	})
}

// EachAudit streams a chain's records in Seq order.
func (s *Store) EachAudit(ctx context.Context, chain string, fn func(*storage.AuditRecord) error) error {
	rows, err := s.query(ctx, `SELECT `+auditCols+` FROM audit_records WHERE chain = ? ORDER BY seq`, chain)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return s.translate(rows.Err())
}

// pruneBatch bounds the records one pruning transaction deletes.
const pruneBatch = 5000

// PruneAudit deletes each chain's records below the first written at or after cutoff, in
// batches, each a transaction that locks the chain's head and moves its anchor to the last
// record deleted.
func (s *Store) PruneAudit(ctx context.Context, cutoff time.Time) (int64, error) {
	// Only chains holding a record older than cutoff: a store of many workspaces prunes
	// the few that need it.
	rows, err := s.query(ctx, `SELECT DISTINCT chain FROM audit_records WHERE at < ?`, cutoff)
	chains, err := collect(rows, err, func(r *sql.Rows) (string, error) {
		var c string
		err := r.Scan(&c)
		return c, err
	})
	if err != nil {
		return 0, err
	}
	var deleted int64
	for _, chain := range chains {
		for {
			n, err := s.pruneChainBatch(ctx, chain, cutoff)
			deleted += n
			if err != nil {
				return deleted, err
			}
			if n < pruneBatch {
				break
			}
		}
	}
	return deleted, nil
}

func (s *Store) pruneChainBatch(ctx context.Context, chain string, cutoff time.Time) (int64, error) {
	var n int64
	err := s.WithTx(ctx, func(st storage.Store) error {
		t := st.(*Store)
		head, err := t.lockHead(ctx, chain)
		if err != nil {
			return err
		}
		var bound sql.NullInt64
		if err := t.queryRow(ctx, `SELECT MIN(seq) FROM audit_records WHERE chain = ? AND at >= ?`, chain, cutoff).Scan(&bound); err != nil {
			return t.translate(err)
		}
		limit := head.Seq + 1 // every record
		if bound.Valid {
			limit = bound.Int64
		}
		last := min(limit-1, head.AnchorSeq+pruneBatch)
		if last <= head.AnchorSeq {
			return nil
		}
		var hash string
		err = t.queryRow(ctx, `SELECT hash FROM audit_records WHERE chain = ? AND seq = ?`, chain, last).Scan(&hash)
		if errors.Is(err, sql.ErrNoRows) {
			// The record the anchor should move to is gone (deleted by hand): leave the chain
			// as it is, for verify to report.
			return nil
		}
		if err != nil {
			return t.translate(err)
		}
		res, err := t.exec(ctx, `DELETE FROM audit_records WHERE chain = ? AND seq <= ?`, chain, last)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = t.exec(ctx, `UPDATE audit_heads SET anchor_seq = ?, anchor_hash = ? WHERE chain = ?`, last, hash, chain)
		return err
	})
	return n, err
}
