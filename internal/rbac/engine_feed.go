package rbac

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// Kinds implements changefeed.Handler.
func (e *Engine) Kinds() []string {
	return []string{storage.KindPermission, storage.KindRole, storage.KindAssignment,
		storage.KindScopeGroup, storage.KindUserGroup, storage.KindUserGroupMember}
}

// Load implements changefeed.Handler: it builds a fresh copy from the store and swaps it in.
// LoadProgress counts the assignments it has read so far.
func (e *Engine) Load(ctx context.Context, s storage.Store) error {
	fresh := NewEngine()
	e.loaded.Store(0)
	if err := fresh.loadAuthz(ctx, s, &e.loaded); err != nil {
		return err
	}
	if err := fresh.loadGroups(ctx, s); err != nil {
		return err
	}
	e.mu.Lock()
	e.view = fresh.view
	e.mu.Unlock()
	return nil
}

// LoadProgress is how many assignments the last (or current) Load has read.
func (e *Engine) LoadProgress() int64 { return e.loaded.Load() }

func (e *Engine) loadAuthz(ctx context.Context, s storage.Store, loaded *atomic.Int64) error {
	perms, err := s.ListPermissions(ctx)
	if err != nil {
		return err
	}
	roles, err := s.ListRoles(ctx)
	if err != nil {
		return err
	}
	for i := range perms {
		e.perms[perms[i].Name] = permOf(&perms[i])
	}
	for i := range roles {
		e.putRole(&roles[i])
	}
	return s.EachAssignment(ctx, func(a *storage.Assignment) error {
		e.putAssignment(a)
		loaded.Add(1)
		return nil
	})
}

func (e *Engine) loadGroups(ctx context.Context, s storage.Store) error {
	members, _, err := s.ListUserGroupMembers(ctx, "", storage.Page{})
	if err != nil {
		return err
	}
	for _, m := range members {
		e.addMember(m.GroupID, m.UserID)
	}
	groups, _, err := s.ListScopeGroups(ctx, storage.ScopeGroupQuery{})
	if err != nil {
		return err
	}
	scopes, _, err := s.ListGroupScopes(ctx, "", storage.Page{})
	if err != nil {
		return err
	}
	byGroup := map[string][]storage.GroupScope{}
	for _, sc := range scopes {
		byGroup[sc.GroupID] = append(byGroup[sc.GroupID], sc)
	}
	for i := range groups {
		e.putScopeGroup(&groups[i], byGroup[groups[i].ID])
	}
	return nil
}

// Apply implements changefeed.Handler.
func (e *Engine) Apply(ctx context.Context, s storage.Store, c storage.Change) error {
	switch c.Kind {
	case storage.KindPermission:
		p, err := s.GetPermission(ctx, c.Key)
		return e.update(err, func() { e.perms[c.Key] = permOf(p); e.types.Store(nil); e.wild.Store(nil) },
			func() { delete(e.perms, c.Key); e.types.Store(nil); e.wild.Store(nil) })
	case storage.KindRole:
		r, err := s.GetRole(ctx, c.Key)
		return e.update(err, func() { e.putRole(r) }, func() { e.removeRole(c.Key) })
	case storage.KindAssignment:
		a, err := s.GetAssignment(ctx, c.Key)
		return e.update(err, func() { e.removeAssignment(c.Key); e.putAssignment(a) },
			func() { e.removeAssignment(c.Key) })
	case storage.KindScopeGroup:
		return e.applyScopeGroup(ctx, s, c.Key)
	case storage.KindUserGroup:
		_, err := s.GetUserGroup(ctx, c.Key)
		return e.update(err, func() {}, func() { e.dropGroup(c.Key) })
	case storage.KindUserGroupMember:
		group, user, _ := strings.Cut(c.Key, "/")
		ok, err := s.IsUserGroupMember(ctx, group, user)
		if err == nil && !ok {
			err = storage.ErrNotFound
		}
		return e.update(err, func() { e.addMember(group, user) }, func() { e.removeMember(group, user) })
	}
	return nil
}

func (e *Engine) applyScopeGroup(ctx context.Context, s storage.Store, id string) error {
	g, err := s.GetScopeGroup(ctx, id)
	var scopes []storage.GroupScope
	if err == nil {
		scopes, _, err = s.ListGroupScopes(ctx, id, storage.Page{})
	}
	return e.update(err, func() { e.putScopeGroup(g, scopes) }, func() { e.removeScopeGroup(id) })
}

// update applies put when the record was read, drop when it is gone.
func (e *Engine) update(err error, put, drop func()) error {
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		drop()
	} else {
		put()
	}
	return nil
}

// putRole adds or replaces a role; the entry holds one reference to the role's id.
func (v *view) putRole(r *storage.Role) {
	id := v.strs.intern(r.ID)
	if _, ok := v.roles[id]; ok {
		v.strs.release(id) // replacing: the entry holds its reference already
	}
	v.roles[id] = roleOf(r)
}

// removeRole forgets role id, if held.
func (v *view) removeRole(roleID string) {
	if id, ok := v.strs.find(roleID); ok {
		if _, ok := v.roles[id]; ok {
			delete(v.roles, id)
			v.strs.release(id)
		}
	}
}

func permOf(p *storage.Permission) *permInfo {
	return &permInfo{fixedScope: p.FixedScope, deprecated: p.ReleaseStage == StageDeprecated, types: p.ResourceTypes}
}

func roleOf(r *storage.Role) *roleInfo {
	ri := &roleInfo{id: r.ID, slug: r.Slug, perms: make(map[string]struct{}, len(r.Permissions))}
	for _, p := range r.Permissions {
		ri.perms[p] = struct{}{}
	}
	return ri
}

// addMember records that user belongs to group (idempotent). Each membership holds one
// reference to each principal.
func (v *view) addMember(group, user string) {
	u, g := principal.User(user), principal.Group(group)
	if uid, ok := v.strs.find(u); ok {
		if gid, ok := v.strs.find(g); ok && slices.Contains(v.memberOf[uid], gid) {
			return
		}
	}
	uid, gid := v.strs.intern(u), v.strs.intern(g)
	v.memberOf[uid] = append(v.memberOf[uid], gid)
	v.groupUsers[gid] = append(v.groupUsers[gid], uid)
}

// removeMember forgets that user belongs to group.
func (v *view) removeMember(group, user string) {
	uid, ok1 := v.strs.find(principal.User(user))
	gid, ok2 := v.strs.find(principal.Group(group))
	if !ok1 || !ok2 || !slices.Contains(v.memberOf[uid], gid) {
		return
	}
	v.unlinkMember(uid, gid)
}

func (v *view) unlinkMember(uid, gid strID) {
	dropFrom(v.memberOf, uid, gid)
	dropFrom(v.groupUsers, gid, uid)
	v.strs.release(uid)
	v.strs.release(gid)
}

// dropFrom removes x from m[k], and m[k] when it empties.
func dropFrom(m map[strID][]strID, k, x strID) {
	list := slices.DeleteFunc(m[k], func(y strID) bool { return y == x })
	if len(list) == 0 {
		delete(m, k)
	} else {
		m[k] = list
	}
}

// dropGroup forgets every membership of a deleted user group.
func (v *view) dropGroup(group string) {
	gid, ok := v.strs.find(principal.Group(group))
	if !ok {
		return
	}
	for _, uid := range slices.Clone(v.groupUsers[gid]) {
		v.unlinkMember(uid, gid)
	}
}
