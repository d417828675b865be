package rbac

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/keyhold/keyhold/internal/storage"
)

// TestStrTableModel drives a string table through random interns and releases, with hashes
// masked to two bits so that every lookup walks collision chains, and compaction forced
// often, and checks it against a plain reference count map after every step.
func TestStrTableModel(t *testing.T) {
	defer func(n int) { compactMinBytes = n }(compactMinBytes)
	compactMinBytes = 64
	tab := newStrTable()
	tab.mask = 3
	refs := map[string]int{}
	ids := map[string]strID{}
	held := map[strID]string{} // strings handed out by str, which must never change
	rng := rand.New(rand.NewPCG(1, 2))
	compactions := 0
	for step := range 8000 {
		s := fmt.Sprintf("s%d", rng.IntN(300))
		if refs[s] > 0 && rng.IntN(2) == 0 {
			arena := len(tab.arena)
			tab.release(ids[s])
			if len(tab.arena) < arena {
				compactions++
			}
			if refs[s]--; refs[s] == 0 {
				delete(ids, s)
			}
		} else {
			id := tab.intern(s)
			if old, ok := ids[s]; ok && old != id {
				t.Fatalf("step %d: %q interned as %d, was %d", step, s, id, old)
			}
			ids[s] = id
			refs[s]++
			held[id] = tab.str(id)
		}
		if step%16 == 0 {
			checkStrTable(t, step, tab, refs, ids)
		}
	}
	checkStrTable(t, -1, tab, refs, ids)
	for id, s := range held {
		if len(s) < 2 || s[0] != 's' {
			t.Fatalf("string %d handed out earlier changed to %q", id, s)
		}
	}
	if compactions == 0 {
		t.Fatal("the arena was never compacted")
	}
	if got := tab.intern(""); got != 0 {
		t.Fatalf(`intern("") = %d`, got)
	}
}

func checkStrTable(t *testing.T, step int, tab *strTable, refs map[string]int, ids map[string]strID) {
	t.Helper()
	for s, n := range refs {
		id, ok := tab.find(s)
		if n == 0 {
			if ok {
				t.Fatalf("step %d: released %q still found", step, s)
			}
			continue
		}
		if !ok || id != ids[s] || tab.str(id) != s || int(tab.ents[id].refs) != n {
			t.Fatalf("step %d: %q: find = %d, %v; want %d with %d refs (have %q, %d)", step, s, id, ok, ids[s], n,
				tab.str(id), tab.ents[id].refs)
		}
	}
}

// TestAssignTableModel puts and removes random assignments, with scope compaction forced
// often, and checks every subject's list and scopes against a reference map after each step.
func TestAssignTableModel(t *testing.T) {
	defer func(n int) { compactMinScopes = n }(compactMinScopes)
	compactMinScopes = 8
	v := newView()
	v.strs.mask = 7
	ref := map[string]storage.Assignment{}
	rng := rand.New(rand.NewPCG(3, 4))
	ws := "0123456789abcdef0123456789abcdef"
	compactions := 0
	for step := range 3000 {
		id := fmt.Sprintf("a%d", rng.IntN(200))
		if _, ok := ref[id]; ok && rng.IntN(3) > 0 {
			n := len(v.scopes)
			v.removeAssignment(id)
			delete(ref, id)
			if len(v.scopes) < n {
				compactions++
			}
		} else {
			a := storage.Assignment{ID: id, WorkspaceID: fmt.Sprintf("w%d", rng.IntN(3)), Subject: fmt.Sprintf("user:u%d", rng.IntN(20)),
				RoleID: fmt.Sprintf("r%d", rng.IntN(3))}
			for range rng.IntN(4) {
				a.Scopes = append(a.Scopes, fmt.Sprintf("grn:glp/workspaces/%s/regions/default/providers/p/servers/%d", ws, rng.IntN(50)))
			}
			a.Scopes = append(a.Scopes, "not a GRN") // grants nothing, is dropped
			v.removeAssignment(id)
			v.putAssignment(&a)
			a.Scopes = a.Scopes[:len(a.Scopes)-1]
			ref[id] = a
		}
		if step%8 == 0 {
			checkAssignTable(t, step, v, ref)
		}
	}
	if compactions == 0 {
		t.Fatal("the scopes were never compacted")
	}
	for id := range maps.Clone(ref) {
		v.removeAssignment(id)
		delete(ref, id)
	}
	checkAssignTable(t, -1, v, ref)
	if len(v.strs.index) != 0 || len(v.byID) != 0 {
		t.Fatalf("empty table still holds %d strings, %d ids", len(v.strs.index), len(v.byID))
	}
}

func checkAssignTable(t *testing.T, step int, v *view, ref map[string]storage.Assignment) {
	t.Helper()
	want := map[string][]string{} // subject -> sorted "id role scopes"
	for _, a := range ref {
		want[a.Subject] = append(want[a.Subject], fmt.Sprint(a.ID, a.WorkspaceID, a.RoleID, a.Scopes))
	}
	got := map[string][]string{}
	for s := range v.strs.ents {
		subject := strID(s)
		for i := v.firstOf(subject); i != 0; i = v.recs[i].next {
			a := &v.recs[i]
			if a.subject != subject {
				t.Fatalf("step %d: record %d of subject %q says subject %q", step, i, v.strs.str(subject), v.strs.str(a.subject))
			}
			var scopes []string
			for _, s := range v.scopesOf(a) {
				scopes = append(scopes, v.strs.str(s.text))
			}
			got[v.strs.str(subject)] = append(got[v.strs.str(subject)], fmt.Sprint(v.strs.str(a.id), v.strs.str(a.ws), v.strs.str(a.role), scopes))
		}
	}
	for _, m := range []map[string][]string{want, got} {
		for k := range m {
			slices.Sort(m[k])
		}
	}
	if !maps.EqualFunc(want, got, slices.Equal) {
		t.Fatalf("step %d: table holds\n%v\nwant\n%v", step, got, want)
	}
	if len(v.byID) != len(ref) {
		t.Fatalf("step %d: %d ids indexed, want %d", step, len(v.byID), len(ref))
	}
}
