package identity

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// TestDirViewAgainstMap puts, replaces and removes users at random in a view whose hashes
// mostly collide and which compacts often, and checks every lookup against a plain map after
// each step, and that profiles made before a change still read what they read.
func TestDirViewAgainstMap(t *testing.T) {
	defer func(m uint64, c int) { hashMask, compactMin = m, c }(hashMask, compactMin)
	hashMask, compactMin = 7, 64
	rng := rand.New(rand.NewPCG(1, 2))
	v := newDirView()
	want := map[string]storage.User{}
	wsOf := map[string][]string{}
	var userIDs []string
	for range 40 {
		userIDs = append(userIDs, ids.New())
	}
	wss := []string{ids.New(), ids.New(), ids.New()}
	type kept struct {
		p    Profile
		u    storage.User
		wss  []string
		desc string
	}
	var old []kept
	for step := range 3000 {
		id := userIDs[rng.IntN(len(userIDs))]
		if rng.IntN(4) == 0 {
			v.remove(id)
			delete(want, id)
		} else {
			u := storage.User{ID: id, Email: fmt.Sprintf("U%d@Example.com", rng.IntN(60)), ExternalID: fmt.Sprintf("ext%d", rng.IntN(5)),
				FirstName: fmt.Sprint("f", step), Attributes: fmt.Sprintf(`{"n":%d}`, step), Inactive: rng.IntN(2) == 0}
			var in []string
			for _, ws := range wss {
				if rng.IntN(2) == 0 {
					in = append(in, ws)
				}
			}
			// Emails are unique in the store: whoever held this one loses it first.
			for other, o := range want {
				if other != id && o.Email == u.Email {
					v.remove(other)
					delete(want, other)
				}
			}
			v.remove(id)
			v.put(&u, in)
			want[id], wsOf[id] = u, in
		}
		v.maybeCompact()
		if i := v.findID(id); i != 0 && rng.IntN(10) == 0 {
			old = append(old, kept{p: v.profile(i), u: want[id], wss: wsOf[id], desc: fmt.Sprint("step ", step)})
		}
		for _, id := range userIDs {
			i := v.findID(id)
			u, ok := want[id]
			if (i != 0) != ok {
				t.Fatalf("step %d: findID(%s) = %d, held %v", step, id, i, ok)
			}
			if ok {
				checkProfile(t, fmt.Sprint("step ", step), v.profile(i), u, wsOf[id])
				checkFind(t, &Directory{dirView: v}, u, wsOf[id], want)
			}
		}
	}
	for _, k := range old {
		checkProfile(t, "kept from "+k.desc, k.p, k.u, k.wss)
	}
	// 3,000 changes wrote about 300 KB; compaction keeps about what the 40 users hold.
	if len(old) == 0 || len(v.arena) > 20000 || len(v.wsOf) > 1000 {
		t.Fatalf("kept %d profiles; arena %d bytes (%d dead), %d workspace entries", len(old), len(v.arena), v.dead, len(v.wsOf))
	}
}

func checkProfile(t *testing.T, desc string, p Profile, u storage.User, wss []string) {
	t.Helper()
	props := p.Properties()
	got := slices.Clone(p.Workspaces())
	w := slices.Sorted(slices.Values(wss))
	if p.ID != u.ID || p.Principal != "user:"+u.ID || p.Email != strings.ToLower(u.Email) ||
		p.ExternalID != u.ExternalID || p.Active == u.Inactive || props["firstName"] != u.FirstName ||
		props["n"] == nil || !slices.Equal(got, w) {
		t.Fatalf("%s: profile %+v (properties %v), want %+v in %v", desc, p, props, u, w)
	}
	for _, ws := range wss {
		if !p.MemberOf(ws) {
			t.Fatalf("%s: not a member of %s", desc, ws)
		}
	}
}

// checkFind checks that u is found by id, email and (when no other member shares it) external
// id in its workspaces, and not elsewhere.
func checkFind(t *testing.T, d *Directory, u storage.User, wss []string, all map[string]storage.User) {
	t.Helper()
	if p, res := d.Find(u.ID, "", "elsewhere"); res != NotFound {
		t.Fatalf("Find(%s) outside its workspaces: %+v %d", u.ID, p, res)
	}
	if len(wss) == 0 {
		return
	}
	for _, key := range []string{u.ID, ids.Hex(u.ID), u.Email, strings.ToUpper(u.Email)} {
		if p, res := d.Find(key, wss[0]); res != Found || p.ID != u.ID {
			t.Fatalf("Find(%s, %s) = %+v %d, want %s", key, wss[0], p, res, u.ID)
		}
	}
	sharing := 0
	for id, o := range all {
		if i := d.findID(id); o.ExternalID == u.ExternalID && i != 0 {
			if q := d.profile(i); q.MemberOf(wss[0]) {
				sharing++
			}
		}
	}
	p, res := d.Find(u.ExternalID, wss[0])
	if sharing == 1 && (res != Found || p.ID != u.ID) || sharing > 1 && res != Ambiguous {
		t.Fatalf("Find(external %s) = %+v %d with %d members sharing it", u.ExternalID, p, res, sharing)
	}
}
