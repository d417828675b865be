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

// scopeGroupInfo is a scope group as the engine needs it.
type scopeGroupInfo struct {
	workspace string // 32 hex, as in GRNs
	scopes    []grn.GRN
}

func scopeGroupOfRecord(g *storage.ScopeGroup, scopes []storage.GroupScope) *scopeGroupInfo {
	info := &scopeGroupInfo{workspace: ids.Hex(g.WorkspaceID), scopes: make([]grn.GRN, 0, len(scopes))}
	for _, sc := range scopes {
		if p, err := grn.Parse(sc.GRN); err == nil {
			info.scopes = append(info.scopes, p)
		}
	}
	return info
}

// scopeGroupOf returns the group id a scope names, if it is a scope-group GRN.
func scopeGroupOf(s grn.GRN) (string, bool) {
	if s.Workspace == "" || s.Provider != AuthorizationProvider || len(s.Path) != 1 ||
		s.Path[0].Type != ScopeGroupType || s.Path[0].ID == grn.Wildcard {
		return "", false
	}
	return s.Path[0].ID, true
}

// groupCovers returns the scope of scope group id that covers resource for permission p. The
// group must belong to the workspace its GRN names (wsHex): a GRN naming another workspace's
// group reaches nothing.
func (e *Engine) groupCovers(id, wsHex string, p *permInfo, resource grn.GRN) (grn.GRN, bool) {
	g, ok := e.scopeGroups[id]
	if !ok || g.workspace != wsHex {
		return grn.GRN{}, false
	}
	for _, s := range g.scopes {
		if covers(s, p, resource) {
			return s, true
		}
	}
	return grn.GRN{}, false
}
