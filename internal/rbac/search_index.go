package rbac

import "strings"

// The search index answers AuthZEN's subject and resource searches without scanning every
// assignment (search.go). It keeps the engine's rule of holding no pointers in its bulk:
//
//   - every assignment scope slot j (v.scopes[j]) has a link links[j] naming its record and
//     the previous and next slots with the same text, a doubly linked list whose head (plus
//     one) is in the text's strEnt.shead. "Which assignments name this GRN as a scope" is a
//     walk of that list; adding or removing an assignment links or unlinks its slots in O(1).
//   - every text named as a single resource (a scope of an assignment or scope group whose
//     last id is not the wildcard) counts its uses in strEnt.known, and is listed once under
//     its workspace and resource type in known: the resources a search of that type can
//     report when a wildcard, parent or whole-workspace grant covers them.
//   - wsGroups lists each workspace's scope groups (engine.go).

// scopeLink ties scope slot j to its assignment record and to the other slots of its text;
// prev and next are slot indexes plus one (0: none).
type scopeLink struct {
	rec, prev, next uint32
}

// knownKey names a list of known resources: "<32 hex workspace>|<provider>/<type>" ("" before
// the bar for platform-level resources).
type knownKey string

// indexScopes links the scope slots of record i into the lists of their texts and counts
// them as known resources.
func (v *view) indexScopes(i uint32) {
	a := &v.recs[i]
	if n := len(v.scopes); len(v.links) < n {
		v.links = append(v.links, make([]scopeLink, n-len(v.links))...)
	}
	for j := a.scopeOff; j < a.scopeOff+a.scopeN; j++ {
		v.linkSlot(j, i)
		v.noteKnown(v.scopes[j], true)
	}
}

// linkSlot puts slot j (of record i) at the head of its text's list.
func (v *view) linkSlot(j, i uint32) {
	e := &v.strs.ents[v.scopes[j].text]
	v.links[j] = scopeLink{rec: i, next: e.shead}
	if e.shead != 0 {
		v.links[e.shead-1].prev = j + 1
	}
	e.shead = j + 1
}

// unindexScopes undoes indexScopes for record a (before its strings are released).
func (v *view) unindexScopes(a *assignRec) {
	for j := a.scopeOff; j < a.scopeOff+a.scopeN; j++ {
		l := v.links[j]
		if l.prev != 0 {
			v.links[l.prev-1].next = l.next
		} else {
			v.strs.ents[v.scopes[j].text].shead = l.next
		}
		if l.next != 0 {
			v.links[l.next-1].prev = l.prev
		}
		v.links[j] = scopeLink{}
		v.noteKnown(v.scopes[j], false)
	}
}

// reindexScopes rebuilds every list after the scope slots moved (maybeCompactScopes).
func (v *view) reindexScopes() {
	for id := range v.strs.ents {
		v.strs.ents[id].shead = 0
	}
	v.links = make([]scopeLink, len(v.scopes))
	for i := range v.recs {
		a := &v.recs[i]
		if a.id == 0 {
			continue // a free record
		}
		for j := a.scopeOff; j < a.scopeOff+a.scopeN; j++ {
			v.linkSlot(j, uint32(i))
		}
	}
}

// knownOf returns the list a scope belongs to when it names a single resource.
func (v *view) knownOf(ref scopeRef) (knownKey, string, bool) {
	if ref.kind != scopeResource {
		return "", "", false
	}
	text := v.strs.str(ref.text)
	if text[ref.last:] == "*" {
		return "", "", false
	}
	key, ok := resourceKey(ref.workspaceOf(text), text)
	return key, text, ok
}

// resourceKey is the known list of a canonical resource GRN's text in workspace ws (32 hex):
// grn:<platform>/workspaces/<ws>/regions/<r>/providers/<p>/<type>/<id>... or
// grn:<platform>/providers/<p>/<type>/<id>...; the type is the last pair's.
func resourceKey(ws, text string) (knownKey, bool) {
	segs := strings.Split(text, "/")
	provider := 2 // grn:<platform>/providers/<p>
	if len(segs) > 1 && segs[1] == "workspaces" {
		provider = 6
	}
	if len(segs) < provider+3 {
		return "", false
	}
	return knownKeyOf(ws, segs[provider]+"/"+segs[len(segs)-2]), true
}

// knownKeyOf is the key of the known resources of type rtype ("<provider>/<type>") in
// workspace ws (32 hex; "" for platform-level resources).
func knownKeyOf(ws, rtype string) knownKey { return knownKey(ws + "|" + rtype) }

// noteKnown counts one more (add) or one fewer use of ref as a single resource, listing the
// text under its key on its first use and removing it after its last.
func (v *view) noteKnown(ref scopeRef, add bool) {
	key, _, ok := v.knownOf(ref)
	if !ok {
		return
	}
	e := &v.strs.ents[ref.text]
	switch {
	case add:
		if e.known++; e.known == 1 {
			v.known[key] = append(v.known[key], ref.text)
		}
	case e.known > 0:
		if e.known--; e.known == 0 {
			list := v.known[key]
			for k, id := range list {
				if id == ref.text {
					list[k] = list[len(list)-1]
					list = list[:len(list)-1]
					break
				}
			}
			if len(list) == 0 {
				delete(v.known, key)
			} else {
				v.known[key] = list
			}
		}
	}
}
