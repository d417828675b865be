package rbac

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
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
	// Condition is the condition of the assignment that allowed it, which held ("" for an
	// unconditional assignment).
	Condition string
	// Unmet lists, for a decision asked with Facts, the conditional assignments whose role and
	// scope would have granted it but whose condition did not hold (tried before the one that
	// allowed it, if any).
	Unmet []ConditionResult
}

// ConditionResult is a conditional assignment whose condition did not hold.
type ConditionResult struct {
	AssignmentID string
	Condition    string
	// Err is why its evaluation failed (a property the request does not carry, a value of
	// another type, the cost limit); "" when it evaluated to false.
	Err string
	// Missing is set when it failed for a property or attribute the request (or the stored
	// user) does not carry: it could hold for a request that carries it.
	Missing bool
}

// MissingConditions lists, once each in order, the conditions of unmet that failed for want of
// a property or attribute: those a request carrying it could meet.
func MissingConditions(unmet []ConditionResult) []string {
	var out []string
	for _, u := range unmet {
		if u.Missing && !slices.Contains(out, u.Condition) {
			out = append(out, u.Condition)
		}
	}
	return out
}

// Facts gives one decision what conditions read. The engine asks Source for the variables
// at most once, and only when the decision reaches a conditional assignment whose role and
// scope would grant it: decisions that meet no condition pay nothing for it. Without Facts
// (or Source), every conditional assignment fails closed. A Facts serves one decision at a
// time (it records the unmet conditions); it may be reused for the next.
type Facts struct {
	Source VarSource
	vars   *Vars
	built  bool
	unmet  []ConditionResult
}

// VarSource builds the variables of a decision's conditions (nil: none, every condition
// that reads one fails).
type VarSource interface {
	ConditionVars() *Vars
}

// variables builds the variables once.
func (f *Facts) variables() *Vars {
	if !f.built {
		f.built = true
		if f.Source != nil {
			f.vars = f.Source.ConditionVars()
		}
		if f.vars == nil {
			f.vars = &Vars{}
		}
	}
	return f.vars
}

// Engine decides access from an in-memory copy of permissions, roles, assignments, user
// group memberships and scope groups. Its assignments hold no pointers, its memberships and
// scope groups one per entry; see strtab.go.
type Engine struct {
	mu sync.RWMutex
	*view
	// Groups tells which tenants a tenant group holds (for MSP scopes); set before use.
	Groups GroupMembership
	// loaded counts the assignments read by the Load under way (progress for /readyz).
	loaded atomic.Int64
}

// view is what the engine decides from; Load swaps in a fresh one.
type view struct {
	perms map[string]*permInfo
	// roles maps a role id (which it holds a reference to) to the role.
	roles map[strID]*roleInfo
	// strs holds every string below: ids, principals, role ids and scope texts.
	strs *strTable
	assignTable
	// conds holds the compiled conditions of conditional assignments (condtab.go).
	conds condTable
	// memberOf maps a user principal to the user-group principals it belongs to;
	// groupUsers maps a user-group principal to its members' user principals.
	memberOf   map[strID][]strID
	groupUsers map[strID][]strID
	// scopeGroups maps a scope group id to its workspace and scopes; wsGroups a workspace
	// (32 hex, as in GRNs) to the ids of its scope groups.
	scopeGroups map[strID]scopeGroupRec
	wsGroups    map[strID][]strID
	// The search index (search_index.go): links[j] ties assignment scope slot j to its record
	// and to the other slots with the same text; known lists, per workspace and resource
	// type, the single resources that assignments and scope groups name.
	links []scopeLink
	known map[knownKey][]strID
	// types indexes the resource types permissions apply to (vocabulary.go); built on first
	// use, dropped when a permission changes.
	types atomic.Pointer[typeIndex]
	// wild holds the "<provider>.<resource-type>." prefixes of the permission names, for
	// scope wildcards (KnownScope); built on first use, dropped when a permission changes.
	wild atomic.Pointer[map[string]struct{}]
}

// NewEngine returns an empty engine; the change feed loads it.
func NewEngine() *Engine {
	return &Engine{view: newView()}
}

