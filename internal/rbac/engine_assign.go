package rbac

import (
	"strings"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/storage"
)

// scopeRef is one scope of an assignment or scope group: its canonical text, and what the
// engine needs of its shape, so that deciding never parses it again.
type scopeRef struct {
	text strID
	kind scopeKind
	// ws is the offset of the 32-hex workspace id in the text (0: none); last is the offset
	// of its last segment (the id of a scope or tenant group).
	ws, last uint16
}

// wsHexLen is the length of a workspace id as GRNs print it.
const wsHexLen = 32

// workspaceOf returns the workspace id in a scope's text, or "".
func (s scopeRef) workspaceOf(text string) string {
	if s.ws == 0 {
		return ""
	}
	return text[s.ws : s.ws+wsHexLen]
}

// scopeRefOf describes scope g, whose canonical text is interned as id.
func scopeRefOf(g grn.GRN, text string, id strID) scopeRef {
	ref := scopeRef{text: id, kind: kindOf(g), last: uint16(strings.LastIndexByte(text, '/') + 1)}
	if g.Workspace != "" {
		ref.ws = uint16(len("grn:") + len(g.Platform) + len("/workspaces/"))
	}
	return ref
}

// assignRec is one role assignment. ws is the canonical id of the workspace it was made in:
// it counts only for decisions there (see Where).
type assignRec struct {
	id, subject, role, ws strID
	// scopes are scopes[scopeOff : scopeOff+scopeN] of the table.
	scopeOff, scopeN uint32
	// next is the index of the subject's next assignment (0 ends the list).
	next uint32
	// cond is the index of the assignment's condition in the condition table (0: none).
	cond uint32
}

// assignTable holds the assignments: records by index (recs[0] unused), an index by id, and
// the scopes of all records in one slice. A subject's assignments are a list through
// assignRec.next whose head is in the subject's strEnt.
type assignTable struct {
	recs       []assignRec
	freeRecs   []uint32
	byID       map[strID]uint32
	scopes     []scopeRef
	deadScopes int
}

func newAssignTable() assignTable {
	return assignTable{recs: make([]assignRec, 1), byID: map[strID]uint32{}}
}

// firstOf returns the index of subject's first assignment (0: none).
func (v *view) firstOf(subject strID) uint32 { return v.strs.ents[subject].head }

// scopesOf returns a record's scopes.
func (t *assignTable) scopesOf(a *assignRec) []scopeRef {
	return t.scopes[a.scopeOff : a.scopeOff+a.scopeN]
}

// internScope adds a reference to a scope given as text. A scope that does not parse is
// refused (it would grant nothing).
func (v *view) internScope(text string) (scopeRef, bool) {
	g, err := grn.Parse(text)
	if err != nil {
		return scopeRef{}, false
	}
	text = g.String()
	return scopeRefOf(g, text, v.strs.intern(text)), true
}

// putAssignment adds an assignment (the caller has removed any older copy of it). One
// without an id, subject or workspace (which the store never holds) would grant nothing and is
// skipped.
func (v *view) putAssignment(a *storage.Assignment) {
	if a.ID == "" || a.Subject == "" || a.WorkspaceID == "" {
		return
	}
	off := uint32(len(v.scopes))
	for _, text := range a.Scopes {
		if ref, ok := v.internScope(text); ok {
			v.scopes = append(v.scopes, ref)
		}
	}
	rec := assignRec{id: v.strs.intern(a.ID), subject: v.strs.intern(a.Subject), role: v.strs.intern(a.RoleID),
		ws: v.strs.intern(a.WorkspaceID), scopeOff: off, scopeN: uint32(len(v.scopes)) - off}
	if a.Condition != "" {
		rec.cond = v.conds.intern(a.Condition)
	}
	rec.next = v.firstOf(rec.subject)
	i := place(&v.recs, &v.freeRecs, rec)
	v.byID[rec.id], v.strs.ents[rec.subject].head = i, i
	v.indexScopes(i)
}

// removeAssignment forgets the assignment with id, if held.
func (v *view) removeAssignment(id string) {
	sid, ok := v.strs.find(id)
	if !ok {
		return
	}
	i, ok := v.byID[sid]
	if !ok {
		return
	}
	a := v.recs[i]
	v.unlinkSubject(a.subject, i)
	v.unindexScopes(&a)
	delete(v.byID, sid)
	for _, s := range v.scopesOf(&a) {
		v.strs.release(s.text)
	}
	v.strs.release(a.id)
	v.strs.release(a.subject)
	v.strs.release(a.role)
	v.strs.release(a.ws)
	v.conds.release(a.cond)
	v.recs[i] = assignRec{}
	v.freeRecs = append(v.freeRecs, i)
	v.deadScopes += int(a.scopeN)
	v.maybeCompactScopes()
}

// unlinkSubject removes record i from its subject's list.
func (v *view) unlinkSubject(subject strID, i uint32) {
	head := v.firstOf(subject)
	if head == i {
		v.strs.ents[subject].head = v.recs[i].next
		return
	}
	for p := head; p != 0; p = v.recs[p].next {
		if v.recs[p].next == i {
			v.recs[p].next = v.recs[i].next
			return
		}
	}
}

// compactMinScopes is the least number of dead scopes worth compacting for (a variable for
// tests).
var compactMinScopes = 4096

// maybeCompactScopes drops the scopes of removed records once they are more than half of
// the slice.
func (v *view) maybeCompactScopes() {
	if v.deadScopes < compactMinScopes || v.deadScopes*2 < len(v.scopes) {
		return
	}
	scopes := make([]scopeRef, 0, len(v.scopes)-v.deadScopes)
	for i := range v.recs {
		a := &v.recs[i]
		off := uint32(len(scopes))
		scopes = append(scopes, v.scopesOf(a)...)
		a.scopeOff = off
	}
	v.scopes, v.deadScopes = scopes, 0
	v.reindexScopes()
}
