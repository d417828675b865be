package identity

import (
	"context"
	"errors"
	"hash/maphash"
	"slices"
	"strings"
	"sync"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// Profile is a user as the Directory holds it: a value made for each lookup, whose strings
// are views of the directory's arena (never modified, so a caller may keep and read one
// without a lock, after the user changed too).
type Profile struct {
	ID         string // canonical id
	Principal  string // "user:<id>", as assignments name the user
	Email      string // lower-case
	ExternalID string // "" when none
	Active     bool
	firstName  string
	lastName   string
	attributes string // the stored free attributes (a JSON object), "" for none
	// ws are the user's workspaces, as indexes of names (views of the directory's tables).
	ws    []uint32
	names []string
}

// MemberOf reports whether the user is a member of workspace ws (canonical id).
func (p *Profile) MemberOf(ws string) bool {
	for _, i := range p.ws {
		if p.names[i] == ws {
			return true
		}
	}
	return false
}

// Workspaces returns the canonical ids of the workspaces the user is a member of, sorted.
func (p *Profile) Workspaces() []string {
	out := make([]string, len(p.ws))
	for k, i := range p.ws {
		out[k] = p.names[i]
	}
	slices.Sort(out)
	return out
}

// Directory is the in-memory view of users and their workspace memberships, fed by the change
// log (kinds user and member). The decision endpoints resolve AuthZEN subjects with it (by
// id, email or external id) and read the attributes conditions need, without SQL per
// decision. Only users that belong to a workspace, or were written since the node loaded,
// are held: a user of no workspace holds nothing anywhere.
//
// A node holds every user of every workspace (350,000 in the benchmark's data set). As Go
// strings, maps and slices that was about 7 heap objects per user, 2.6 million pointers that
// the garbage collector traced on every cycle, a second of marking CPU on a busy node and a
// latency tail for every request. So the directory keeps its bulk without pointers (the rule
// of the decision engine, internal/rbac/strtab.go): strings in one byte arena named by
// offset and length, users in one slice of plain records, indexes from a string's hash to a
// record (collisions chained through the records). The collector never looks inside them.
type Directory struct {
	mu sync.RWMutex
	*dirView
}

// dirView is what the directory answers from; Load swaps in a fresh one.
type dirView struct {
	arena []byte
	dead  int // arena bytes no record refers to any more
	// recs[0] is unused, so that index 0 links nothing; free lists removed records.
	recs []userRec
	free []uint32
	// The indexes: the hash of a canonical id, a lower-case email or an external id to the
	// first record (the others through the records' next links).
	byID, byEmail, byExternal map[uint64]uint32
	// wsOf holds each record's workspaces (index of names) at the record's ws; ws runs that
	// records no longer use are garbage (wsDead) until compaction.
	wsOf   []uint32
	wsDead int
	// names are the workspaces' canonical ids, wsIndex their indexes (a few per workspace,
	// never reused: a Profile may still read an old index).
	names   []string
	wsIndex map[string]uint32
	seed    maphash.Seed
}

// text is a string of the arena.
type text struct{ off, n uint32 }

// userRec is one user: every string a view of the arena, workspaces a run of wsOf. The id is
// the principal's text after "user:".
type userRec struct {
	principal, email, external, first, last, attrs text
	active                                         bool
	wsOff, wsN                                     uint32
	// The next record with the same hash in byID, byEmail and byExternal (0: none).
	nextID, nextEmail, nextExternal uint32
}

// compactMin is the least garbage (bytes of arena, or entries of wsOf) worth compacting for.
var compactMin = 1 << 20

// NewDirectory returns an empty directory; the change feed loads it.
func NewDirectory() *Directory {
	return &Directory{dirView: newDirView()}
}

func newDirView() *dirView {
	return &dirView{recs: make([]userRec, 1), byID: map[uint64]uint32{}, byEmail: map[uint64]uint32{},
		byExternal: map[uint64]uint32{}, wsIndex: map[string]uint32{}, seed: maphash.MakeSeed()}
}

// str returns the arena's string t, without copying.
func (v *dirView) str(t text) string {
	if t.n == 0 {
		return ""
	}
	return unsafeString(&v.arena[t.off], int(t.n))
}

// add appends s to the arena.
func (v *dirView) add(s string) text {
	t := text{off: uint32(len(v.arena)), n: uint32(len(s))}
	v.arena = append(v.arena, s...)
	return t
}

func (r *userRec) id(v *dirView) string { return v.str(r.principal)[len(principal.TypeUser)+1:] }

// profile is record i as callers see it.
func (v *dirView) profile(i uint32) Profile {
	r := &v.recs[i]
	pr := v.str(r.principal)
	return Profile{ID: pr[len(principal.TypeUser)+1:], Principal: pr, Email: v.str(r.email), ExternalID: v.str(r.external),
		Active: r.active, firstName: v.str(r.first), lastName: v.str(r.last), attributes: v.str(r.attrs),
		ws: v.wsOf[r.wsOff : r.wsOff+r.wsN : r.wsOff+r.wsN], names: v.names}
}

// findID returns the record of the user with canonical id id (0: none).
func (v *dirView) findID(id string) uint32 {
	for i := v.byID[v.hash(id)]; i != 0; i = v.recs[i].nextID {
		if v.recs[i].id(v) == id {
			return i
		}
	}
	return 0
}

// Get returns the user with canonical id id.
func (d *Directory) Get(id string) (Profile, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if i := d.findID(id); i != 0 {
		return d.profile(i), true
	}
	return Profile{}, false
}

// Lookup outcomes of Find.
const (
	Found     = iota // exactly one user
	NotFound         // no user of the workspace answers to the key
	Ambiguous        // several users of the workspace share the external id
)

// Find resolves key to a member of one of the workspaces in (canonical ids; "" entries are
// ignored): as a user id (either UUID spelling), else as an email (case-insensitive), else as
// an external id. An external id shared by several members is Ambiguous: the caller must not
// pick one. Find does not allocate for a lower-case email or an external id.
func (d *Directory) Find(key string, in ...string) (Profile, int) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	member := func(i uint32) bool {
		r := &d.recs[i]
		for _, w := range d.wsOf[r.wsOff : r.wsOff+r.wsN] {
			for _, ws := range in {
				if ws != "" && d.names[w] == ws {
					return true
				}
			}
		}
		return false
	}
	if id, err := ids.Parse(key); err == nil {
		if i := d.findID(id); i != 0 && member(i) {
			return d.profile(i), Found
		}
	}
	email := strings.ToLower(key)
	for i := d.byEmail[d.hash(email)]; i != 0; i = d.recs[i].nextEmail {
		if d.str(d.recs[i].email) == email {
			if member(i) {
				return d.profile(i), Found
			}
			break // one user per email, as the store keeps them
		}
	}
	var found uint32
	for i := d.byExternal[d.hash(key)]; i != 0; i = d.recs[i].nextExternal {
		if d.str(d.recs[i].external) == key && member(i) {
			if found != 0 {
				return Profile{}, Ambiguous
			}
			found = i
		}
	}
	if found == 0 {
		return Profile{}, NotFound
	}
	return d.profile(found), Found
}

