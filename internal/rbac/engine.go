package rbac

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

type permInfo struct {
	fixedScope bool
	deprecated bool
	types      []string // "<provider>/<type>"
}

type roleInfo struct {
	id    string
	slug  string
	perms map[string]struct{}
}

type assignInfo struct {
	id      string
	subject string
	roleID  string
	scopes  []grn.GRN
}

// Decision is the engine's answer, with the reason when allowed.
type Decision struct {
	Allowed bool
	// The assignment, role and scope that allowed it.
	AssignmentID string
	RoleID       string
	Scope        string
	Principal    string
	// Deprecated is set when the permission is deprecated (it still works).
	Deprecated bool
	// External is set when an MSP assignment allowed it in one of the MSP's tenants.
	External bool
}

// Engine decides access from an in-memory copy of permissions, roles and assignments.
type Engine struct {
	mu        sync.RWMutex
	perms     map[string]*permInfo
	roles     map[string]*roleInfo
	bySubject map[string][]*assignInfo
	byID      map[string]*assignInfo
	// Groups tells which tenants a tenant group holds (for MSP scopes); set before use.
	Groups GroupMembership
}

// NewEngine returns an empty engine; the change feed loads it.
func NewEngine() *Engine {
	return &Engine{perms: map[string]*permInfo{}, roles: map[string]*roleInfo{},
		bySubject: map[string][]*assignInfo{}, byID: map[string]*assignInfo{}}
}

// Allowed reports whether a caller holds permission on resource.
func (e *Engine) Allowed(c *principal.Caller, permission string, resource grn.GRN) bool {
	if c.ActingFrom != "" {
		return e.decideFrom(c, permission, resource).Allowed
	}
	return e.Decide(c.Principals(), permission, resource).Allowed
}

// Decide evaluates permission on resource for the union of principals.
func (e *Engine) Decide(principals []string, permission string, resource grn.GRN) Decision {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.perms[permission]
	if !ok || resource.IsZero() {
		return Decision{}
	}
	rtype := resource.ResourceType()
	if rtype != "" && !slices.Contains(p.types, rtype) {
		return Decision{}
	}
	for _, pr := range principals {
		for _, a := range e.bySubject[pr] {
			if d, ok := e.grants(a, p, permission, resource); ok {
				d.Principal, d.Deprecated = pr, p.deprecated
				return d
			}
		}
	}
	return Decision{}
}

func (e *Engine) grants(a *assignInfo, p *permInfo, permission string, resource grn.GRN) (Decision, bool) {
	r, ok := e.roles[a.roleID]
	if !ok {
		return Decision{}, false
	}
	if _, ok := r.perms[permission]; !ok {
		return Decision{}, false
	}
	for _, s := range a.scopes {
		if p.fixedScope && !s.IsWorkspace() && !s.IsPlatform() {
			continue
		}
		if s.Covers(resource) {
			return Decision{Allowed: true, AssignmentID: a.id, RoleID: a.roleID, Scope: s.String()}, true
		}
	}
	return Decision{}, false
}

// Kinds implements changefeed.Handler.
func (e *Engine) Kinds() []string {
	return []string{storage.KindPermission, storage.KindRole, storage.KindAssignment}
}

// Load implements changefeed.Handler.
func (e *Engine) Load(ctx context.Context, s storage.Store) error {
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
	fresh := NewEngine()
	for i := range perms {
		fresh.perms[perms[i].Name] = permOf(&perms[i])
	}
	for i := range roles {
		fresh.roles[roles[i].ID] = roleOf(&roles[i])
	}
	for i := range assigns {
		fresh.putAssignment(assignOf(&assigns[i]))
	}
	e.mu.Lock()
	e.perms, e.roles, e.bySubject, e.byID = fresh.perms, fresh.roles, fresh.bySubject, fresh.byID
	e.mu.Unlock()
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
	}
	return nil
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
	ai := &assignInfo{id: a.ID, subject: a.Subject, roleID: a.RoleID}
	for _, s := range a.Scopes {
		if g, err := grn.Parse(s); err == nil {
			ai.scopes = append(ai.scopes, g)
		}
	}
	return ai
}
