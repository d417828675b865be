package identity

import (
	"strings"

	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// profileOf builds the directory's view of u, a member of workspaces wss (sorted).
func profileOf(u *storage.User, wss []string) *Profile {
	p := &Profile{ID: u.ID, Principal: principal.User(u.ID), Email: strings.ToLower(u.Email), Active: true, Workspaces: wss}
	p.Properties = map[string]any{"id": p.ID, "email": p.Email, "active": p.Active}
	return p
}