// Kinds implements changefeed.Handler.
func (d *Directory) Kinds() []string { return []string{storage.KindUser, storage.KindMember} }

// Load implements changefeed.Handler: every member of every workspace.
func (d *Directory) Load(ctx context.Context, s storage.Store) error {
	fresh := newDirView()
	var cur storage.User
	var wss []string
	flush := func() {
		if cur.ID != "" {
			fresh.put(&cur, wss)
		}
	}
	err := s.EachMember(ctx, func(ws string, u *storage.User) error {
		if cur.ID != u.ID {
			flush()
			cur, wss = *u, wss[:0]
		}
		wss = append(wss, ws)
		return nil
	})
	if err != nil {
		return err
	}
	flush()
	d.mu.Lock()
	d.dirView = fresh
	d.mu.Unlock()
	return nil
}

// Apply implements changefeed.Handler: it re-reads the user (kind user) or the membership
// (kind member, key "<workspace>/<user>").
func (d *Directory) Apply(ctx context.Context, s storage.Store, c storage.Change) error {
	userID, ws := c.Key, ""
	if c.Kind == storage.KindMember {
		var ok bool
		if ws, userID, ok = strings.Cut(c.Key, "/"); !ok {
			return nil
		}
	}
	u, err := s.GetUser(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		d.mu.Lock()
		d.remove(userID)
		d.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	var member bool
	if ws != "" {
		if member, err = s.IsMember(ctx, ws, userID); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var wss []string
	if i := d.findID(userID); i != 0 {
		p := d.profile(i)
		wss = p.Workspaces()
	}
	if ws != "" {
		wss = withMembership(wss, ws, member)
	}
	d.remove(userID)
	d.put(u, wss)
	d.maybeCompact()
	return nil
}

// withMembership returns a sorted copy of wss with ws added or removed.
func withMembership(wss []string, ws string, member bool) []string {
	out := slices.Clone(wss)
	i, ok := slices.BinarySearch(out, ws)
	switch {
	case member && !ok:
		out = slices.Insert(out, i, ws)
	case !member && ok:
		out = slices.Delete(out, i, i+1)
	}
	return out
}

// put adds u, a member of workspaces wss, which the view does not hold; d.mu is held (or the
// view is not shared yet).
func (v *dirView) put(u *storage.User, wss []string) {
	r := userRec{principal: v.add(principal.User(u.ID)), email: v.add(strings.ToLower(u.Email)), external: v.add(u.ExternalID),
		first: v.add(u.FirstName), last: v.add(u.LastName), attrs: v.add(u.Attributes), active: !u.Inactive,
		wsOff: uint32(len(v.wsOf)), wsN: uint32(len(wss))}
	for _, ws := range wss {
		w, ok := v.wsIndex[ws]
		if !ok {
			w = uint32(len(v.names))
			v.names = append(v.names, ws)
			v.wsIndex[ws] = w
		}
		v.wsOf = append(v.wsOf, w)
	}
	var i uint32
	if n := len(v.free); n > 0 {
		i, v.free = v.free[n-1], v.free[:n-1]
	} else {
		i = uint32(len(v.recs))
		v.recs = append(v.recs, userRec{})
	}
	h := v.hash(u.ID)
	r.nextID, v.byID[h] = v.byID[h], i
	if r.email.n != 0 {
		h := v.hash(v.str(r.email))
		r.nextEmail, v.byEmail[h] = v.byEmail[h], i
	}
	if r.external.n != 0 {
		h := v.hash(u.ExternalID)
		r.nextExternal, v.byExternal[h] = v.byExternal[h], i
	}
	v.recs[i] = r
}

// remove drops the user with id id from every index; d.mu is held.
func (v *dirView) remove(id string) {
	i := v.findID(id)
	if i == 0 {
		return
	}
	r := v.recs[i]
	unlink(v.byID, v.hash(id), i, v.recs, func(r *userRec) *uint32 { return &r.nextID })
	if r.email.n != 0 {
		unlink(v.byEmail, v.hash(v.str(r.email)), i, v.recs, func(r *userRec) *uint32 { return &r.nextEmail })
	}
	if r.external.n != 0 {
		unlink(v.byExternal, v.hash(v.str(r.external)), i, v.recs, func(r *userRec) *uint32 { return &r.nextExternal })
	}
	for _, t := range []text{r.principal, r.email, r.external, r.first, r.last, r.attrs} {
		v.dead += int(t.n)
	}
	v.wsDead += int(r.wsN)
	v.recs[i] = userRec{}
	v.free = append(v.free, i)
}

// unlink takes record i out of the chain of hash h in index, whose links next names.
func unlink(index map[uint64]uint32, h uint64, i uint32, recs []userRec, next func(*userRec) *uint32) {
	if index[h] == i {
		if n := *next(&recs[i]); n != 0 {
			index[h] = n
		} else {
			delete(index, h)
		}
		return
	}
	for p := index[h]; p != 0; p = *next(&recs[p]) {
		if *next(&recs[p]) == i {
			*next(&recs[p]) = *next(&recs[i])
			return
		}
	}
}

// maybeCompact moves the records' strings and workspace runs to fresh arrays once removed ones
// take more than half (and at least compactMin). Profiles made before keep the old arrays,
// which nothing modifies.
func (v *dirView) maybeCompact() {
	if v.dead >= compactMin && v.dead*2 >= len(v.arena) {
		arena := make([]byte, 0, len(v.arena)-v.dead)
		move := func(t *text) {
			off := len(arena)
			arena = append(arena, v.arena[t.off:t.off+t.n]...)
			t.off = uint32(off)
		}
		for i := 1; i < len(v.recs); i++ {
			r := &v.recs[i]
			for _, t := range []*text{&r.principal, &r.email, &r.external, &r.first, &r.last, &r.attrs} {
				move(t)
			}
		}
		v.arena, v.dead = arena, 0
	}
	if v.wsDead >= compactMin/4 && v.wsDead*2 >= len(v.wsOf) {
		wsOf := make([]uint32, 0, len(v.wsOf)-v.wsDead)
		for i := 1; i < len(v.recs); i++ {
			r := &v.recs[i]
			off := len(wsOf)
			wsOf = append(wsOf, v.wsOf[r.wsOff:r.wsOff+r.wsN]...)
			r.wsOff = uint32(off)
		}
		v.wsOf, v.wsDead = wsOf, 0
	}
}
