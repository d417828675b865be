package httpapi

import (
	"net/http"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

const providersPath = authzV2alpha2 + "/resource-providers"

func (a *API) providerRoutes() {
	const one = providersPath + "/{providerId}"
	a.route("GET "+providersPath, permAuthzView, a.listProviders)
	a.route("POST "+providersPath, permProviderEdit, a.createProvider)
	a.route("GET "+one, permAuthzView, a.getProvider)
	a.route("PUT "+one, permProviderEdit, a.updateProvider)
	a.route("DELETE "+one, permProviderDelete, a.deleteProvider)
	a.resourceTypeRoutes(one + "/resource-types")
	a.permissionRoutes(one + "/permissions")
}

type providerJSON struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Generation  int64  `json:"generation"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

func providerOut(p *storage.ResourceProvider) providerJSON {
	return providerJSON{ID: p.ID, Type: "authorization/resource-provider", Name: p.Name, Description: p.Description,
		Generation: p.Generation, CreatedAt: timestamp(p.CreatedAt), UpdatedAt: timestamp(p.UpdatedAt)}
}

type providerBody struct {
	ID          *string `json:"id"`
	Name        *string `json:"name"`
	Description string  `json:"description"`
}

func (b *providerBody) input(create bool) (rbac.ProviderInput, error) {
	in := rbac.ProviderInput{Description: b.Description}
	if b.ID != nil {
		in.ID = *b.ID
	}
	switch {
	case create && b.ID == nil:
		return in, apperr.Field("id", "is required")
	case b.Name == nil:
		return in, apperr.Field("name", "is required")
	}
	in.Name = *b.Name
	return in, nil
}

// pageSlice returns the window p of items (already in order).
func pageSlice[T any](items []T, p storage.Page) []T {
	if p.Offset >= len(items) {
		return []T{}
	}
	items = items[p.Offset:]
	if p.Limit > 0 && p.Limit < len(items) {
		items = items[:p.Limit]
	}
	return items
}

func (a *API) listProviders(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, _, err := listQuery(r, pagingStandard)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	all, err := a.IAM.ListProviders(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	window := pageSlice(all, p)
	items := make([]providerJSON, 0, len(window))
	for i := range window {
		items = append(items, providerOut(&window[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, len(all)))
}

func (a *API) createProvider(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b providerBody
	in, err := decodeInput(w, r, &b, func() (rbac.ProviderInput, error) { return b.input(true) })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := a.IAM.CreateProvider(r.Context(), c, in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+providersPath+"/"+p.ID)
	writeJSON(w, http.StatusCreated, providerOut(p))
}

func (a *API) getProvider(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, err := a.IAM.GetProvider(r.Context(), r.PathValue("providerId"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, providerOut(p))
}

func (a *API) updateProvider(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b providerBody
	in, err := decodeInput(w, r, &b, func() (rbac.ProviderInput, error) { return b.input(false) })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := a.IAM.UpdateProvider(r.Context(), c, r.PathValue("providerId"), in, ifMatch(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, providerOut(p))
}

func (a *API) deleteProvider(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	a.noContent(w, r, a.IAM.DeleteProvider(r.Context(), c, r.PathValue("providerId"), ifMatch(r)))
}

// decodeInput decodes a JSON body into body and then builds the service input from it.
func decodeInput[T any](w http.ResponseWriter, r *http.Request, body any, input func() (T, error)) (T, error) {
	if err := decodeJSON(w, r, body); err != nil {
		var zero T
		return zero, err
	}
	return input()
}

// noContent answers 204, or the error.
func (a *API) noContent(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