func newView() *view {
	return &view{perms: map[string]*permInfo{}, roles: map[strID]*roleInfo{}, strs: newStrTable(),
		assignTable: newAssignTable(), memberOf: map[strID][]strID{}, groupUsers: map[strID][]strID{},
		scopeGroups: map[strID]scopeGroupRec{}, wsGroups: map[strID][]strID{}, known: map[knownKey][]strID{},
		conds: newCondTable()}
}

// Where names the assignments a decision counts: those made in Workspace (by the usual rule
// of scopes covering the resource) and, when MSP is set, those made in the MSP workspace
// Workspace is a tenant of whose scope reaches the tenant (as EXTERNAL grants, in the whole
// tenant). Ids are canonical. Assignments made anywhere else count for nothing, whatever their
// scope, grn:<platform> included: rights do not follow a user into another workspace. The
// zero Where counts no assignment at all, so a caller that forgets to say where is denied.
type Where struct {
	Workspace string
	// MSP is the canonical id of Workspace's MSP when the MSP's assignments that reach the
	// tenant count too ("" otherwise).
	MSP string
}

// WhereOf says where a caller acts: in its token's workspace, and for a token acting in an
// MSP tenant from the MSP (Caller.ActingFrom), with the MSP's assignments that reach it too.
func WhereOf(c *principal.Caller) Where {
	return Where{Workspace: c.WorkspaceID, MSP: c.ActingFrom}
}

// Allowed reports whether a caller holds permission on resource, acting with the assignments
// of its own workspace (WhereOf), and its token's scope (Caller.Scope) permits it: a scope
// only narrows what the assignments grant.
func (e *Engine) Allowed(c *principal.Caller, permission string, resource grn.GRN) bool {
	if !c.Scope.Permits(permission) {
		return false
	}
	// c.Principals(), without allocating: the slice and the owner's principal stay on the stack.
	buf := [2]string{c.Subject}
	principals := buf[:1]
	if c.OwnerID != "" {
		buf[1] = principal.User(c.OwnerID)
		principals = buf[:2]
	}
	return e.Decide(WhereOf(c), principals, permission, resource).Allowed
}

// Decide evaluates permission on resource for the union of principals, and of the user
// groups each user principal belongs to, counting only the assignments that w names.
func (e *Engine) Decide(w Where, principals []string, permission string, resource grn.GRN) Decision {
	e.mu.RLock()
	defer e.mu.RUnlock()
	d, _ := e.decideLocked(w, e.Groups, principals, permission, resource, nil)
	return d
}

// DecideWith is Decide with the facts that conditions of conditional assignments read.
func (e *Engine) DecideWith(w Where, principals []string, permission string, resource grn.GRN, f *Facts) Decision {
	e.mu.RLock()
	defer e.mu.RUnlock()
	d, _ := e.decideLocked(w, e.Groups, principals, permission, resource, f)
	return d
}

// where is a Where resolved against the string table under the read lock: the ids of the
// workspaces (0 when no assignment was made there), the tenant's canonical id and the tenant
// groups, for reach checks.
type where struct {
	ws, msp strID
	tenant  string
	groups  GroupMembership
}

func (v *view) resolve(w Where, groups GroupMembership) where {
	r := where{tenant: w.Workspace, groups: groups}
	if w.Workspace != "" {
		r.ws, _ = v.strs.find(w.Workspace)
	}
	if w.MSP != "" && w.MSP != w.Workspace {
		r.msp, _ = v.strs.find(w.MSP)
	}
	return r
}

