package httpapi

import (
	"net/http"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

func lower(s string) string { return strings.ToLower(s) }

func (a *API) scimUserRoutes() {
	const users = scimPrefix + "/Users"
	a.route("GET "+users, permIdentityView, a.scimListUsers)
	a.route("POST "+users, permIdentityEdit, a.scimCreateUser)
	a.route("GET "+users+"/{id}", permIdentityView, a.scimGetUser)
	a.route("PATCH "+users+"/{id}", permIdentityEdit, a.scimPatchUser)
	a.route("DELETE "+users+"/{id}", permIdentityDelete, a.scimDeleteUser)
}

// scimUserOut is a user as a SCIM User with GreenLake's extension; ws is the workspace
// asking. source is SCIM when ws controls the user, External when another workspace does
// (which one is not said), Local otherwise.
func (a *API) scimUserOut(u *storage.User, ws string) map[string]any {
	source, instance := storage.SourceLocal, ws
	switch u.SourceWorkspace {
	case "":
	case ws:
		source = storage.SourceSCIM
	default:
		source, instance = "External", ""
	}
	status := "ACTIVE"
	if u.Inactive {
		status = "STAGED"
	}
	ext := map[string]any{
		"countryCode":          u.CountryCode,
		"primaryEmailVerified": true,
		"status":               status,
		"source":               source,
		"hpe_principal":        principal.User(u.ID),
	}
	if instance != "" {
		ext["sourceInstance"] = instance
	}
	meta := a.scimMeta("User", "/Users", u.ID, timestamp(u.CreatedAt), timestamp(u.UpdatedAt), u.Generation)
	if !u.LastLogin.IsZero() {
		meta["lastLogin"] = timestamp(u.LastLogin)
	}
	display := u.DisplayName
	if display == "" {
		display = u.Email
	}
	out := map[string]any{
		"schemas":              []string{identity.SchemaUser, identity.SchemaUserExt},
		"id":                   u.ID,
		"userName":             u.Email,
		"displayName":          display,
		"name":                 map[string]any{"givenName": u.FirstName, "familyName": u.LastName},
		"emails":               []map[string]any{{"value": u.Email, "primary": true, "type": "work"}},
		"active":               !u.Inactive,
		"meta":                 meta,
		identity.SchemaUserExt: ext,
	}
	if u.ExternalID != "" {
		out["externalId"] = u.ExternalID
	}
	return out
}

// scimUserSort reads sortBy and sortOrder (the document's: displayName or meta.lastLogin,
// ascending or descending; RFC 7644 §3.4.2.3).
func scimUserSort(q scimQuery) (identity.SCIMUserSort, error) {
	var s identity.SCIMUserSort
	switch q.vals["sortBy"] {
	case "":
	case "displayName":
		s.By = storage.SortDisplayName
	case "meta.lastLogin":
		s.By = storage.SortLastLogin
	default:
		return s, apperr.Invalid(apperr.SourceQuery, "sortBy", "must be displayName or meta.lastLogin")
	}
	switch q.vals["sortOrder"] {
	case "", "ascending":
	case "descending":
		s.Desc = true
	default:
		return s, apperr.Invalid(apperr.SourceQuery, "sortOrder", "must be ascending or descending")
	}
	return s, nil
}

func (a *API) scimListUsers(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	q, err := scimPage(r, "filter", "sortBy", "sortOrder")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	sort, err := scimUserSort(q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, total, err := a.Identity.ListSCIMUsers(r.Context(), c, q.vals["filter"], sort, q.page)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]map[string]any, 0, len(list))
	for i := range list {
		if !q.none {
			items = append(items, a.scimUserOut(&list[i], c.WorkspaceID))
		}
	}
	writeSCIM(w, http.StatusOK, scimList(items, q.start, total))
}

func (a *API) scimWriteUser(w http.ResponseWriter, status int, u *storage.User, ws string) {
	w.Header().Set("ETag", etag(u.Generation))
	if status == http.StatusCreated {
		w.Header().Set("Location", a.BaseURL+scimPrefix+"/Users/"+u.ID)
	}
	writeSCIM(w, status, a.scimUserOut(u, ws))
}

func (a *API) scimCreateUser(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	in, err := scimUserInput(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	u, err := a.Identity.CreateSCIMUser(r.Context(), c, in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.scimWriteUser(w, http.StatusCreated, u, c.WorkspaceID)
}

// scimUserInput reads a SCIM user create: its schemas (the core User's, with GreenLake's, the
// enterprise or the POSIX extension) and its attributes (identity.SCIMUserBody).
func scimUserInput(w http.ResponseWriter, r *http.Request) (*storage.User, error) {
	m, err := decodeSCIM(w, r)
	if err != nil {
		return nil, err
	}
	if err := scimSchemas(m, identity.SchemaUser, identity.SchemaUserExt, identity.SchemaEnterpriseUser, identity.SchemaPosixUser); err != nil {
		return nil, err
	}
	return identity.SCIMUserBody(m)
}

func (a *API) scimGetUser(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	u, err := a.Identity.GetSCIMUser(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.scimWriteUser(w, http.StatusOK, u, c.WorkspaceID)
}

func (a *API) scimPatchUser(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	ops, err := decodeSCIMPatch(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	u, err := a.Identity.PatchSCIMUser(r.Context(), c, r.PathValue("id"), ops, scimIfMatch(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.scimWriteUser(w, http.StatusOK, u, c.WorkspaceID)
}

func (a *API) scimDeleteUser(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	a.noContent(w, r, a.Identity.DeleteSCIMUser(r.Context(), c, r.PathValue("id"), scimIfMatch(r)))
}
