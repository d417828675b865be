package rbac

import (
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// A full load builds the engine's records for every assignment at once. Built one by one,
// a million assignments are several million small heap objects, which the garbage
// collector traces again on every cycle, stealing CPU and adding latency to every request
// of a busy node. bulk builds them in a few thousand large allocations instead: strings are
// packed into shared buffers (a GRN's fields are substrings of its text), equal subjects
// and scopes are shared, and records, scope lists, path pairs and per-subject lists come
// from slabs. Records changed later by the change feed are ordinary allocations.

// slabSize is how many values one slab block holds.
const slabSize = 4096

// slab hands out values of T from large blocks.
type slab[T any] struct{ block []T }

// take returns n zero values, with capacity n so that appending reallocates.
func (s *slab[T]) take(n int) []T {
	if len(s.block) < n {
		s.block = make([]T, max(n, slabSize))
	}
	out := s.block[:n:n]
	s.block = s.block[n:]
	return out
}

// bulk builds assignment records for a full load.
type bulk struct {
	subjects map[string]string
	scopes   map[string]grn.GRN
	// workspaces shares the 32-hex workspace ids, which grn.Parse allocates for each GRN.
	workspaces map[string]string
	infos      slab[assignInfo]
	grns       slab[grn.GRN]
	pairs      slab[grn.Pair]
	lists      slab[*assignInfo]
}

func newBulk() *bulk {
	return &bulk{subjects: map[string]string{}, scopes: map[string]grn.GRN{}, workspaces: map[string]string{}}
}

// loadBatch is how many assignments share one packed string buffer.
const loadBatch = 4096

// indexAssignments indexes every assignment of a full load, releasing each record once it
// is indexed.
func (e *Engine) indexAssignments(assigns []storage.Assignment) {
	b := newBulk()
	for start := 0; start < len(assigns); start += loadBatch {
		batch := assigns[start:min(start+loadBatch, len(assigns))]
		b.pack(batch)
		for i := range batch {
			e.putAssignment(b.assignment(&batch[i], e.roles))
			batch[i] = storage.Assignment{}
		}
	}
	for subject, list := range e.bySubject {
		packed := b.lists.take(len(list))
		copy(packed, list)
		e.bySubject[subject] = packed
	}
}

// pack moves the ids, and the subjects and scopes not seen before, of a batch into one
// string allocation.
func (b *bulk) pack(batch []storage.Assignment) {
	var ps []*string
	fresh := map[string]bool{}
	add := func(p *string, known bool) {
		if !known && !fresh[*p] {
			fresh[*p] = true
			ps = append(ps, p)
		}
	}
	for i := range batch {
		a := &batch[i]
		ps = append(ps, &a.ID)
		_, known := b.subjects[a.Subject]
		add(&a.Subject, known)
		for j := range a.Scopes {
			_, known := b.scopes[a.Scopes[j]]
			add(&a.Scopes[j], known)
		}
	}
	packStrings(ps)
}

// packStrings copies the strings ps point to into one allocation and points each at its
// copy.
func packStrings(ps []*string) {
	n := 0
	for _, p := range ps {
		n += len(*p)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, p := range ps {
		sb.WriteString(*p)
	}
	all, off := sb.String(), 0
	for _, p := range ps {
		l := len(*p)
		*p = all[off : off+l]
		off += l
	}
}

// assignment builds the record of one packed assignment. A scope that no longer parses
// grants nothing.
func (b *bulk) assignment(a *storage.Assignment, roles map[string]*roleInfo) *assignInfo {
	info := &b.infos.take(1)[0]
	info.id, info.roleID = a.ID, a.RoleID
	if r, ok := roles[a.RoleID]; ok {
		info.roleID = r.id
	}
	if s, ok := b.subjects[a.Subject]; ok {
		info.subject = s
	} else {
		b.subjects[a.Subject], info.subject = a.Subject, a.Subject
	}
	info.scopes = b.grns.take(len(a.Scopes))[:0]
	for _, text := range a.Scopes {
		g, ok := b.scopes[text]
		if !ok {
			var err error
			if g, err = grn.Parse(text); err != nil {
				continue
			}
			path := b.pairs.take(len(g.Path))
			copy(path, g.Path)
			g.Path = path
			if ws, ok := b.workspaces[g.Workspace]; ok {
				g.Workspace = ws
			} else {
				b.workspaces[g.Workspace] = g.Workspace
			}
			b.scopes[text] = g
		}
		info.scopes = append(info.scopes, g)
	}
	return info
}

// indexMembers indexes every user group membership of a full load, with one copy of each
// principal string and the per-principal lists from a slab.
func (e *Engine) indexMembers(members []storage.UserGroupMember) {
	users, groups := make([]string, len(members)), make([]string, len(members))
	names := map[string]string{}
	var ps []*string
	for i, m := range members {
		users[i], groups[i] = principal.User(m.UserID), principal.Group(m.GroupID)
		for _, p := range []*string{&users[i], &groups[i]} {
			if _, ok := names[*p]; !ok {
				names[*p] = ""
				ps = append(ps, p)
			}
		}
	}
	packStrings(ps)
	for _, p := range ps {
		names[*p] = *p
	}
	for i, m := range members {
		if !slices.Contains(e.memberOf[names[users[i]]], names[groups[i]]) {
			e.memberOf[names[users[i]]] = append(e.memberOf[names[users[i]]], names[groups[i]])
			e.groupUsers[m.GroupID] = append(e.groupUsers[m.GroupID], names[users[i]])
		}
	}
	var lists slab[string]
	for _, m := range []map[string][]string{e.memberOf, e.groupUsers} {
		for k, list := range m {
			packed := lists.take(len(list))
			copy(packed, list)
			m[k] = packed
		}
	}
}
