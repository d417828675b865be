package httpapi

import (
	"net/http"
	"strconv"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

const usersPath = "/identity/v1/users"

func (a *API) userRoutes() {
	a.route("GET "+usersPath, permIdentityView, a.listUsers)
	a.route("POST "+usersPath, permIdentityEdit, a.inviteUser)
	a.route("GET "+usersPath+"/{id}", permIdentityView, a.getUser)
	a.route("DELETE "+usersPath+"/{id}", permIdentityDelete, a.deleteUser)
	a.routeAuthenticated("PUT "+usersPath+"/{id}", a.updateUser)
}

// userJSON is the document's NBUser, plus keyhold's idleTimeout and language (the
// preferences PUT sets, defaults filled in). lastLogin is absent for a user whose credentials
// never obtained a token.
type userJSON struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Username    string `json:"username"`
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	UserStatus  string `json:"userStatus"`
	LastLogin   string `json:"lastLogin,omitempty"`
	IdleTimeout int    `json:"idleTimeout"`
	Language    string `json:"language"`
	Generation  int64  `json:"generation"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
	ResourceURI string `json:"resourceUri"`
}

func userOut(u *storage.User) userJSON {
	out := userJSON{ID: u.ID, Type: "user", Username: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		UserStatus: identity.UserStatus, Generation: u.Generation,
		CreatedAt: timestamp(u.CreatedAt), UpdatedAt: timestamp(u.UpdatedAt), ResourceURI: usersPath + "/" + u.ID}
	out.IdleTimeout, out.Language = identity.Preferences(u)
	if !u.LastLogin.IsZero() {
		out.LastLogin = timestamp(u.LastLogin)
	}
	return out
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, q, err := listQuery(r, pagingUsers, "filter")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, total, err := a.Identity.ListUsers(r.Context(), c, q.Get("filter"), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]userJSON, 0, len(list))
	for i := range list {
		items = append(items, userOut(&list[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, total))
}

// inviteBody is GreenLake's invitation. keyhold sends no email: sendWelcomeEmail is accepted
// and ignored.
type inviteBody struct {
	Email            *string `json:"email"`
	SendWelcomeEmail *bool   `json:"sendWelcomeEmail"`
}

func (a *API) inviteUser(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b inviteBody
	if err := decodeJSON(w, r, &b); err != nil {
		a.writeError(w, r, err)
		return
	}
	if b.Email == nil {
		a.writeError(w, r, apperr.Field("email", "is required"))
		return
	}
	u, err := a.Identity.InviteUser(r.Context(), c, *b.Email)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+usersPath+"/"+u.ID)
	writeJSON(w, http.StatusCreated, map[string]string{"message": "the user was added to the workspace", "id": u.ID})
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	u, err := a.Identity.GetUser(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userOut(u))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	a.noContent(w, r, a.Identity.RemoveUser(r.Context(), c, r.PathValue("id")))
}

// userUpdateBody is the document's NBUserPreferences (idleTimeout, language) plus keyhold's
// firstName and lastName; absent fields are kept.
type userUpdateBody struct {
	IdleTimeout *int    `json:"idleTimeout"`
	Language    *string `json:"language"`
	FirstName   *string `json:"firstName"`
	LastName    *string `json:"lastName"`
}

// updateUser is PUT /identity/v1/users/{id}: the caller changes its own preferences, or,
// with glp.identity.edit, a member's names and preferences (identity.UpdateProfile). If-Match
// with the user's generation makes it conditional.
func (a *API) updateUser(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b userUpdateBody
	if err := decodeJSON(w, r, &b); err != nil {
		a.writeError(w, r, err)
		return
	}
	in := identity.ProfileInput{FirstName: b.FirstName, LastName: b.LastName, IdleTimeout: b.IdleTimeout, Language: b.Language}
	if v := ifMatch(r); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			a.writeError(w, r, apperr.Invalid(apperr.SourceHdr, "If-Match", "must be the user's generation, such as \"3\""))
			return
		}
		in.IfGeneration = n
	}
	u, err := a.Identity.UpdateProfile(r.Context(), c, r.PathValue("id"), a.allowedHere(c, permIdentityEdit), in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+strconv.FormatInt(u.Generation, 10)+`"`)
	writeJSON(w, http.StatusOK, map[string]string{"message": "the user was updated"})
}
