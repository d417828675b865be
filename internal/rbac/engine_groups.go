package rbac

import (
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// Scope groups appear in assignment scopes as
// grn:<platform>/workspaces/<ws>/regions/default/providers/authorization/scope-groups/<id>.
const (
	AuthorizationProvider = "authorization"
	ScopeGroupType        = "scope-groups"
	CustomRoleType        = "custom-roles"
)

// ScopeGroupGRN is the GRN of a scope group of a workspace.
func ScopeGroupGRN(workspaceID, groupID string) string {
	return "grn:" + grn.DefaultPlatform + "/workspaces/" + ids.Hex(workspaceID) + "/regions/default/providers/" +
		AuthorizationProvider + "/" + ScopeGroupType + "/" + groupID
}

// scopeGroupRec is a scope group as the engine needs it: its workspace (32 hex, as in
// GRNs) and scopes. It holds a reference to each of those strings and to its id.
type scopeGroupRec struct {
	workspace strID
	scopes    []scopeRef
}

// putScopeGroup adds or replaces a scope group.
func (v *view) putScopeGroup(g *storage.ScopeGroup, scopes []storage.GroupScope) {
	v.removeScopeGroup(g.ID)
	rec := scopeGroupRec{workspace: v.strs.intern(ids.Hex(g.WorkspaceID)), scopes: make([]scopeRef, 0, len(scopes))}
	for _, sc := range scopes {
		if ref, ok := v.internScope(sc.GRN); ok {
			rec.scopes = append(rec.scopes, ref)
			v.noteKnown(ref, true)
		}
	}
	id := v.strs.intern(g.ID)
	v.scopeGroups[id] = rec
	v.wsGroups[rec.workspace] = append(v.wsGroups[rec.workspace], id)
}

// removeScopeGroup forgets scope group id, if held.
func (v *view) removeScopeGroup(id string) {
	sid, ok := v.strs.find(id)
	if !ok {
		return
	}
	rec, ok := v.scopeGroups[sid]
	if !ok {
		return
	}
	delete(v.scopeGroups, sid)
	dropFrom(v.wsGroups, rec.workspace, sid)
	for _, s := range rec.scopes {
		v.noteKnown(s, false)
		v.strs.release(s.text)
	}
	v.strs.release(rec.workspace)
	v.strs.release(sid)
}

// groupCovers returns the text of the scope of the scope group that ref (with text text)
// names which covers resource for permission p. The group must belong to the workspace its
// GRN names: a GRN naming another workspace's group reaches nothing.
func (v *view) groupCovers(ref scopeRef, text string, p *permInfo, resource grn.GRN) (string, bool) {
	id, ok := v.strs.find(text[ref.last:])
	if !ok {
		return "", false
	}
	g, ok := v.scopeGroups[id]
	if !ok || v.strs.str(g.workspace) != ref.workspaceOf(text) {
		return "", false
	}
	for _, s := range g.scopes {
		if c := v.strs.str(s.text); covers(s, c, p, resource) {
			return c, true
		}
	}
	return "", false
}

// scopeGroupOf returns the group id a scope names, if it is a scope-group GRN.
func scopeGroupOf(s grn.GRN) (string, bool) {
	if s.Workspace == "" || s.Provider != AuthorizationProvider || len(s.Path) != 1 ||
		s.Path[0].Type != ScopeGroupType || s.Path[0].ID == grn.Wildcard {
		return "", false
	}
	return s.Path[0].ID, true
}
