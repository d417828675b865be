package token

import (
	"net/http"

	"github.com/keyhold/keyhold/internal/principal"
)

// clientCredentials is RFC 6749 §4.4: the client authenticates and receives a token for the
// workspace its credential belongs to. keyhold defines no OAuth scopes: a well-formed scope
// parameter is accepted and nothing is granted for it, so none is echoed.
func (s *Server) clientCredentials(r *http.Request, f *form, ws string) (*tokenResponse, *oauthError) {
	if sc := f.get("scope"); sc != "" && !validScope(sc) {
		return nil, badRequest(errInvalidScope, "scope is malformed")
	}
	e, oe := s.authenticateClient(r, f, ws)
	if oe != nil {
		return nil, oe
	}
	return s.respond(&Claims{
		Subject:       principal.APIClient(e.ID),
		ClientID:      e.ID,
		WorkspaceID:   ws,
		PrincipalType: principal.TypeAPIClient,
		Generation:    e.Generation,
		ProvisionID:   e.ProvisionID,
	}, GrantClientCredentials)
}
