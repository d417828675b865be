package httpapi

import (
	"net/http"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// userGroupsPath is keyhold's own endpoint for user groups (GreenLake manages them through
// SCIM, which keyhold does not serve yet).
const userGroupsPath = "/identity/v1/user-groups"

func (a *API) userGroupRoutes() {
	const one = userGroupsPath + "/{id}"
	a.route("GET "+userGroupsPath, permIdentityView, a.listUserGroups)
	a.route("POST "+userGroupsPath, permIdentityEdit, a.createUserGroup)
	a.route("GET "+one, permIdentityView, a.getUserGroup)
	a.route("PUT "+one, permIdentityEdit, a.updateUserGroup)
	a.route("DELETE "+one, permIdentityDelete, a.deleteUserGroup)
	a.route("GET "+one+"/members", permIdentityView, a.listGroupMembers)
	a.route("POST "+one+"/members", permIdentityEdit, a.addGroupMember)
	a.route("DELETE "+one+"/members/{userId}", permIdentityEdit, a.removeGroupMember)
}

type userGroupJSON struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Principal   string `json:"principal"`
	Generation  int64  `json:"generation"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

func userGroupOut(g *storage.UserGroup) userGroupJSON {
	return userGroupJSON{ID: g.ID, Type: "identity/user-group", Name: g.Name, Description: g.Description,
		Principal: principal.Group(g.ID), Generation: g.Generation, CreatedAt: timestamp(g.CreatedAt), UpdatedAt: timestamp(g.UpdatedAt)}
}

type userGroupBody struct {
	ID          *string `json:"id"`
	Name        *string `json:"name"`
	Description string  `json:"description"`
}

func (b *userGroupBody) input(pathID string) (identity.GroupInput, error) {
	in := identity.GroupInput{Description: b.Description}
	switch {
	case b.ID != nil && (pathID == "" || !sameID(*b.ID, pathID)):
		return in, apperr.Field("id", "is assigned by the server and must match the path on update")
	case b.Name == nil:
		return in, apperr.Field("name", "is required")
	}
	in.Name = *b.Name
	return in, nil
}

type memberJSON struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Username string `json:"username"`
	AddedAt  string `json:"addedAt"`
}

func memberOut(m *identity.Member) memberJSON {
	return memberJSON{ID: m.User.ID, Type: "user", Username: m.User.Email, AddedAt: timestamp(m.Membership.CreatedAt)}
}

func (a *API) listUserGroups(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, _, err := listQuery(r, pagingStandard)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, total, err := a.Identity.ListGroups(r.Context(), c, p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]userGroupJSON, 0, len(list))
	for i := range list {
		items = append(items, userGroupOut(&list[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, total))
}

func (a *API) createUserGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b userGroupBody
	in, err := decodeInput(w, r, &b, func() (identity.GroupInput, error) { return b.input("") })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	g, err := a.Identity.CreateGroup(r.Context(), c, in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+userGroupsPath+"/"+g.ID)
	writeJSON(w, http.StatusCreated, userGroupOut(g))
}

func (a *API) getUserGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	g, err := a.Identity.GetGroup(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userGroupOut(g))
}

func (a *API) updateUserGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b userGroupBody
	in, err := decodeInput(w, r, &b, func() (identity.GroupInput, error) { return b.input(r.PathValue("id")) })
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	g, err := a.Identity.UpdateGroup(r.Context(), c, r.PathValue("id"), in, ifMatch(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userGroupOut(g))
}

func (a *API) deleteUserGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	a.noContent(w, r, a.Identity.DeleteGroup(r.Context(), c, r.PathValue("id"), ifMatch(r)))
}

func (a *API) listGroupMembers(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, _, err := listQuery(r, pagingStandard)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, total, err := a.Identity.ListGroupMembers(r.Context(), c, r.PathValue("id"), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]memberJSON, 0, len(list))
	for i := range list {
		items = append(items, memberOut(&list[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, total))
}

func (a *API) addGroupMember(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b struct {
		UserID *string `json:"userId"`
	}
	if err := decodeJSON(w, r, &b); err != nil {
		a.writeError(w, r, err)
		return
	}
	if b.UserID == nil {
		a.writeError(w, r, apperr.Field("userId", "is required"))
		return
	}
	m, err := a.Identity.AddGroupMember(r.Context(), c, r.PathValue("id"), *b.UserID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+userGroupsPath+"/"+m.Membership.GroupID+"/members/"+m.User.ID)
	writeJSON(w, http.StatusCreated, memberOut(m))
}

func (a *API) removeGroupMember(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	a.noContent(w, r, a.Identity.RemoveGroupMember(r.Context(), c, r.PathValue("id"), r.PathValue("userId")))
}
