package httpapi

import (
	"net/http"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

const rolesPath = authzV2alpha2 + "/roles"

func (a *API) roleRoutes() {
	a.route("GET "+rolesPath, permAuthzView, a.listRoles)
	a.route("POST "+rolesPath, permAuthzEdit, a.createRole)
	a.route("GET "+rolesPath+"/{id}", permAuthzView, a.getRole)
	a.route("PUT "+rolesPath+"/{id}", permAuthzEdit, a.updateRole)
	a.route("DELETE "+rolesPath+"/{id}", permAuthzDelete, a.deleteRole)
}

type roleJSON struct {
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	Kind         string   `json:"kind"`
	Slug         string   `json:"slug"`
	ReleaseStage string   `json:"releaseStage,omitempty"`
	GRN          string   `json:"grn"`
	Permissions  []string `json:"permissions"`
	Source       string   `json:"source"`
	Generation   int64    `json:"generation"`
	CreatedAt    string   `json:"createdAt"`
	UpdatedAt    string   `json:"updatedAt"`
}

func roleOut(r *storage.Role) roleJSON {
	perms := r.Permissions
	if perms == nil {
		perms = []string{}
	}
	return roleJSON{ID: r.ID, Type: "authorization/role", Name: r.Name, Description: r.Description, Kind: r.Kind,
		Slug: r.Slug, ReleaseStage: r.ReleaseStage, GRN: rbac.RoleGRN(r), Permissions: perms, Source: rbac.SourceLocal,
		Generation: r.Generation, CreatedAt: timestamp(r.CreatedAt), UpdatedAt: timestamp(r.UpdatedAt)}
}

type roleBody struct {
	ID           *string  `json:"id"`
	Kind         string   `json:"kind"`
	Name         *string  `json:"name"`
	Description  string   `json:"description"`
	Slug         string   `json:"slug"`
	ReleaseStage string   `json:"releaseStage"`
	Permissions  []string `json:"permissions"`
}

func (b *roleBody) input(pathID string) (rbac.RoleInput, error) {
	in := rbac.RoleInput{Kind: b.Kind, Description: b.Description, Slug: b.Slug, ReleaseStage: b.ReleaseStage, Permissions: b.Permissions}
	switch {
	case b.ID != nil && (pathID == "" || !sameID(*b.ID, pathID)):
		return in, apperr.Field("id", "is assigned by the server and must match the path on update")
	case b.Name == nil:
		return in, apperr.Field("name", "is required")
	case b.Permissions == nil:
		return in, apperr.Field("permissions", "is required")
	}
	in.Name = *b.Name
	return in, nil
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, q, err := listQuery(r, pagingStandard, "filter")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	all, err := a.IAM.ListRoles(r.Context(), c, q.Get("filter"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	window := pageSlice(all, p)
	items := make([]roleJSON, 0, len(window))
	for i := range window {
		items = append(items, roleOut(&window[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, len(all)))
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b roleBody
	in, err := decodeInput(w, r, &b, func() (rbac.RoleInput, error) { return b.input("") })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	role, err := a.IAM.CreateRole(r.Context(), c, in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+rolesPath+"/"+role.ID)
	writeJSON(w, http.StatusCreated, roleOut(role))
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	role, err := a.IAM.GetRole(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roleOut(role))
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b roleBody
	in, err := decodeInput(w, r, &b, func() (rbac.RoleInput, error) { return b.input(r.PathValue("id")) })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	role, err := a.IAM.UpdateRole(r.Context(), c, r.PathValue("id"), in, ifMatch(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roleOut(role))
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	a.noContent(w, r, a.IAM.DeleteRole(r.Context(), c, r.PathValue("id"), ifMatch(r)))
}

// sameID reports whether two spellings name the same UUID.
func sameID(x, y string) bool {
	a, errA := ids.Parse(x)
	b, errB := ids.Parse(y)
	return errA == nil && errB == nil && a == b
}
