package httpapi

import (
	"net/http"

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
}

type userJSON struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Username    string `json:"username"`
	UserStatus  string `json:"userStatus"`
	Generation  int64  `json:"generation"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
	ResourceURI string `json:"resourceUri"`
}

func userOut(u *storage.User) userJSON {
	return userJSON{ID: u.ID, Type: "user", Username: u.Email, UserStatus: identity.UserStatus, Generation: u.Generation,
		CreatedAt: timestamp(u.CreatedAt), UpdatedAt: timestamp(u.UpdatedAt), ResourceURI: usersPath + "/" + u.ID}
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
