package storage

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// Audit outcomes.
const (
	AuditSuccess = "SUCCESS"
	AuditFailure = "FAILURE"
)

// AuditRecord is one entry of the audit log. Records form hash chains, one per workspace
// (Chain is the workspace id; "" is the platform chain: authentication failures not tied to a
// workspace, lockouts, and writes of operator commands run without one). Seq numbers a
// chain's records from 1 without gaps; Hash is AuditHash(PrevHash, record), PrevHash the
// previous record's Hash ("" before the first).
type AuditRecord struct {
	ID           string
	Chain        string
	Seq          int64
	At           time.Time
	Category     string
	Action       string
	Outcome      string
	Principal    string
	CredentialID string
	OwnerID      string
	Username     string
	SourceAddr   string
	RequestID    string
	TargetKind   string
	TargetID     string
	TargetGRN    string
	Description  string
	PrevHash     string
	Hash         string
}

// AuditHash is the chain hash of r after prev: SHA-256 over a canonical encoding of every
// field but Hash (each field as its byte length, 4 bytes big-endian, then its bytes; the
// sequence number as 8 bytes; the time as its fixed-width UTC text), prefixed by prev. The
// length prefixes make the encoding injective: no two records encode alike. Hex, lower case.
// It lives with the record type because every backend must chain identically and the
// verifier must recompute it.
func AuditHash(prev string, r *AuditRecord) string {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(s)))
		h.Write(n[:4])
		h.Write([]byte(s))
	}
	field("keyhold-audit-v1")
	field(prev)
	field(r.ID)
	field(r.Chain)
	binary.BigEndian.PutUint64(n[:], uint64(r.Seq))
	h.Write(n[:])
	field(r.At.UTC().Format("2006-01-02T15:04:05.000000Z"))
	for _, s := range []string{r.Category, r.Action, r.Outcome, r.Principal, r.CredentialID, r.OwnerID,
		r.Username, r.SourceAddr, r.RequestID, r.TargetKind, r.TargetID, r.TargetGRN, r.Description} {
		field(s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditHead is the state of one chain: its last record's Seq and Hash, and the anchor left by
// retention (the Seq and Hash of the last record pruned; 0 and "" when none was), so that a
// pruned chain still verifies from its first remaining record.
type AuditHead struct {
	Chain      string
	Seq        int64
	Hash       string
	AnchorSeq  int64
	AnchorHash string
}

// AuditActor describes who makes a write and why. Carried in a write's context (WithAudit),
// it makes the backend append one audit record inside the transaction that commits the write
// (the first transaction of that context that logs a change), so that the write and its record
// commit together or not at all.
type AuditActor struct {
	Chain        string // the workspace the caller acts in ("" for the platform chain)
	Principal    string
	CredentialID string
	OwnerID      string
	SourceAddr   string
	RequestID    string
	Category     string
	Action       string
	// TargetKind, when set, chooses the target: the first change of that kind the write logs
	// (otherwise, or when it logs none of it, its first change).
	TargetKind string
	// Describe maps the target change to the record's target kind, id and GRN and its
	// description; nil: the change's kind and key, no GRN, a generic description.
	Describe func(kind, key string) (targetKind, id, grn, description string)
	// Now stamps the record (nil: time.Now).
	Now func() time.Time

	recorded atomic.Pointer[AuditRecord]
}

// Recorded reports whether a committed transaction carried this actor's record.
func (a *AuditActor) Recorded() bool { return a.recorded.Load() != nil }

// Record is the record committed for this actor (nil before).
func (a *AuditActor) Record() *AuditRecord { return a.recorded.Load() }

// MarkRecorded is called by a backend once the transaction holding r committed.
func (a *AuditActor) MarkRecorded(r *AuditRecord) { a.recorded.Store(r) }

type auditKey struct{}

// WithAudit returns ctx carrying a.
func WithAudit(ctx context.Context, a *AuditActor) context.Context {
	return context.WithValue(ctx, auditKey{}, a)
}

// AuditFrom returns the actor ctx carries, or nil.
func AuditFrom(ctx context.Context) *AuditActor {
	a, _ := ctx.Value(auditKey{}).(*AuditActor)
	return a
}

// AuditQuery selects audit records of one chain, newest first unless Sort says otherwise.
// Filter may use the columns category, description, source_addr, username, at, ws_name,
// ws_type (audit_records joined with workspaces).
type AuditQuery struct {
	Chain  string
	Filter Predicate
	// Sort is an ORDER BY list built only from fixed column names ("" : newest first).
	Sort   string
	Offset int
	Limit  int
	// CountUpTo bounds the total counted (0: no count).
	CountUpTo int
}

// AuditItem is a record with the name and type of its workspace as they are now.
type AuditItem struct {
	AuditRecord
	WorkspaceName string
	WorkspaceType string
}

// AuditLog stores the audit log.
type AuditLog interface {
	// AppendAudit appends records (each with Chain set and the rest but Seq, PrevHash and Hash
	// filled) to their chains in one transaction, setting those three fields.
	AppendAudit(ctx context.Context, recs []*AuditRecord) error
	// ListAudit returns one page of q and the total matching (up to q.CountUpTo).
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditItem, int, error)
	// GetAudit reads one record of a chain (ErrNotFound when it is not in that chain).
	GetAudit(ctx context.Context, chain, id string) (*AuditItem, error)
	// AuditHeads lists every chain's head.
	AuditHeads(ctx context.Context) ([]AuditHead, error)
	// EachAudit calls fn with a chain's records in Seq order. fn must not use the store.
	EachAudit(ctx context.Context, chain string, fn func(*AuditRecord) error) error
	// PruneAudit deletes, chain by chain, the records below the first one written at or after
	// cutoff (all of them when none was), moving the chain's anchor to the last record it
	// deletes, so that what remains still verifies. It returns how many it deleted.
	PruneAudit(ctx context.Context, cutoff time.Time) (int64, error)
}
