package httpapi

import (
	"net/http"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

func (a *API) resourceTypeRoutes(base string) {
	a.route("GET "+base, permAuthzView, a.listResourceTypes)
	a.route("POST "+base, permProviderEdit, a.createResourceType)
	a.route("GET "+base+"/{name}", permAuthzView, a.getResourceType)
	a.route("PUT "+base+"/{name}", permProviderEdit, a.updateResourceType)
	a.route("DELETE "+base+"/{name}", permProviderDelete, a.deleteResourceType)
}

func (a *API) permissionRoutes(base string) {
	a.route("GET "+base, permAuthzView, a.listPermissions)
	a.route("POST "+base, permProviderEdit, a.createPermission)
	a.route("GET "+base+"/{name}", permAuthzView, a.getPermission)
	a.route("PUT "+base+"/{name}", permProviderEdit, a.updatePermission)
	a.route("DELETE "+base+"/{name}", permProviderDelete, a.deletePermission)
}

type resourceTypeJSON struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Provider    string `json:"provider"`
	Key         string `json:"key"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	Generation  int64  `json:"generation"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

func resourceTypeOut(t *storage.ResourceType) resourceTypeJSON {
	return resourceTypeJSON{Name: t.Name, Type: "authorization/resource-type", Provider: t.Provider, Key: t.Provider + "/" + t.Name,
		DisplayName: t.DisplayName, Description: t.Description, Generation: t.Generation,
		CreatedAt: timestamp(t.CreatedAt), UpdatedAt: timestamp(t.UpdatedAt)}
}

type resourceTypeBody struct {
	Name        *string `json:"name"`
	DisplayName string  `json:"displayName"`
	Description string  `json:"description"`
}

func (b *resourceTypeBody) input(create bool) (rbac.ResourceTypeInput, error) {
	in := rbac.ResourceTypeInput{DisplayName: b.DisplayName, Description: b.Description}
	if b.Name != nil {
		in.Name = *b.Name
	} else if create {
		return in, apperr.Field("name", "is required")
	}
	return in, nil
}

func (a *API) listResourceTypes(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, _, err := listQuery(r, pagingStandard)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	all, err := a.IAM.ListResourceTypes(r.Context(), r.PathValue("providerId"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	window := pageSlice(all, p)
	items := make([]resourceTypeJSON, 0, len(window))
	for i := range window {
		items = append(items, resourceTypeOut(&window[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, len(all)))
}

func (a *API) createResourceType(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b resourceTypeBody
	in, err := decodeInput(w, r, &b, func() (rbac.ResourceTypeInput, error) { return b.input(true) })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.IAM.CreateResourceType(r.Context(), c, r.PathValue("providerId"), in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+providersPath+"/"+t.Provider+"/resource-types/"+t.Name)
	writeJSON(w, http.StatusCreated, resourceTypeOut(t))
}

func (a *API) getResourceType(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	t, err := a.IAM.GetResourceType(r.Context(), r.PathValue("providerId"), r.PathValue("name"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resourceTypeOut(t))
}

func (a *API) updateResourceType(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b resourceTypeBody
	in, err := decodeInput(w, r, &b, func() (rbac.ResourceTypeInput, error) { return b.input(false) })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.IAM.UpdateResourceType(r.Context(), c, r.PathValue("providerId"), r.PathValue("name"), in, ifMatch(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resourceTypeOut(t))
}

func (a *API) deleteResourceType(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	a.noContent(w, r, a.IAM.DeleteResourceType(r.Context(), c, r.PathValue("providerId"), r.PathValue("name"), ifMatch(r)))
}

type permissionJSON struct {
	Name                    string   `json:"name"`
	Type                    string   `json:"type"`
	Provider                string   `json:"provider"`
	Description             string   `json:"description"`
	ReleaseStage            string   `json:"releaseStage"`
	CustomRoleUse           string   `json:"customRoleUse"`
	ApplicableResourceTypes []string `json:"applicableResourceTypes"`
	FixedScope              bool     `json:"fixedScope"`
	Generation              int64    `json:"generation"`
	CreatedAt               string   `json:"createdAt"`
	UpdatedAt               string   `json:"updatedAt"`
}

func permissionOut(p *storage.Permission) permissionJSON {
	types := p.ResourceTypes
	if types == nil {
		types = []string{}
	}
	return permissionJSON{Name: p.Name, Type: "authorization/permission", Provider: p.Provider, Description: p.Description,
		ReleaseStage: p.ReleaseStage, CustomRoleUse: p.CustomRoleUse, ApplicableResourceTypes: types,
		FixedScope: p.FixedScope, Generation: p.Generation, CreatedAt: timestamp(p.CreatedAt), UpdatedAt: timestamp(p.UpdatedAt)}
}

type permissionBody struct {
	Name                    *string  `json:"name"`
	Description             string   `json:"description"`
	ReleaseStage            *string  `json:"releaseStage"`
	CustomRoleUse           *string  `json:"customRoleUse"`
	ApplicableResourceTypes []string `json:"applicableResourceTypes"`
	FixedScope              bool     `json:"fixedScope"`
}

func (b *permissionBody) input(create bool) (rbac.PermissionInput, error) {
	in := rbac.PermissionInput{Description: b.Description, ResourceTypes: b.ApplicableResourceTypes, FixedScope: b.FixedScope}
	switch {
	case create && b.Name == nil:
		return in, apperr.Field("name", "is required")
	case b.ReleaseStage == nil:
		return in, apperr.Field("releaseStage", "is required")
	case b.CustomRoleUse == nil:
		return in, apperr.Field("customRoleUse", "is required")
	case b.ApplicableResourceTypes == nil:
		return in, apperr.Field("applicableResourceTypes", "is required")
	}
	if b.Name != nil {
		in.Name = *b.Name
	}
	in.ReleaseStage, in.CustomRoleUse = *b.ReleaseStage, *b.CustomRoleUse
	return in, nil
}

func (a *API) listPermissions(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, _, err := listQuery(r, pagingStandard)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	all, err := a.IAM.ListPermissions(r.Context(), r.PathValue("providerId"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	window := pageSlice(all, p)
	items := make([]permissionJSON, 0, len(window))
	for i := range window {
		items = append(items, permissionOut(&window[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, len(all)))
}

func (a *API) createPermission(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b permissionBody
	in, err := decodeInput(w, r, &b, func() (rbac.PermissionInput, error) { return b.input(true) })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := a.IAM.CreatePermission(r.Context(), c, r.PathValue("providerId"), in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+providersPath+"/"+p.Provider+"/permissions/"+p.Name)
	writeJSON(w, http.StatusCreated, permissionOut(p))
}

func (a *API) getPermission(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, err := a.IAM.GetPermission(r.Context(), r.PathValue("providerId"), r.PathValue("name"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, permissionOut(p))
}

func (a *API) updatePermission(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b permissionBody
	in, err := decodeInput(w, r, &b, func() (rbac.PermissionInput, error) { return b.input(false) })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := a.IAM.UpdatePermission(r.Context(), c, r.PathValue("providerId"), r.PathValue("name"), in, ifMatch(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, permissionOut(p))
}

func (a *API) deletePermission(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	a.noContent(w, r, a.IAM.DeletePermission(r.Context(), c, r.PathValue("providerId"), r.PathValue("name"), ifMatch(r)))
}
