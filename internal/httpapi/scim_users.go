package httpapi

import (
	"strings"

	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

func lower(s string) string { return strings.ToLower(s) }

// scimUserOut is a user as a SCIM User with GreenLake's extension; ws is the workspace
// asking (the user's source instance when keyhold manages it).
func (a *API) scimUserOut(u *storage.User, ws string) map[string]any {
	return map[string]any{
		"schemas":     []string{identity.SchemaUser, identity.SchemaUserExt},
		"id":          u.ID,
		"userName":    u.Email,
		"displayName": u.Email,
		"name":        map[string]any{"givenName": "", "familyName": ""},
		"emails":      []map[string]any{{"value": u.Email, "primary": true, "type": "work"}},
		"active":      true,
		"meta":        a.scimMeta("User", "/Users", u.ID, timestamp(u.CreatedAt), timestamp(u.UpdatedAt), u.Generation),
		identity.SchemaUserExt: map[string]any{
			"countryCode":          "",
			"primaryEmailVerified": true,
			"status":               "ACTIVE",
			"source":               storage.SourceLocal,
			"sourceInstance":       ws,
			"hpe_principal":        principal.User(u.ID),
		},
	}
}
