package rbac

import (
	"hash/maphash"
	"unsafe"
)

// The engine holds a million assignments and more. Kept as Go strings, slices and maps of
// strings, each of them is several pointers that the garbage collector traces on every
// cycle: on a busy node that marking (a quarter of a second for a million assignments)
// steals CPU and shows as a latency tail. So the engine keeps its bulk in values without
// pointers: strings live in one byte arena and are named by a strID, records refer to one
// another by index, and maps are keyed by integers. The collector never looks inside those.

// strID names a string of a strTable; 0 names none.
type strID uint32

// strEnt is one string of the table: where its bytes are, how many records refer to it, the
// next entry with the same hash, and, for a principal, its first assignment: lookups read it
// from the entry that finding the string has just brought into the cache.
type strEnt struct {
	off, n uint32
	refs   uint32
	next   strID
	head   uint32 // index of the first assignment whose subject this is (0: none)
	// shead is 1 + the index of the first assignment scope slot whose text this is (0: none),
	// and known counts the scopes (of assignments and scope groups) that name this text as a
	// single resource: the search index (search_index.go).
	shead, known uint32
}

// strTable interns reference-counted strings in an append-only arena (of up to 4 GiB, far
// beyond any engine's needs: a million assignments take about 60 MiB). Bytes once written are
// never modified, so the strings that str returns stay valid (and immutable) for as long as
// anyone holds them, even after compact moves the table to a new arena. Not safe for
// concurrent writes; the engine's lock guards it.
type strTable struct {
	arena []byte
	ents  []strEnt // ents[0] is unused, so that strID 0 names nothing
	free  []strID  // released entries, reused by intern
	index map[uint64]strID
	seed  maphash.Seed
	// mask is applied to every hash: all ones, except in tests that force collisions.
	mask uint64
	dead int // arena bytes of released strings
}

// compactMinBytes is the least garbage worth compacting the arena for (a variable for tests).
var compactMinBytes = 1 << 20

func newStrTable() *strTable {
	return &strTable{ents: make([]strEnt, 1), index: map[uint64]strID{}, seed: maphash.MakeSeed(), mask: ^uint64(0)}
}

func (t *strTable) hash(s string) uint64 { return maphash.String(t.seed, s) & t.mask }

// str returns the string id names, without copying; "" for 0.
func (t *strTable) str(id strID) string {
	e := t.ents[id]
	if e.n == 0 {
		return ""
	}
	return unsafe.String(&t.arena[e.off], int(e.n))
}

// find returns the id of s if the table holds it.
func (t *strTable) find(s string) (strID, bool) {
	for id := t.index[t.hash(s)]; id != 0; id = t.ents[id].next {
		if t.str(id) == s {
			return id, true
		}
	}
	return 0, false
}

// intern returns the id of s, adding it if needed, and counts one more reference to it.
// The empty string is id 0 and is not counted.
func (t *strTable) intern(s string) strID {
	if s == "" {
		return 0
	}
	if id, ok := t.find(s); ok {
		t.ents[id].refs++
		return id
	}
	e := strEnt{off: uint32(len(t.arena)), n: uint32(len(s)), refs: 1}
	t.arena = append(t.arena, s...)
	h := t.hash(s)
	e.next = t.index[h]
	id := place(&t.ents, &t.free, e)
	t.index[h] = id
	return id
}

// place stores v in a slot of *items that *free lists, or appends it, and returns its index.
func place[T any, I ~uint32](items *[]T, free *[]I, v T) I {
	if n := len(*free); n > 0 {
		i := (*free)[n-1]
		*free = (*free)[:n-1]
		(*items)[i] = v
		return i
	}
	*items = append(*items, v)
	return I(len(*items) - 1)
}

// release drops one reference to id; the last one removes the string (its bytes stay in the
// arena until compact).
func (t *strTable) release(id strID) {
	if id == 0 {
		return
	}
	if t.ents[id].refs--; t.ents[id].refs > 0 {
		return
	}
	h := t.hash(t.str(id))
	if head := t.index[h]; head == id {
		if next := t.ents[id].next; next != 0 {
			t.index[h] = next
		} else {
			delete(t.index, h)
		}
	} else {
		for p := head; p != 0; p = t.ents[p].next {
			if t.ents[p].next == id {
				t.ents[p].next = t.ents[id].next
				break
			}
		}
	}
	t.dead += int(t.ents[id].n)
	t.ents[id] = strEnt{}
	t.free = append(t.free, id)
	t.maybeCompact()
}

// maybeCompact moves the live strings to a fresh arena once released ones take more than
// half of it (and at least a MiB). Ids do not change.
func (t *strTable) maybeCompact() {
	if t.dead < compactMinBytes || t.dead*2 < len(t.arena) {
		return
	}
	arena := make([]byte, 0, len(t.arena)-t.dead)
	for i := range t.ents {
		e := &t.ents[i]
		if e.n == 0 {
			continue
		}
		off := len(arena)
		arena = append(arena, t.arena[e.off:e.off+e.n]...)
		e.off = uint32(off)
	}
	t.arena, t.dead = arena, 0
}
