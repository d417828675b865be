package rbac

import (
	"maps"
	"slices"

	"github.com/keyhold/keyhold/internal/grn"
)

// DenyReason says which step of a decision denied it.
type DenyReason string

// The reasons of a denial, in the order the engine checks them.
const (
	// DenyUnknownPermission: no permission of that name is registered.
	DenyUnknownPermission DenyReason = "unknown_permission"
	// DenyNoResource: the resource is the zero GRN.
	DenyNoResource DenyReason = "no_resource"
	// DenyNotApplicable: the permission does not apply to the resource's type.
	DenyNotApplicable DenyReason = "not_applicable_to_resource_type"
	// DenyNoGrant: no assignment of the principals (or their groups) has a role holding the
	// permission on a scope covering the resource (deny by default).
	DenyNoGrant DenyReason = "no_matching_assignment"
	// DenyConditionNotMet: only conditional assignments would grant, and none of their
	// conditions held (Decision.Unmet lists them).
	DenyConditionNotMet DenyReason = "condition_not_met"
	// DenyOutsideScope: the assignments grant it, but the caller's OAuth scope (its token's
	// scope claim, or an AuthZEN subject's properties.scope) does not permit it. Decided by the
	// callers of the engine that know the scope (Allowed, the AuthZEN API).
	DenyOutsideScope DenyReason = "outside_token_scope"
)

// Explain is Decide, and for a denial the reason. An allowed Decision carries its own
// explanation (assignment, role, scope, scope group, principal and group).
func (e *Engine) Explain(w Where, principals []string, permission string, resource grn.GRN) (Decision, DenyReason) {
	return e.ExplainWith(w, principals, permission, resource, &Facts{})
}

// ExplainWith is Explain with the facts that conditions read: the explanation names the
// condition that held, or those that did not (Decision.Unmet, DenyConditionNotMet).
func (e *Engine) ExplainWith(w Where, principals []string, permission string, resource grn.GRN, f *Facts) (Decision, DenyReason) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.decideLocked(w, e.Groups, principals, permission, resource, f)
}

// Grant is one permission held on a resource, with the decision that grants it.
type Grant struct {
	Permission string
	Decision
	// Conditional lists, for a permission that only conditional assignments could grant and
	// whose conditions failed for want of a property or attribute (ConditionResult.Missing),
	// those conditions, once each: Decision.Allowed is false, and a request that carries
	// what they read may be allowed. Only PermissionsWith reports such grants.
	Conditional []string
}

// Permissions lists, by name, every permission that principals (directly or through their
// user groups) hold on resource through the assignments w names: the effective permissions.
// Each comes with the decision Decide would give for it. Conditional assignments grant
// nothing here (there are no facts); PermissionsWith evaluates them.
func (e *Engine) Permissions(w Where, principals []string, resource grn.GRN) []Grant {
	return e.PermissionsWith(w, principals, resource, nil)
}

// PermissionsWith is Permissions with conditions evaluated: facts(permission) gives what the
// conditions read when deciding that permission (nil facts, or facts returning nil: they
// fail closed). A permission a condition allows is listed like any other; one whose only
// candidates are conditional assignments that failed for want of a property is listed with
// Allowed false and Conditional set.
func (e *Engine) PermissionsWith(w Where, principals []string, resource grn.GRN, facts func(permission string) *Facts) []Grant {
	e.mu.RLock()
	defer e.mu.RUnlock()
	in := e.resolve(w, e.Groups)
	candidates := map[string]struct{}{}
	collect := func(subject strID) {
		for i := e.firstOf(subject); i != 0; i = e.recs[i].next {
			a := &e.recs[i]
			if a.ws == 0 || (a.ws != in.ws && a.ws != in.msp) {
				continue // counts for nothing here
			}
			if r, ok := e.roles[a.role]; ok {
				maps.Copy(candidates, r.perms)
			}
		}
	}
	for _, pr := range principals {
		id, ok := e.strs.find(pr)
		if !ok {
			continue
		}
		collect(id)
		for _, g := range e.memberOf[id] {
			collect(g)
		}
	}
	var out []Grant
	for _, name := range slices.Sorted(maps.Keys(candidates)) {
		var f *Facts
		if facts != nil {
			f = facts(name)
		}
		d, _ := e.decideLocked(w, e.Groups, principals, name, resource, f)
		if d.Allowed {
			out = append(out, Grant{Permission: name, Decision: d})
		} else if missing := MissingConditions(d.Unmet); len(missing) > 0 {
			out = append(out, Grant{Permission: name, Decision: d, Conditional: missing})
		}
	}
	return out
}

// GroupsOf lists the user-group principals a user principal belongs to, in every workspace (a
// group's assignments count only in its own workspace, where they are made).
func (e *Engine) GroupsOf(user string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	id, ok := e.strs.find(user)
	if !ok {
		return nil
	}
	groups := make([]string, 0, len(e.memberOf[id]))
	for _, g := range e.memberOf[id] {
		groups = append(groups, e.strs.str(g))
	}
	return groups
}

// onlyFixedScope reports whether every one of perms is a registered fixed-scope permission
// (an empty list is not).
func (e *Engine) onlyFixedScope(perms []string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, name := range perms {
		if p, ok := e.perms[name]; !ok || !p.fixedScope {
			return false
		}
	}
	return len(perms) > 0
}
