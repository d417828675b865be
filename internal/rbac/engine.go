package rbac

import (
	"slices"
	"sync"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
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
	// scopes are the assignment's GRNs as stored: a scope-group GRN stands for the group's
	// scopes, which grants() looks up when it decides.
	scopes []grn.GRN
}

// Decision is the engine's answer, with the reason when allowed.
type Decision struct {
	Allowed bool
	// The assignment, role and scope that allowed it. Scope is the GRN that covered the
	// resource: one of the assignment's scopes, or a scope of the scope group ScopeGroup
	// that the assignment names.
	AssignmentID string
	RoleID       string
	Scope        string
	Principal    string
	// Deprecated is set when the permission is deprecated (it still works).
	Deprecated bool
	// External is set when an MSP assignment allowed it in one of the MSP's tenants.
	External bool
	// ScopeGroup is the GRN of the scope group that Scope came from ("" for a direct scope).
	ScopeGroup string
	// Via is the principal asked about when Principal is a user group it belongs to ("" when
	// the assignment was made to the principal asked about).
	Via string
}

// Engine decides access from an in-memory copy of permissions, roles, assignments, user
// group memberships and scope groups.
type Engine struct {
	mu        sync.RWMutex
	perms     map[string]*permInfo
	roles     map[string]*roleInfo
	bySubject map[string][]*assignInfo
	byID      map[string]*assignInfo
	// memberOf maps "user:<id>" to the "user-group:<id>" principals the user belongs to;
	// groupUsers maps a user group id to its members' user principals.
	memberOf   map[string][]string
	groupUsers map[string][]string
	// scopeGroups maps a scope group id to its workspace and scopes.
	scopeGroups map[string]*scopeGroupInfo
	// Groups tells which tenants a tenant group holds (for MSP scopes); set before use.
	Groups GroupMembership
}

// NewEngine returns an empty engine; the change feed loads it.
func NewEngine() *Engine {
	return &Engine{perms: map[string]*permInfo{}, roles: map[string]*roleInfo{},
		bySubject: map[string][]*assignInfo{}, byID: map[string]*assignInfo{},
		memberOf: map[string][]string{}, groupUsers: map[string][]string{}, scopeGroups: map[string]*scopeGroupInfo{}}
}

// Allowed reports whether a caller holds permission on resource.
func (e *Engine) Allowed(c *principal.Caller, permission string, resource grn.GRN) bool {
	if c.ActingFrom != "" {
		return e.decideFrom(c, permission, resource).Allowed
	}
	return e.Decide(c.Principals(), permission, resource).Allowed
}

// Decide evaluates permission on resource for the union of principals, and of the user
// groups each user principal belongs to.
func (e *Engine) Decide(principals []string, permission string, resource grn.GRN) Decision {
	e.mu.RLock()
	defer e.mu.RUnlock()
	d, _ := e.decideLocked(principals, permission, resource)
	return d
}

// decideLocked is Decide under the read lock; for a denial it also says why.
func (e *Engine) decideLocked(principals []string, permission string, resource grn.GRN) (Decision, DenyReason) {
	p, ok := e.perms[permission]
	switch {
	case !ok:
		return Decision{}, DenyUnknownPermission
	case resource.IsZero():
		return Decision{}, DenyNoResource
	}
	if rtype := resource.ResourceType(); rtype != "" && !slices.Contains(p.types, rtype) {
		return Decision{}, DenyNotApplicable
	}
	for _, pr := range principals {
		if d, ok := e.decideFor(pr, p, permission, resource); ok {
			return d, ""
		}
		for _, g := range e.memberOf[pr] {
			if d, ok := e.decideFor(g, p, permission, resource); ok {
				d.Via = pr
				return d, ""
			}
		}
	}
	return Decision{}, DenyNoGrant
}

// decideFor looks for an assignment of one subject that grants permission on resource.
func (e *Engine) decideFor(subject string, p *permInfo, permission string, resource grn.GRN) (Decision, bool) {
	for _, a := range e.bySubject[subject] {
		if d, ok := e.grants(a, p, permission, resource); ok {
			d.Principal, d.Deprecated = subject, p.deprecated
			return d, true
		}
	}
	return Decision{}, false
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
		if id, ok := scopeGroupOf(s); ok {
			if c, ok := e.groupCovers(id, s.Workspace, p, resource); ok {
				return Decision{Allowed: true, AssignmentID: a.id, RoleID: a.roleID, Scope: c.String(), ScopeGroup: s.String()}, true
			}
			continue
		}
		if covers(s, p, resource) {
			return Decision{Allowed: true, AssignmentID: a.id, RoleID: a.roleID, Scope: s.String()}, true
		}
	}
	return Decision{}, false
}

// covers reports whether scope s covers resource for permission p: a fixed-scope permission
// only through a whole-workspace or platform scope.
func covers(s grn.GRN, p *permInfo, resource grn.GRN) bool {
	if p.fixedScope && !s.IsWorkspace() && !s.IsPlatform() {
		return false
	}
	return s.Covers(resource)
}
