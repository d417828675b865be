package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/workspace"
)

func (a *API) workspaceRoutes() {
	a.route("GET /workspaces/v1/workspaces/{id}", "glp.workspace.view", a.getWorkspace)
	a.route("GET /workspaces/v1/msp-tenants", "glp.msp-tenant.view", a.listTenants)
	a.route("POST /workspaces/v1/msp-tenants", "glp.msp-tenant.edit", a.createTenant)
	a.route("PUT /workspaces/v1/msp-tenants/{id}", "glp.msp-tenant.edit", a.updateTenant)
	a.route("DELETE /workspaces/v1/msp-tenants/{id}", "glp.msp-tenant.delete", a.deleteTenant)
	a.groupRoutes()
	a.provisionRoutes()
	a.catalogRoutes()
	a.contactRoutes()
}

func workspaceURI(id string) string { return "/workspaces/v1/workspaces/" + id }

type workspaceJSON struct {
	ID                 string          `json:"id"`
	Type               string          `json:"type"`
	WorkspaceName      string          `json:"workspaceName"`
	WorkspaceType      string          `json:"workspaceType,omitempty"`
	CreatedBy          string          `json:"createdBy"`
	Generation         int64           `json:"generation"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
	ResourceURI        string          `json:"resourceUri"`
	InventoryOwnership string          `json:"inventoryOwnership,omitempty"`
	Description        string          `json:"description,omitempty"`
	Email              string          `json:"email,omitempty"`
	PhoneNumber        string          `json:"phoneNumber,omitempty"`
	Address            json.RawMessage `json:"address,omitempty"`
}

func workspaceOut(w *storage.Workspace, typ string) workspaceJSON {
	return workspaceJSON{ID: w.ID, Type: typ, WorkspaceName: w.Name, WorkspaceType: w.Type, CreatedBy: w.CreatedBy,
		Generation: w.Generation, CreatedAt: timestamp(w.CreatedAt), UpdatedAt: timestamp(w.UpdatedAt), ResourceURI: workspaceURI(w.ID)}
}

func (a *API) getWorkspace(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	ws, err := a.WorkspaceService.Get(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, workspaceOut(ws, "workspace"))
}

func (a *API) listTenants(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, filter, ok := a.pageOf(w, r, pagingTenants, "filter")
	if !ok {
		return
	}
	list, total, err := a.WorkspaceService.ListTenants(r.Context(), c, filter, p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]workspaceJSON, 0, len(list))
	for i := range list {
		out := workspaceOut(&list[i], "tenant")
		if d, err := a.WorkspaceService.TenantDetails(r.Context(), list[i].ID); err == nil {
			out.InventoryOwnership, out.Description, out.Email, out.PhoneNumber = d.InventoryOwnership, d.Description, d.Email, d.PhoneNumber
			if d.Address != "" {
				out.Address = json.RawMessage(d.Address)
			}
		}
		items = append(items, out)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "count": len(items), "offset": p.Offset, "total": total})
}

// Paging of the MSP and service-catalog lists, as their documents give it (default and
// largest limit). Every one pages in SQL.
var (
	pagingTenants         = pagingSpec{def: 300, max: 300}
	pagingTenantGroups    = pagingSpec{def: 2000, max: 2000}
	pagingGroupWorkspaces = pagingSpec{def: 200, max: 500}
	pagingProvisions      = pagingSpec{def: 2000, max: 2000}
)

// pageOf parses a list call's query: paging as spec says (always allowed) and the extra
// parameters named.
func (a *API) pageOf(w http.ResponseWriter, r *http.Request, spec pagingSpec, extra ...string) (storage.Page, string, bool) {
	p, q, err := listQuery(r, spec, extra...)
	if err != nil {
		a.writeError(w, r, err)
		return storage.Page{}, "", false
	}
	return p, q.Get("filter"), true
}

type tenantBody struct {
	WorkspaceName      *string         `json:"workspaceName"`
	Description        string          `json:"description"`
	Email              string          `json:"email"`
	PhoneNumber        string          `json:"phoneNumber"`
	InventoryOwnership string          `json:"inventoryOwnership"`
	Address            json.RawMessage `json:"address"`
	ResourceURI        string          `json:"resourceUri"`
}

func (a *API) tenantInput(w http.ResponseWriter, r *http.Request) (workspace.TenantInput, bool) {
	var b tenantBody
	if err := decodeJSON(w, r, &b); err != nil {
		a.writeError(w, r, err)
		return workspace.TenantInput{}, false
	}
	in := workspace.TenantInput{Details: storage.TenantDetails{Description: b.Description, Email: b.Email,
		PhoneNumber: b.PhoneNumber, InventoryOwnership: b.InventoryOwnership}}
	if b.WorkspaceName != nil {
		in.WorkspaceName = *b.WorkspaceName
	}
	if len(b.Address) > 0 && string(b.Address) != "null" {
		if b.Address[0] != '{' {
			a.writeError(w, r, apperr.Field("address", "must be an object"))
			return in, false
		}
		in.Details.Address = string(b.Address)
	}
	return in, true
}

func (a *API) createTenant(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	in, ok := a.tenantInput(w, r)
	if !ok {
		return
	}
	t, err := a.WorkspaceService.CreateTenant(r.Context(), c, in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+workspaceURI(t.ID))
	writeJSON(w, http.StatusCreated, map[string]string{"message": "tenant created", "id": t.ID, "resourceUri": workspaceURI(t.ID)})
}

func (a *API) updateTenant(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	in, ok := a.tenantInput(w, r)
	if !ok {
		return
	}
	t, err := a.WorkspaceService.UpdateTenant(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "tenant updated", "id": t.ID, "resourceUri": workspaceURI(t.ID)})
}

func (a *API) deleteTenant(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := a.WorkspaceService.DeleteTenant(r.Context(), c, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
