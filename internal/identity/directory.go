package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// Profile is a user as the Directory holds it. A Profile is shared and never modified: a
// change to the user replaces it, so a caller may keep and read one without a lock.
type Profile struct {
	ID         string // canonical id
	Principal  string // "user:<id>", as assignments name the user
	Email      string // lower-case
	ExternalID string // "" when none
	Active     bool
	// Workspaces lists the canonical ids of the workspaces the user is a member of, sorted.
	Workspaces []string
	// Properties is what a decision sees of the user as AuthZEN subject properties: the
	// stored free attributes, then id, email, externalId, firstName, lastName and active
	// (which an attribute of the same name does not override). Computed once per change;
	// callers must not modify it.
	Properties map[string]any
}

// MemberOf reports whether the user is a member of workspace ws (canonical id).
func (p *Profile) MemberOf(ws string) bool {
	_, ok := slices.BinarySearch(p.Workspaces, ws)
	return ok
}

// Directory is the in-memory view of users and their workspace memberships, fed by the change
// log (kinds user and member). The decision endpoints resolve AuthZEN subjects with it (by
// id, email or external id) and read the attributes conditions need, without SQL per
// decision. Only users that belong to a workspace, or were written since the node loaded,
// are held: a user of no workspace holds nothing anywhere.
type Directory struct {
	mu         sync.RWMutex
	users      map[string]*Profile
	byEmail    map[string]string   // email -> id
	byExternal map[string][]string // external id -> ids (external ids are not unique)
}

// NewDirectory returns an empty directory; the change feed loads it.
func NewDirectory() *Directory {
	return &Directory{users: map[string]*Profile{}, byEmail: map[string]string{}, byExternal: map[string][]string{}}
}

// Get returns the user with canonical id id.
func (d *Directory) Get(id string) (*Profile, bool) {
	d.mu.RLock()
	p, ok := d.users[id]
	d.mu.RUnlock()
	return p, ok
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
// pick one. Find does not allocate for an id or a lower-case email.
func (d *Directory) Find(key string, in ...string) (*Profile, int) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	member := func(p *Profile) bool {
		for _, ws := range in {
			if ws != "" && p.MemberOf(ws) {
				return true
			}
		}
		return false
	}
	if id, err := ids.Parse(key); err == nil {
		if p, ok := d.users[id]; ok && member(p) {
			return p, Found
		}
	}
	if id, ok := d.byEmail[strings.ToLower(key)]; ok {
		if p := d.users[id]; p != nil && member(p) {
			return p, Found
		}
	}
	var found *Profile
	for _, id := range d.byExternal[key] {
		if p := d.users[id]; p != nil && member(p) {
			if found != nil {
				return nil, Ambiguous
			}
			found = p
		}
	}
	if found == nil {
		return nil, NotFound
	}
	return found, Found
}

// Kinds implements changefeed.Handler.
func (d *Directory) Kinds() []string { return []string{storage.KindUser, storage.KindMember} }

// Load implements changefeed.Handler: every member of every workspace.
func (d *Directory) Load(ctx context.Context, s storage.Store) error {
	fresh := NewDirectory()
	var cur *Profile
	var curUser storage.User
	flush := func() {
		if cur != nil {
			fresh.put(profileOf(&curUser, cur.Workspaces))
		}
	}
	err := s.EachMember(ctx, func(ws string, u *storage.User) error {
		if cur == nil || cur.ID != u.ID {
			flush()
			cur, curUser = &Profile{ID: u.ID}, *u
		}
		cur.Workspaces = append(cur.Workspaces, ws)
		return nil
	})
	if err != nil {
		return err
	}
	flush()
	d.mu.Lock()
	d.users, d.byEmail, d.byExternal = fresh.users, fresh.byEmail, fresh.byExternal
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
	if old, ok := d.users[userID]; ok {
		wss = old.Workspaces
	}
	if ws != "" {
		wss = withMembership(wss, ws, member)
	}
	d.remove(userID)
	d.put(profileOf(u, wss))
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

// put indexes p; d.mu is held (or d is not shared yet).
func (d *Directory) put(p *Profile) {
	d.users[p.ID] = p
	if p.Email != "" {
		d.byEmail[p.Email] = p.ID
	}
	if p.ExternalID != "" {
		d.byExternal[p.ExternalID] = append(d.byExternal[p.ExternalID], p.ID)
	}
}

// remove drops the user with id id from every index; d.mu is held.
func (d *Directory) remove(id string) {
	p, ok := d.users[id]
	if !ok {
		return
	}
	delete(d.users, id)
	if d.byEmail[p.Email] == id {
		delete(d.byEmail, p.Email)
	}
	if p.ExternalID != "" {
		rest := slices.DeleteFunc(slices.Clone(d.byExternal[p.ExternalID]), func(x string) bool { return x == id })
		if len(rest) == 0 {
			delete(d.byExternal, p.ExternalID)
		} else {
			d.byExternal[p.ExternalID] = rest
		}
	}
}
