package httpapi

import (
	"net/http"
	"slices"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/workspace"
)

const groupsPath = "/workspaces/v1beta1/groups"

func (a *API) groupRoutes() {
	a.route("GET "+groupsPath, "glp.msp-tenant.view", a.listGroups)
	a.route("POST "+groupsPath, "glp.msp-tenant.edit", a.createGroup)
	a.route("GET "+groupsPath+"/{gid}", "glp.msp-tenant.view", a.getGroup)
	a.route("PUT "+groupsPath+"/{gid}", "glp.msp-tenant.edit", a.updateGroup)
	a.route("DELETE "+groupsPath+"/{gid}", "glp.msp-tenant.delete", a.deleteGroup)
	a.route("GET "+groupsPath+"/{gid}/group-workspaces", "glp.msp-tenant.view", a.listGroupWorkspaces)
	a.route("POST "+groupsPath+"/{gid}/group-workspaces", "glp.msp-tenant.edit", a.addGroupWorkspace)
	a.route("GET "+groupsPath+"/{gid}/group-workspaces/{mid}", "glp.msp-tenant.view", a.getGroupWorkspace)
	a.route("DELETE "+groupsPath+"/{gid}/group-workspaces/{mid}", "glp.msp-tenant.delete", a.removeGroupWorkspace)
}

type groupJSON struct {
	ID              string `json:"id"`
	Type            string `json:"type"`
	Name            string `json:"name"`
	Description     string `json:"description"`
	GRN             string `json:"grn"`
	GroupType       string `json:"groupType"`
	Generation      int64  `json:"generation"`
	CreatedAt       string `json:"createdAt"`
	UpdatedAt       string `json:"updatedAt"`
	TotalWorkspaces *int   `json:"totalWorkspaces,omitempty"`
}

func groupOut(g *storage.TenantGroup) groupJSON {
	return groupJSON{ID: g.ID, Type: "/workspaces/group", Name: g.Name, Description: g.Description,
		GRN: rbac.TenantGroupGRN(g.MSPID, g.ID), GroupType: workspace.GroupTypeTenant, Generation: g.Generation,
		CreatedAt: timestamp(g.CreatedAt), UpdatedAt: timestamp(g.UpdatedAt)}
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, _, ok := a.pageOf(w, r, pagingTenantGroups)
	if !ok {
		return
	}
	list, total, err := a.WorkspaceService.ListGroups(r.Context(), c, p)
	if err != nil {
		a.groupError(w, r, err)
		return
	}
	items := make([]groupJSON, 0, len(list))
	for i := range list {
		out := groupOut(&list[i])
		n := a.TenantGroups.Count(list[i].ID)
		out.TotalWorkspaces = &n
		items = append(items, out)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "count": len(items), "offset": p.Offset, "total": total})
}

type groupBody struct {
	Name        *string `json:"name"`
	Description string  `json:"description"`
	GroupType   *string `json:"groupType"`
}

