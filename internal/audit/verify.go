package audit

import (
	"context"
	"fmt"

	"github.com/keyhold/keyhold/internal/storage"
)

// Problem is one break in a chain that Verify found.
type Problem struct {
	Chain  string
	Seq    int64  // the record concerned (or the first missing)
	ID     string // its id, when it exists
	Kind   string // ProblemAltered, ProblemDeleted, ProblemHead
	Detail string
}

// Problem kinds.
const (
	ProblemAltered = "altered"
	ProblemDeleted = "deleted"
	ProblemHead    = "head"
)

func (p Problem) String() string {
	chain := p.Chain
	if chain == "" {
		chain = "platform"
	}
	return fmt.Sprintf("chain %s: %s: %s", chain, p.Kind, p.Detail)
}

// ChainReport is what Verify checked of one chain.
type ChainReport struct {
	Head     storage.AuditHead
	Records  int64
	Problems []Problem
}

// Verify checks every chain: that its records run from the anchor's Seq+1 to the head's Seq
// without a gap, that each record's PrevHash is the previous record's Hash (the anchor's for
// the first), that each Hash is the hash of the record's content, and that the last record is
// the head. An edited record fails its own hash; a deleted record leaves a gap (or, at the
// end, a head that names a record that is gone); a record deleted and the chain rewritten
// after it would need every later hash recomputed and the head row changed, which the
// operator's copy of the head hashes (Verify's output, the SIEM stream) exposes.
func Verify(ctx context.Context, st storage.AuditLog) ([]ChainReport, error) {
	heads, err := st.AuditHeads(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ChainReport, 0, len(heads))
	for _, h := range heads {
		rep, err := verifyChain(ctx, st, h)
		if err != nil {
			return out, err
		}
		out = append(out, rep)
	}
	return out, nil
}

func verifyChain(ctx context.Context, st storage.AuditLog, h storage.AuditHead) (ChainReport, error) {
	rep := ChainReport{Head: h}
	prevSeq, prevHash := h.AnchorSeq, h.AnchorHash
	add := func(seq int64, id, kind, format string, a ...any) {
		rep.Problems = append(rep.Problems, Problem{Chain: h.Chain, Seq: seq, ID: id, Kind: kind, Detail: fmt.Sprintf(format, a...)})
	}
	err := st.EachAudit(ctx, h.Chain, func(r *storage.AuditRecord) error {
		rep.Records++
		switch {
		case r.Seq <= prevSeq:
			add(r.Seq, r.ID, ProblemAltered, "record %d (%s) is out of order (after %d)", r.Seq, r.ID, prevSeq)
		case r.Seq > prevSeq+1:
			add(prevSeq+1, "", ProblemDeleted, "records %d to %d are missing", prevSeq+1, r.Seq-1)
		case r.PrevHash != prevHash:
			add(r.Seq, r.ID, ProblemAltered, "record %d (%s) does not follow record %d: that record was altered, or this one's link was", r.Seq, r.ID, prevSeq)
		}
		if want := storage.AuditHash(r.PrevHash, r); want != r.Hash {
			add(r.Seq, r.ID, ProblemAltered, "record %d (%s) was altered: its content does not match its hash", r.Seq, r.ID)
		}
		prevSeq, prevHash = r.Seq, r.Hash
		return nil
	})
	if err != nil {
		return rep, err
	}
	switch {
	case prevSeq < h.Seq:
		add(prevSeq+1, "", ProblemDeleted, "records %d to %d (the newest) are missing", prevSeq+1, h.Seq)
	case prevSeq > h.Seq:
		add(h.Seq, "", ProblemHead, "records run to %d but the head says %d", prevSeq, h.Seq)
	case prevHash != h.Hash:
		add(h.Seq, "", ProblemHead, "the newest record's hash is not the head's")
	}
	return rep, nil
}
