package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// scopeGroupRoutes serves scope groups under prefix; both API versions share the shape.
func (a *API) scopeGroupRoutes(prefix string) {
	base := prefix + "/scope-groups"
	h := scopeGroupHandlers{a: a, base: base}
	a.route("GET "+base, permAuthzView, h.list)
	a.route("POST "+base, permAuthzEdit, h.create)
	a.route("GET "+base+"/{id}", permAuthzView, h.get)
	a.route("PUT "+base+"/{id}", permAuthzEdit, h.update)
	a.route("DELETE "+base+"/{id}", permAuthzDelete, h.delete)
	a.route("GET "+base+"/{id}/scopes", permAuthzView, h.listScopes)
	a.route("POST "+base+"/{id}/scopes/batch", permAuthzEdit, h.addScopes)
	a.route("DELETE "+base+"/{id}/scopes/bulk", permAuthzEdit, h.removeScopes)
}

type scopeGroupHandlers struct {
	a    *API
	base string
}

func (h scopeGroupHandlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.a.writeVersionedError(w, r, h.base, err)
}

type scopeGroupJSON struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	GRN         string `json:"grn"`
	Generation  int64  `json:"generation"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

func scopeGroupOut(g *storage.ScopeGroup) scopeGroupJSON {
	return scopeGroupJSON{ID: g.ID, Type: "authorization/scope-group", Name: g.Name, Description: g.Description,
		GRN: rbac.ScopeGroupGRN(g.WorkspaceID, g.ID), Generation: g.Generation,
		CreatedAt: timestamp(g.CreatedAt), UpdatedAt: timestamp(g.UpdatedAt)}
}

// scopeGroupBody is the body of a create or update; the read-only fields of a read group are
// accepted and ignored, so that a client can send back what it read.
type scopeGroupBody struct {
	ID          *string `json:"id"`
	Name        *string `json:"name"`
	Description string  `json:"description"`

	Type            json.RawMessage `json:"type"`
	GRN             json.RawMessage `json:"grn"`
	Generation      json.RawMessage `json:"generation"`
	CreatedAt       json.RawMessage `json:"createdAt"`
	UpdatedAt       json.RawMessage `json:"updatedAt"`
	ServiceMetadata json.RawMessage `json:"serviceMetadata"`
}

func (b *scopeGroupBody) input(pathID string) (rbac.ScopeGroupInput, error) {
	in := rbac.ScopeGroupInput{Description: b.Description}
	switch {
	case pathID != "" && (b.ID == nil || !sameID(*b.ID, pathID)):
		return in, apperr.Field("id", "is required and must match the path")
	case pathID == "" && b.ID != nil:
		return in, apperr.Field("id", "is assigned by the server")
	case b.Name == nil:
		return in, apperr.Field("name", "is required")
	}
	in.Name = *b.Name
	return in, nil
}

func (h scopeGroupHandlers) list(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, q, err := listQuery(r, pagingScopeGroups, "filter", "sort")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, total, err := h.a.IAM.ListScopeGroups(r.Context(), c, q.Get("filter"), q.Get("sort"), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	items := make([]scopeGroupJSON, 0, len(list))
	for i := range list {
		items = append(items, scopeGroupOut(&list[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, total))
}

func (h scopeGroupHandlers) create(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b scopeGroupBody
	in, err := decodeInput(w, r, &b, func() (rbac.ScopeGroupInput, error) { return b.input("") })
	if err != nil {
		h.fail(w, r, err)
		return
	}
	g, err := h.a.IAM.CreateScopeGroup(r.Context(), c, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.a.BaseURL+h.base+"/"+g.ID)
	writeJSON(w, http.StatusCreated, scopeGroupOut(g))
}

func (h scopeGroupHandlers) get(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	g, err := h.a.IAM.GetScopeGroup(r.Context(), c, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, scopeGroupOut(g))
}

func (h scopeGroupHandlers) update(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b scopeGroupBody
	in, err := decodeInput(w, r, &b, func() (rbac.ScopeGroupInput, error) { return b.input(r.PathValue("id")) })
	if err != nil {
		h.fail(w, r, err)
		return
	}
	g, err := h.a.IAM.UpdateScopeGroup(r.Context(), c, r.PathValue("id"), in, ifMatch(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, scopeGroupOut(g))
}

func (h scopeGroupHandlers) delete(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := h.a.IAM.DeleteScopeGroup(r.Context(), c, r.PathValue("id"), ifMatch(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
