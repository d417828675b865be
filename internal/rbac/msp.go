package rbac

import (
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
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
// msp and tenant are canonical ids; the caller has checked that tenant belongs to msp.
func (v *view) reaches(groups GroupMembership, s scopeRef, msp, tenant string) bool {
	text := v.strs.str(s.text)
	switch {
	case !ids.IsHexOf(s.workspaceOf(text), msp):
		return false
	case s.kind == scopeWorkspace:
		return true
	}
	return s.kind == scopeTenantGroup && groups != nil && groups.Contains(text[s.last:], tenant)
}

// Reaches reports whether any of principals holds an assignment made in the MSP workspace
// whose scope reaches tenant: the condition for token exchange into that tenant. Only
// assignments made in the MSP workspace itself count, and no conditional one (it grants
// nothing outside AuthZEN decisions).
func (e *Engine) Reaches(principals []string, mspID, tenantID string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	msp, ok := e.strs.find(mspID)
	if !ok || mspID == "" {
		return false
	}
	for _, pr := range principals {
		id, ok := e.strs.find(pr)
		if !ok {
			continue
		}
		for i := e.firstOf(id); i != 0; i = e.recs[i].next {
			if e.recs[i].ws != msp || e.recs[i].cond != 0 {
				continue
			}
			for _, s := range e.scopesOf(&e.recs[i]) {
				if e.reaches(e.Groups, s, mspID, tenantID) {
					return true
				}
			}
		}
	}
	return false
}

// grantsExternal reports whether a (an assignment made in the MSP of in's tenant) grants
// permission in the tenant: its role holds the permission and one of its scopes reaches the tenant. Such a grant
// applies in the whole tenant, as EXTERNAL; the caller has checked that the resource lies in
// the tenant.
func (v *view) grantsExternal(a *assignRec, permission string, in *where) (Decision, bool) {
	r, ok := v.roles[a.role]
	if !ok || !r.has(permission) {
		return Decision{}, false
	}
	msp := v.strs.str(a.ws)
	for _, s := range v.scopesOf(a) {
		if v.reaches(in.groups, s, msp, in.tenant) {
			return Decision{Allowed: true, AssignmentID: v.strs.str(a.id), RoleID: r.id, Scope: v.strs.str(s.text), External: true}, true
		}
	}
	return Decision{}, false
}

func (r *roleInfo) has(permission string) bool {
	_, ok := r.perms[permission]
	return ok
}
