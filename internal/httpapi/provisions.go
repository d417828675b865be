package httpapi

import (
	"net/http"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

const provisionsPath = "/service-catalog/v1/service-manager-provisions"

func (a *API) provisionRoutes() {
	for _, base := range []string{provisionsPath, "/service-catalog/v1beta1/service-manager-provisions"} {
		a.route("GET "+base, "glp.service-catalog.view", a.listProvisions)
		a.route("POST "+base, "glp.service-catalog.edit", a.createProvision)
		a.route("GET "+base+"/{id}", "glp.service-catalog.view", a.getProvision)
		a.route("DELETE "+base+"/{id}", "glp.service-catalog.delete", a.deleteProvision)
	}
}

type resourceLink struct {
	ID          string `json:"id"`
	ResourceURI string `json:"resourceUri"`
}

type provisionJSON struct {
	ID              string       `json:"id"`
	Type            string       `json:"type"`
	ResourceURI     string       `json:"resourceUri"`
	ServiceManager  resourceLink `json:"serviceManager"`
	Region          string       `json:"region"`
	ProvisionStatus string       `json:"provisionStatus"`
	CreatedBy       string       `json:"createdBy"`
	Generation      int64        `json:"generation"`
	CreatedAt       string       `json:"createdAt"`
	UpdatedAt       string       `json:"updatedAt"`
}

func provisionOut(p *storage.Provision) provisionJSON {
	return provisionJSON{ID: p.ID, Type: "/service-catalog/service-manager-provision", ResourceURI: provisionsPath + "/" + p.ID,
		ServiceManager: resourceLink{ID: p.ServiceManagerID, ResourceURI: "/service-catalog/v1/service-managers/" + p.ServiceManagerID},
		Region:         p.Region, ProvisionStatus: p.Status, CreatedBy: p.CreatedBy, Generation: p.Generation,
		CreatedAt: timestamp(p.CreatedAt), UpdatedAt: timestamp(p.UpdatedAt)}
}

func (a *API) listProvisions(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, filter, ok := a.pageOf(w, r, pagingProvisions, "filter")
	if !ok {
		return
	}
	list, total, err := a.WorkspaceService.ListProvisions(r.Context(), c, filter, p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]provisionJSON, 0, len(list))
	for i := range list {
		items = append(items, provisionOut(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "count": len(items), "offset": p.Offset, "total": total})
}

type provisionBody struct {
	ServiceManagerID *string `json:"serviceManagerId"`
	Region           *string `json:"region"`
}

func (a *API) createProvision(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b provisionBody
	err := decodeJSON(w, r, &b)
	switch {
	case err != nil:
	case b.ServiceManagerID == nil:
		err = apperr.Field("serviceManagerId", "is required")
	case b.Region == nil:
		err = apperr.Field("region", "is required")
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := a.WorkspaceService.CreateProvision(r.Context(), c, *b.ServiceManagerID, *b.Region)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+provisionsPath+"/"+p.ID)
	writeJSON(w, http.StatusCreated, provisionOut(p))
}

func (a *API) getProvision(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, err := a.WorkspaceService.Provision(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, provisionOut(p))
}

func (a *API) deleteProvision(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := a.WorkspaceService.DeleteProvision(r.Context(), c, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
