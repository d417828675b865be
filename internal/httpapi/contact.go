package httpapi

import (
	"net/http"

	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/workspace"
)

// contactPath is a workspace's contact details: GET as GreenLake's workspace document
// defines it, PUT keyhold's way to set them.
const contactPath = "/workspaces/v1/workspaces/{id}/contact"

func (a *API) contactRoutes() {
	a.route("GET "+contactPath, "glp.workspace.view", a.getContact)
	a.route("PUT "+contactPath, "glp.workspace.edit", a.putContact)
}

// contactJSON is the document's NBContactWorkspace.
type contactJSON struct {
	Email       string             `json:"email,omitempty"`
	PhoneNumber string             `json:"phoneNumber,omitempty"`
	Address     *workspace.Address `json:"address,omitempty"`
	ResourceURI string             `json:"resourceUri"`
}

func contactOut(id string, c workspace.Contact) contactJSON {
	return contactJSON{Email: c.Email, PhoneNumber: c.PhoneNumber, Address: c.Address, ResourceURI: workspaceURI(id) + "/contact"}
}

func (a *API) getContact(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	ws, contact, err := a.WorkspaceService.Contact(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, contactOut(ws.ID, contact))
}

// contactBody is PUT's body: the fields GET serves (resourceUri, when sent, is ignored).
type contactBody struct {
	Email       string             `json:"email"`
	PhoneNumber string             `json:"phoneNumber"`
	Address     *workspace.Address `json:"address"`
	ResourceURI string             `json:"resourceUri"`
}

// putContact replaces the caller's own workspace's contact details and answers them as GET
// does, with the workspace's new generation in ETag.
func (a *API) putContact(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b contactBody
	if err := decodeJSON(w, r, &b); err != nil {
		a.writeError(w, r, err)
		return
	}
	in := workspace.Contact{Email: b.Email, PhoneNumber: b.PhoneNumber, Address: b.Address}
	ws, err := a.WorkspaceService.SetContact(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	_, contact, err := a.WorkspaceService.Contact(r.Context(), c, ws.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, contactOut(ws.ID, contact))
}