func (a *API) groupInput(w http.ResponseWriter, r *http.Request, create bool) (workspace.GroupInput, bool) {
	var b groupBody
	err := decodeJSON(w, r, &b)
	switch {
	case err != nil:
	case b.Name == nil:
		err = apperr.Field("name", "is required")
	case create && (b.GroupType == nil || *b.GroupType != workspace.GroupTypeTenant):
		err = apperr.Field("groupType", "is required and must be TenantGroup")
	case !create && b.GroupType != nil:
		err = apperr.Field("groupType", "cannot be changed")
	}
	if err != nil {
		a.groupError(w, r, err)
		return workspace.GroupInput{}, false
	}
	return workspace.GroupInput{Name: *b.Name, Description: b.Description}, true
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	in, ok := a.groupInput(w, r, true)
	if !ok {
		return
	}
	g, err := a.WorkspaceService.CreateGroup(r.Context(), c, in)
	if err != nil {
		a.groupError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+groupsPath+"/"+g.ID)
	writeJSON(w, http.StatusCreated, groupOut(g))
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	g, err := a.WorkspaceService.Group(r.Context(), c, r.PathValue("gid"))
	if err != nil {
		a.groupError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupOut(g))
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	in, ok := a.groupInput(w, r, false)
	if !ok {
		return
	}
	g, err := a.WorkspaceService.UpdateGroup(r.Context(), c, r.PathValue("gid"), in)
	if err != nil {
		a.groupError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupOut(g))
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := a.WorkspaceService.DeleteGroup(r.Context(), c, r.PathValue("gid")); err != nil {
		a.groupError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type groupWorkspaceJSON struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	GRN        string `json:"grn"`
	Generation int64  `json:"generation"`
	CreatedAt  string `json:"createdAt"`
	UpdatedAt  string `json:"updatedAt"`
	Workspace  struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"workspace"`
}

func (a *API) groupWorkspaceOut(r *http.Request, c *principal.Caller, m *storage.GroupMember) groupWorkspaceJSON {
	out := groupWorkspaceJSON{ID: m.ID, Type: "/workspaces/group/group-workspace", GRN: rbac.TenantGroupGRN(c.WorkspaceID, m.GroupID),
		Generation: m.Generation, CreatedAt: timestamp(m.CreatedAt), UpdatedAt: timestamp(m.UpdatedAt)}
	out.Workspace.ID, out.Workspace.Type = m.WorkspaceID, "/workspaces/workspace"
	if ws, ok := a.Workspaces.Get(m.WorkspaceID); ok {
		out.Workspace.Name = ws.Name
	}
	if d, err := a.WorkspaceService.TenantDetails(r.Context(), m.WorkspaceID); err == nil {
		out.Workspace.Description = d.Description
	}
	return out
}

func (a *API) listGroupWorkspaces(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, _, ok := a.pageOf(w, r, pagingGroupWorkspaces)
	if !ok {
		return
	}
	list, total, err := a.WorkspaceService.ListGroupMembers(r.Context(), c, r.PathValue("gid"), p)
	if err != nil {
		a.groupError(w, r, err)
		return
	}
	items := make([]groupWorkspaceJSON, 0, len(list))
	for i := range list {
		items = append(items, a.groupWorkspaceOut(r, c, &list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "count": len(items), "offset": p.Offset, "total": total})
}

type addGroupWorkspaceBody struct {
	WorkspaceID *string `json:"workspaceId"`
	Type        string  `json:"type"`
}

func (a *API) addGroupWorkspace(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b addGroupWorkspaceBody
	err := decodeJSON(w, r, &b)
	switch {
	case err != nil:
	case b.WorkspaceID == nil:
		err = apperr.Field("workspaceId", "is required")
	case b.Type != "" && b.Type != "/workspaces/workspace":
		err = apperr.Field("type", "must be /workspaces/workspace")
	}
	if err != nil {
		a.groupError(w, r, err)
		return
	}
	m, err := a.WorkspaceService.AddGroupMember(r.Context(), c, r.PathValue("gid"), *b.WorkspaceID)
	if err != nil {
		a.groupError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+groupsPath+"/"+m.GroupID+"/group-workspaces/"+m.ID)
	writeJSON(w, http.StatusCreated, a.groupWorkspaceOut(r, c, m))
}

func (a *API) getGroupWorkspace(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	m, err := a.WorkspaceService.GroupMember(r.Context(), c, r.PathValue("gid"), r.PathValue("mid"))
	if err != nil {
		a.groupError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.groupWorkspaceOut(r, c, m))
}

func (a *API) removeGroupWorkspace(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := a.WorkspaceService.RemoveGroupMember(r.Context(), c, r.PathValue("gid"), r.PathValue("mid")); err != nil {
		a.groupError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// groupError writes err as GreenLake's groups v1beta1 document allows: its error issues name
// only field, header and query.parameter sources, so a malformed id in the path is reported as
// a field issue (whose subject still names the path parameter).
func (a *API) groupError(w http.ResponseWriter, r *http.Request, err error) {
	if e := apperr.As(err); len(e.Issues) > 0 {
		c := *e
		c.Issues = slices.Clone(e.Issues)
		for i := range c.Issues {
			if c.Issues[i].Source == apperr.SourcePath {
				c.Issues[i].Source = apperr.SourceField
			}
		}
		err = &c
	}
	a.writeError(w, r, err)
}
