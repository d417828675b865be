package rbac

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// Kinds implements changefeed.Handler.
func (e *Engine) Kinds() []string {
	return []string{storage.KindPermission, storage.KindRole, storage.KindAssignment,
		storage.KindScopeGroup, storage.KindUserGroup, storage.KindUserGroupMember}
}

// Load implements changefeed.Handler: it builds a fresh copy from the store and swaps it in.
func (e *Engine) Load(ctx context.Context, s storage.Store) error {
	fresh := NewEngine()
	if err := fresh.loadAuthz(ctx, s); err != nil {
		return err
	}
	if err := fresh.loadGroups(ctx, s); err != nil {
		return err
	}
	e.mu.Lock()
	e.perms, e.roles, e.bySubject, e.byID = fresh.perms, fresh.roles, fresh.bySubject, fresh.byID
	e.memberOf, e.groupUsers, e.scopeGroups = fresh.memberOf, fresh.groupUsers, fresh.scopeGroups
	e.mu.Unlock()
	return nil
}

func (e *Engine) loadAuthz(ctx context.Context, s storage.Store) error {
	perms, err := s.ListPermissions(ctx)
	if err != nil {
		return err
	}
	roles, err := s.ListRoles(ctx)
	if err != nil {
		return err
	}
	assigns, err := s.ListAssignments(ctx, "")
	if err != nil {
		return err
	}
	for i := range perms {
		e.perms[perms[i].Name] = permOf(&perms[i])
	}
	for i := range roles {
		e.roles[roles[i].ID] = roleOf(&roles[i])
	}
	e.indexAssignments(assigns)
	return nil
}

func (e *Engine) loadGroups(ctx context.Context, s storage.Store) error {
	members, _, err := s.ListUserGroupMembers(ctx, "", storage.Page{})
	if err != nil {
		return err
	}
	e.indexMembers(members)
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
		e.scopeGroups[groups[i].ID] = scopeGroupOfRecord(&groups[i], byGroup[groups[i].ID])
	}
	return nil
}

// Apply implements changefeed.Handler.
func (e *Engine) Apply(ctx context.Context, s storage.Store, c storage.Change) error {
	switch c.Kind {
	case storage.KindPermission:
		p, err := s.GetPermission(ctx, c.Key)
		return e.update(err, func() { e.perms[c.Key] = permOf(p) }, func() { delete(e.perms, c.Key) })
	case storage.KindRole:
		r, err := s.GetRole(ctx, c.Key)
		return e.update(err, func() { e.roles[c.Key] = roleOf(r) }, func() { delete(e.roles, c.Key) })
	case storage.KindAssignment:
		a, err := s.GetAssignment(ctx, c.Key)
		return e.update(err, func() { e.removeAssignment(c.Key); e.putAssignment(assignOf(a)) },
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
	return e.update(err, func() { e.scopeGroups[id] = scopeGroupOfRecord(g, scopes) },
		func() { delete(e.scopeGroups, id) })
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

func (e *Engine) putAssignment(a *assignInfo) {
	e.byID[a.id] = a
	e.bySubject[a.subject] = append(e.bySubject[a.subject], a)
}

func (e *Engine) removeAssignment(id string) {
	a, ok := e.byID[id]
	if !ok {
		return
	}
	delete(e.byID, id)
	list := slices.DeleteFunc(e.bySubject[a.subject], func(x *assignInfo) bool { return x.id == id })
	if len(list) == 0 {
		delete(e.bySubject, a.subject)
	} else {
		e.bySubject[a.subject] = list
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

// assignOf parses the stored scopes; a scope that no longer parses grants nothing.
func assignOf(a *storage.Assignment) *assignInfo {
	ai := &assignInfo{id: a.ID, subject: a.Subject, roleID: a.RoleID, scopes: make([]grn.GRN, 0, len(a.Scopes))}
	for _, s := range a.Scopes {
		if g, err := grn.Parse(s); err == nil {
			ai.scopes = append(ai.scopes, g)
		}
	}
	return ai
}

// addMember records that user belongs to group (idempotent).
func (e *Engine) addMember(group, user string) {
	u, g := principal.User(user), principal.Group(group)
	if !slices.Contains(e.memberOf[u], g) {
		e.memberOf[u] = append(e.memberOf[u], g)
	}
	if !slices.Contains(e.groupUsers[group], u) {
		e.groupUsers[group] = append(e.groupUsers[group], u)
	}
}

func (e *Engine) removeMember(group, user string) {
	u, g := principal.User(user), principal.Group(group)
	e.memberOf[u] = slices.DeleteFunc(e.memberOf[u], func(x string) bool { return x == g })
	if len(e.memberOf[u]) == 0 {
		delete(e.memberOf, u)
	}
	e.groupUsers[group] = slices.DeleteFunc(e.groupUsers[group], func(x string) bool { return x == u })
	if len(e.groupUsers[group]) == 0 {
		delete(e.groupUsers, group)
	}
}

// dropGroup forgets every membership of a deleted user group.
func (e *Engine) dropGroup(group string) {
	for _, u := range slices.Clone(e.groupUsers[group]) {
		_, id, _ := strings.Cut(u, ":")
		e.removeMember(group, id)
	}
}
