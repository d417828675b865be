package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
)

// Path prefixes of the authorization API versions keyhold serves.
const (
	authzV2alpha2 = "/authorization/v2alpha2"
	authzV1beta1  = "/authorization/v1beta1"
)

// Permissions of keyhold's own endpoints for the IAM API. The route guard checks them on the
// caller's workspace; provider, resource type, permission and predefined-role writes are
// checked again on the platform scope grn:glp by rbac.Manager.
const (
	permAuthzView      = "glp.authorization.view"
	permAuthzEdit      = "glp.authorization.edit"
	permAuthzDelete    = "glp.authorization.delete"
	permIdentityView   = "glp.identity.view"
	permIdentityEdit   = "glp.identity.edit"
	permIdentityDelete = "glp.identity.delete"
	permProviderEdit   = "glp.resource-provider.edit"
	permProviderDelete = "glp.resource-provider.delete"
)

// iamRoutes registers the authorization management API (both versions), the users and user
// groups API, and the decision endpoints for other services.
func (a *API) iamRoutes() {
	a.providerRoutes()
	a.roleRoutes()
	a.assignmentRoutes(authzV2alpha2, "subject")
	a.assignmentRoutes(authzV1beta1, "principal")
	a.scopeGroupRoutes(authzV2alpha2)
	a.scopeGroupRoutes(authzV1beta1)
	a.userRoutes()
	a.userAttributeRoutes()
	a.userGroupRoutes()
	a.scimRoutes()
	a.scimUserRoutes()
	a.authzenRoutes()
}

// authedRoute registers a JSON API route that requires a valid bearer token and leaves the
// authorization to the handler (a decision request names the workspaces it asks about).
func (a *API) authedRoute(pattern string, h callerHandler) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authenticate(w, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		h(w, r, c)
	})
}

// writeVersionedError writes err for a route under base. GreenLake's v1beta1 document lists
// only field, header and query.parameter as issue sources, so there a malformed id in the
// path is reported as the field "id" (which the PUT body repeats).
func (a *API) writeVersionedError(w http.ResponseWriter, r *http.Request, base string, err error) {
	if strings.HasPrefix(base, authzV1beta1) {
		if e := apperr.As(err); len(e.Issues) > 0 {
			c := *e
			c.Issues = slices.Clone(e.Issues)
			for i := range c.Issues {
				if c.Issues[i].Source == apperr.SourcePath {
					c.Issues[i].Source = apperr.SourceField
				}
			}
			err = &c
		}
	}
	a.writeError(w, r, err)
}
