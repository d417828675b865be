package httpapi

import (
	"net/http"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// scimGroupOut is a user group as a SCIM Group with GreenLake's extension. Its members are
// listed by the extensions/Groups/{id}/users endpoint, as GreenLake's document has it.
func (a *API) scimGroupOut(g *storage.UserGroup) map[string]any {
	out := map[string]any{
		"schemas":     []string{identity.SchemaGroup, identity.SchemaGroupExt},
		"id":          g.ID,
		"displayName": g.Name,
		"meta":        a.scimMeta("Group", "/Groups", g.ID, timestamp(g.CreatedAt), timestamp(g.UpdatedAt), g.Generation),
		identity.SchemaGroupExt: map[string]any{
			"groupDescription": g.Description,
			"source":           sourceOf(g.Source),
			"sourceInstance":   g.WorkspaceID,
			"hpe_principal":    principal.Group(g.ID),
		},
	}
	if g.ExternalID != "" {
		out["externalId"] = g.ExternalID
	}
	return out
}

func (a *API) scimListGroups(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	q, err := scimPage(r, "filter")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, total, err := a.Identity.ListSCIMGroups(r.Context(), c, q.vals["filter"], q.page)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]map[string]any, 0, len(list))
	for i := range list {
		if !q.none {
			items = append(items, a.scimGroupOut(&list[i]))
		}
	}
	writeSCIM(w, http.StatusOK, scimList(items, q.start, total))
}

func (a *API) scimWriteGroup(w http.ResponseWriter, status int, g *storage.UserGroup) {
	w.Header().Set("ETag", etag(g.Generation))
	if status == http.StatusCreated {
		w.Header().Set("Location", a.BaseURL+scimPrefix+"/Groups/"+g.ID)
	}
	writeSCIM(w, status, a.scimGroupOut(g))
}

func (a *API) scimCreateGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	in, err := scimGroupInput(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	g, err := a.Identity.CreateSCIMGroup(r.Context(), c, in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.scimWriteGroup(w, http.StatusCreated, g)
}

// scimGroupInput reads a SCIM group create: displayName (required), externalId, members and
// GreenLake's groupDescription. Other attributes are ignored, the read-only ones (id, meta)
// as RFC 7643 says; unknown ones so that identity providers' extra attributes do no harm.
func scimGroupInput(w http.ResponseWriter, r *http.Request) (identity.SCIMGroupInput, error) {
	var in identity.SCIMGroupInput
	m, err := decodeSCIM(w, r)
	if err != nil {
		return in, err
	}
	if err := scimSchemas(m, identity.SchemaGroup, identity.SchemaGroupExt); err != nil {
		return in, err
	}
	name, ok, err := scimString(m, "displayname", "displayName")
	if err != nil {
		return in, err
	}
	if !ok {
		return in, apperr.Field("displayName", "is required")
	}
	in.Name = name
	if in.ExternalID, _, err = scimString(m, "externalid", "externalId"); err != nil {
		return in, err
	}
	if v, ok := m["members"]; ok && string(v) != "null" {
		if in.Members, err = identity.MemberIDs("members", v); err != nil {
			return in, err
		}
	}
	if v, ok := m[lower(identity.SchemaGroupExt)]; ok {
		ext, err := identity.ObjectValue(identity.SchemaGroupExt, v)
		if err != nil {
			return in, err
		}
		if in.Description, _, err = scimString(ext, "groupdescription", identity.SchemaGroupExt+".groupDescription"); err != nil {
			return in, err
		}
	}
	return in, nil
}

func (a *API) scimGetGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	g, err := a.Identity.GetSCIMGroup(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.scimWriteGroup(w, http.StatusOK, g)
}

func (a *API) scimPatchGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	ops, err := decodeSCIMPatch(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	g, err := a.Identity.PatchSCIMGroup(r.Context(), c, r.PathValue("id"), ops, scimIfMatch(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.scimWriteGroup(w, http.StatusOK, g)
}

func (a *API) scimDeleteGroup(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	a.noContent(w, r, a.Identity.DeleteSCIMGroup(r.Context(), c, r.PathValue("id"), scimIfMatch(r)))
}

func (a *API) scimGroupUsers(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	q, err := scimPage(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, total, err := a.Identity.SCIMGroupMembers(r.Context(), c, r.PathValue("id"), q.page)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]map[string]any, 0, len(list))
	for i := range list {
		if !q.none {
			items = append(items, a.scimUserOut(&list[i].User, c.WorkspaceID))
		}
	}
	writeSCIM(w, http.StatusOK, scimList(items, q.start, total))
}

func (a *API) scimUserGroups(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	q, err := scimPage(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, err := a.Identity.GroupsOfUser(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	total := len(list)
	lo := min(q.page.Offset, total)
	hi := min(lo+q.page.Limit, total)
	items := make([]map[string]any, 0, hi-lo)
	for i := lo; i < hi && !q.none; i++ {
		items = append(items, a.scimGroupOut(&list[i]))
	}
	writeSCIM(w, http.StatusOK, scimList(items, q.start, total))
}
