package identity

import (
	"encoding/json"
	"strings"

	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// profileOf builds the directory's view of u, a member of workspaces wss (sorted). The
// properties are computed here, once per change, so that decisions read them without
// decoding or allocating.
func profileOf(u *storage.User, wss []string) *Profile {
	p := &Profile{ID: u.ID, Principal: principal.User(u.ID), Email: strings.ToLower(u.Email),
		ExternalID: u.ExternalID, Active: !u.Inactive, Workspaces: wss}
	props := map[string]any{}
	if u.Attributes != "" {
		// Stored attributes are a JSON object (the store refuses anything else); one that does
		// not decode adds nothing rather than failing the view.
		_ = json.Unmarshal([]byte(u.Attributes), &props)
		if props == nil {
			props = map[string]any{}
		}
	}
	props["id"], props["email"], props["active"] = p.ID, p.Email, p.Active
	props["externalId"], props["firstName"], props["lastName"] = u.ExternalID, u.FirstName, u.LastName
	p.Properties = props
	return p
}
