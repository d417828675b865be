package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

// validateSCIM sends each call and checks its answer against the scim document's operation.
func validateSCIM(t *testing.T, w *scimWorld, doc *openapi3.T, calls []docCall) {
	t.Helper()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			resp, body := w.do(t, c.method, c.path, c.tok, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			req, err := http.NewRequest(c.method, w.e.Base+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: openapiRoute(t, doc, c.method, c.op)},
				Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
				Options: openapiOptions(),
			}
			if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
				t.Errorf("%s %s: the answer does not match the GreenLake document: %v\nbody: %s", c.method, c.path, err, body)
			}
		})
	}
}

func TestSCIMGroupsMatchGreenLakeOpenAPI(t *testing.T) {
	doc := loadGreenLakeDoc(t, scimDoc, openapi3.DisableExamplesValidation()) // meta.version's example is a number
	w := newSCIMWorld(t)
	member := w.e.UserWithRole(t, w.ws, "")
	noRole := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, ""))
	observer := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceObserver))
	gid := w.call(t, "POST", scimGroups, w.admin, newGroup("Existing", member.UserID), http.StatusCreated)["id"].(string)
	gone := w.call(t, "POST", scimGroups, w.admin, newGroup("Gone"), http.StatusCreated)["id"].(string)
	const (
		list      = "/identity/v2beta1/scim/v2/Groups"
		one       = "/identity/v2beta1/scim/v2/Groups/{groupId}"
		groupUser = "/identity/v2beta1/scim/v2/extensions/Groups/{groupId}/users"
		userGroup = "/identity/v2beta1/scim/v2/extensions/Users/{userId}/groups"
	)
	g := scimGroups + "/" + gid
	validateSCIM(t, w, doc, []docCall{
		{"list", list, "GET", scimGroups, observer, nil, 200},
		{"list filtered", list, "GET", scimGroups + filterQ(`displayName sw "Ex"`) + "&count=1&startIndex=1", w.admin, nil, 200},
		{"list by source", list, "GET", scimGroups + filterQ(`urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Group:source eq "Local"`), w.admin, nil, 200},
		{"list, bad filter", list, "GET", scimGroups + filterQ(`displayName zz "x"`), w.admin, nil, 400},
		{"list, no token", list, "GET", scimGroups, "", nil, 401},
		{"list, no role", list, "GET", scimGroups, noRole, nil, 403},
		{"create", list, "POST", scimGroups, w.admin, newGroup("New", member.UserID), 201},
		{"create, no name", list, "POST", scimGroups, w.admin, map[string]any{"schemas": []string{groupURN}}, 400},
		{"create, observer", list, "POST", scimGroups, observer, newGroup("Nope"), 403},
		{"create, taken", list, "POST", scimGroups, w.admin, newGroup("Existing"), 409},
		{"get", one, "GET", g, observer, nil, 200},
		{"get, unknown", one, "GET", scimGroups + "/" + ids.New(), w.admin, nil, 404},
		{"get, another workspace", one, "GET", g, w.otherAdmin, nil, 404},
		{"patch", one, "PATCH", g, w.admin, patch(op("replace", "displayName", "Renamed"), op("add", "members", refs(member.UserID))), 200},
		{"patch, bad path", one, "PATCH", g, w.admin, patch(op("replace", "nope", "x")), 400},
		{"patch, observer", one, "PATCH", g, observer, patch(op("replace", "displayName", "x")), 403},
		{"patch, unknown", one, "PATCH", scimGroups + "/" + ids.New(), w.admin, patch(op("replace", "displayName", "x")), 404},
		{"members", groupUser, "GET", scimBase + "/extensions/Groups/" + gid + "/users?count=10", observer, nil, 200},
		{"members, unknown group", groupUser, "GET", scimBase + "/extensions/Groups/" + ids.New() + "/users", w.admin, nil, 404},
		{"groups of a user", userGroup, "GET", scimBase + "/extensions/Users/" + member.UserID + "/groups", observer, nil, 200},
		{"groups of an unknown user", userGroup, "GET", scimBase + "/extensions/Users/" + ids.New() + "/groups", w.admin, nil, 404},
		{"delete", one, "DELETE", scimGroups + "/" + gone, w.admin, nil, 204},
		{"delete, deleted", one, "DELETE", scimGroups + "/" + gone, w.admin, nil, 404},
		{"delete, observer", one, "DELETE", g, observer, nil, 403},
	})
}