// decideLocked is Decide under the read lock; for a denial it also says why. It resolves w
// only once the cheap checks have passed.
func (v *view) decideLocked(w Where, groups GroupMembership, principals []string, permission string, resource grn.GRN, f *Facts) (Decision, DenyReason) {
	p, ok := v.perms[permission]
	switch {
	case !ok:
		return Decision{}, DenyUnknownPermission
	case resource.IsZero():
		return Decision{}, DenyNoResource
	}
	if rtype := resource.ResourceType(); rtype != "" && !slices.Contains(p.types, rtype) {
		return Decision{}, DenyNotApplicable
	}
	if w.Workspace == "" {
		return Decision{}, DenyNoGrant
	}
	var in where
	var external, resolved bool
	if f != nil {
		f.unmet = f.unmet[:0]
	}
	for _, pr := range principals {
		id, ok := v.strs.find(pr)
		if !ok {
			continue // no assignment and no group names it
		}
		if !resolved { // only for a principal that holds something
			in, resolved = v.resolve(w, groups), true
			// MSP assignments apply only to resources of the tenant itself.
			external = in.msp != 0 && ids.IsHexOf(resource.Workspace, in.tenant)
		}
		if d, ok := v.decideFor(&in, external, id, p, permission, resource, f); ok {
			return d.withUnmet(f), ""
		}
		for _, g := range v.memberOf[id] {
			// A group's assignments are made in the group's workspace; MSP assignments count
			// for the principals themselves only, as token exchange checks them (Reaches).
			if d, ok := v.decideFor(&in, false, g, p, permission, resource, f); ok {
				d.Via = v.strs.str(id) // pr, without keeping the caller's string
				return d.withUnmet(f), ""
			}
		}
	}
	if f != nil && len(f.unmet) > 0 {
		return Decision{}.withUnmet(f), DenyConditionNotMet
	}
	return Decision{}, DenyNoGrant
}

// withUnmet returns d with a copy of the unmet conditions f recorded.
func (d Decision) withUnmet(f *Facts) Decision {
	if f != nil && len(f.unmet) > 0 {
		d.Unmet = slices.Clone(f.unmet)
	}
	return d
}

// holds evaluates the condition of assignment a for the decision f is about: false without
// facts, and false (recorded in f) when it does not hold or cannot be evaluated.
func (v *view) holds(a *assignRec, f *Facts) (string, bool) {
	c := v.conds.get(a.cond)
	if f == nil {
		return c.Text, false
	}
	ok, err := c.Eval(f.variables())
	if !ok {
		r := ConditionResult{AssignmentID: v.strs.str(a.id), Condition: c.Text}
		if err != nil {
			r.Err = err.Error()
			r.Missing = strings.HasPrefix(r.Err, "no such key") || strings.HasPrefix(r.Err, "no such attribute")
		}
		f.unmet = append(f.unmet, r)
	}
	return c.Text, ok
}

// decideFor looks for an assignment of one subject that grants permission on resource: one
// made in the workspace, or (when external) one made in its MSP that reaches the tenant.
func (v *view) decideFor(in *where, external bool, subject strID, p *permInfo, permission string, resource grn.GRN, f *Facts) (Decision, bool) {
	for i := v.firstOf(subject); i != 0; i = v.recs[i].next {
		a := &v.recs[i]
		var d Decision
		var ok bool
		switch {
		case a.ws == in.ws && in.ws != 0:
			d, ok = v.grants(a, p, permission, resource)
		case external && a.ws == in.msp:
			d, ok = v.grantsExternal(a, permission, in)
		}
		if ok && a.cond != 0 {
			d.Condition, ok = v.holds(a, f)
		}
		if ok {
			d.Principal, d.Deprecated = v.strs.str(subject), p.deprecated
			return d, true
		}
	}
	return Decision{}, false
}

func (v *view) grants(a *assignRec, p *permInfo, permission string, resource grn.GRN) (Decision, bool) {
	r, ok := v.roles[a.role]
	if !ok || !r.has(permission) {
		return Decision{}, false
	}
	for _, s := range v.scopesOf(a) {
		text := v.strs.str(s.text)
		if s.kind == scopeScopeGroup {
			if c, ok := v.groupCovers(s, text, p, resource); ok {
				return Decision{Allowed: true, AssignmentID: v.strs.str(a.id), RoleID: r.id, Scope: c, ScopeGroup: text}, true
			}
			continue
		}
		if covers(s, text, p, resource) {
			return Decision{Allowed: true, AssignmentID: v.strs.str(a.id), RoleID: r.id, Scope: text}, true
		}
	}
	return Decision{}, false
}

// covers reports whether scope s (whose text is text) covers resource for permission p: a
// fixed-scope permission only through a whole-workspace or platform scope.
func covers(s scopeRef, text string, p *permInfo, resource grn.GRN) bool {
	if p.fixedScope && s.kind != scopeWorkspace && s.kind != scopePlatform {
		return false
	}
	return grn.CoversText(text, resource)
}
