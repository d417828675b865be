package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/keyhold/keyhold/internal/principal"
)

// userAttributeRoutes serves a user's free attributes (keyhold extension): the attributes
// that conditions of role assignments read as subject.attributes.
func (a *API) userAttributeRoutes() {
	a.route("GET "+usersPath+"/{id}/attributes", permIdentityView, a.getUserAttributes)
	a.route("PUT "+usersPath+"/{id}/attributes", permIdentityEdit, a.putUserAttributes)
}

func (a *API) getUserAttributes(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	attrs, gen, err := a.Identity.Attributes(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeAttributes(w, attrs, gen)
}

func (a *API) putUserAttributes(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var raw json.RawMessage
	if err := decodeJSON(w, r, &raw); err != nil {
		a.writeError(w, r, err)
		return
	}
	attrs, gen, err := a.Identity.SetAttributes(r.Context(), c, r.PathValue("id"), raw, ifMatch(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeAttributes(w, attrs, gen)
}

// writeAttributes answers the attributes object, with the user's generation as ETag (for
// If-Match on the next PUT).
func writeAttributes(w http.ResponseWriter, attrs json.RawMessage, gen int64) {
	w.Header().Set("ETag", `"`+strconv.FormatInt(gen, 10)+`"`)
	writeJSON(w, http.StatusOK, attrs)
}
