package rbac

import (
	"slices"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
)

// TenantGroupProvider and TenantGroupType name tenant groups in GRNs:
// grn:glp/workspaces/<msp>/regions/default/providers/msp/tenant-groups/<group id>.
const (
	TenantGroupProvider = "msp"
	TenantGroupType     = "tenant-groups"
)

// TenantGroupGRN is the GRN of a tenant group of an MSP workspace.
func TenantGroupGRN(mspID, groupID string) string {
	return "grn:" + grn.DefaultPlatform + "/workspaces/" + ids.Hex(mspID) + "/regions/default/providers/" +
		TenantGroupProvider + "/" + TenantGroupType + "/" + groupID
}

// GroupMembership answers whether a tenant group holds a tenant.
type GroupMembership interface {
	Contains(groupID, tenantID string) bool
}

// tenantGroupOf returns the group id a scope names, if it is a tenant-group GRN.
func tenantGroupOf(s grn.GRN) (string, bool) {
	if s.Provider != TenantGroupProvider || len(s.Path) != 1 || s.Path[0].Type != TenantGroupType || s.Path[0].ID == grn.Wildcard {
		return "", false
	}
	return s.Path[0].ID, true
}

// reaches reports whether an assignment scope made in the MSP workspace reaches a tenant: the
// MSP's whole-workspace GRN reaches every tenant, a tenant-group GRN the tenants in the group.
// The caller has checked that tenant belongs to msp.
func (v *view) reaches(groups GroupMembership, s scopeRef, mspHex, tenantID string) bool {
	text := v.strs.str(s.text)
	switch {
	case s.workspaceOf(text) != mspHex:
		return false
	case s.kind == scopeWorkspace:
		return true
	}
	return s.kind == scopeTenantGroup && groups != nil && groups.Contains(text[s.last:], tenantID)
}

// Reaches reports whether any of principals holds an assignment made in the MSP workspace
// whose scope reaches tenant: the condition for token exchange into that tenant.
func (e *Engine) Reaches(principals []string, mspID, tenantID string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	mspHex := ids.Hex(mspID)
	for _, pr := range principals {
		id, _ := e.strs.find(pr)
		for i := e.firstOf(id); i != 0; i = e.recs[i].next {
			for _, s := range e.scopesOf(&e.recs[i]) {
				if e.reaches(e.Groups, s, mspHex, tenantID) {
					return true
				}
			}
		}
	}
	return false
}

// decideFrom evaluates a caller acting in a tenant from its MSP (an exchanged token or an MSP
// credential made for the tenant): the MSP assignments whose scope reaches the tenant apply in
// the whole tenant, with their roles, as EXTERNAL grants.
func (e *Engine) decideFrom(c *principal.Caller, permission string, resource grn.GRN) Decision {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.perms[permission]
	if !ok || resource.Workspace != ids.Hex(c.WorkspaceID) {
		return Decision{}
	}
	if rt := resource.ResourceType(); rt != "" && !slices.Contains(p.types, rt) {
		return Decision{}
	}
	mspHex := ids.Hex(c.ActingFrom)
	for _, pr := range c.Principals() {
		id, _ := e.strs.find(pr)
		for i := e.firstOf(id); i != 0; i = e.recs[i].next {
			a := &e.recs[i]
			r, ok := e.roles[a.role]
			if !ok || !r.has(permission) {
				continue
			}
			for _, s := range e.scopesOf(a) {
				if e.reaches(e.Groups, s, mspHex, c.WorkspaceID) {
					return Decision{Allowed: true, AssignmentID: e.strs.str(a.id), RoleID: r.id, Scope: e.strs.str(s.text),
						Principal: pr, Deprecated: p.deprecated, External: true}
				}
			}
		}
	}
	return Decision{}
}

func (r *roleInfo) has(permission string) bool {
	_, ok := r.perms[permission]
	return ok
}
