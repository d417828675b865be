package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// TestWorkspaceContact: GET /workspaces/v1/workspaces/{id}/contact as the workspace document
// defines it, and keyhold's PUT on the same path: who reads and sets what, bad input naming
// the field with nothing changed, one audit record per change. GET answers are validated
// against the operation; PUT, which the document does not have, against its
// NBContactWorkspace and StandardErrorResponse schemas; the 400 of GET (a malformed id),
// which the operation does not list, against StandardErrorResponse.
func TestWorkspaceContact(t *testing.T) {
	doc := oamLoad(t, oamWorkspaceDoc)
	e := apptest.Start(t, app.Config{})
	msp := e.CreateWorkspace(t, "Contact MSP", storage.WorkspaceMSP, "contact-msp@example.test")
	tok := e.Token(t, msp.WorkspaceID, msp.ClientID, msp.ClientSecret)
	obsTok := e.TokenFor(t, e.UserWithRole(t, msp.WorkspaceID, rbac.RoleWorkspaceObserver))
	noRoleTok := e.TokenFor(t, e.UserWithRole(t, msp.WorkspaceID, ""))
	tenant := oamCreate(t, e, tok, "/workspaces/v1/msp-tenants", map[string]any{"workspaceName": "Contact Tenant",
		"description": "kept", "email": "tenant@example.test", "address": map[string]string{"countryCode": "FR", "city": "Lyon"}})
	otherTok := e.AdminToken(t)
	const op = "/workspaces/v1/workspaces/{workspaceId}/contact"
	path := func(id string) string { return "/workspaces/v1/workspaces/" + id + "/contact" }
	full := map[string]any{"email": "ops@msp.example", "phoneNumber": "+1 555 0100",
		"address": map[string]string{"streetAddress": "1 Main St", "streetAddressComplement": "Suite 5", "city": "Austin",
			"stateOrRegion": "TX", "zip": "78701", "countryCode": "US"}}
	type call struct {
		name, method, path, tok string
		body                    any
		status                  int
		field                   string
	}
	calls := []call{
		{"get own, nothing set", "GET", path(msp.WorkspaceID), tok, nil, 200, ""},
		{"set own", "PUT", path(msp.WorkspaceID), tok, full, 200, ""},
		{"get own", "GET", path(ids.Hex(msp.WorkspaceID)), obsTok, nil, 200, ""},
		{"get a tenant's", "GET", path(tenant), tok, nil, 200, ""},
		{"set, bad email", "PUT", path(msp.WorkspaceID), tok, map[string]any{"email": "not an email"}, 400, "email"},
		{"set, bad country", "PUT", path(msp.WorkspaceID), tok, map[string]any{"address": map[string]string{"countryCode": "usa"}}, 400, "address.countryCode"},
		{"set, long zip", "PUT", path(msp.WorkspaceID), tok, map[string]any{"address": map[string]string{"zip": "12345678901"}}, 400, "address.zip"},
		{"set, control character", "PUT", path(msp.WorkspaceID), tok, map[string]any{"phoneNumber": "1\u0000"}, 400, "phoneNumber"},
		{"set, unknown address member", "PUT", path(msp.WorkspaceID), tok, map[string]any{"address": map[string]string{"planet": "Earth"}}, 400, "planet"},
		{"set, unknown member", "PUT", path(msp.WorkspaceID), tok, map[string]any{"fax": "1"}, 400, "fax"},
		{"set, address not an object", "PUT", path(msp.WorkspaceID), tok, map[string]any{"address": "Austin"}, 400, "address"},
		{"get, bad id", "GET", path("nope"), tok, nil, 400, "workspaceId"},
		{"set, bad id", "PUT", path("nope"), tok, full, 400, "workspaceId"},
		{"get, no token", "GET", path(msp.WorkspaceID), "", nil, 401, ""},
		{"set, no token", "PUT", path(msp.WorkspaceID), "", full, 401, ""},
		{"get, no role", "GET", path(msp.WorkspaceID), noRoleTok, nil, 403, ""},
		{"set, observer", "PUT", path(msp.WorkspaceID), obsTok, full, 403, ""},
		{"set a tenant's", "PUT", path(tenant), tok, full, 403, ""},
		{"get another workspace's", "GET", path(e.Admin.WorkspaceID), tok, nil, 404, ""},
		{"set another workspace's", "PUT", path(e.Admin.WorkspaceID), tok, full, 404, ""},
		{"another workspace gets this one's", "GET", path(msp.WorkspaceID), otherTok, nil, 404, ""},
		{"get an unknown workspace", "GET", path(ids.New()), tok, nil, 404, ""},
	}
	contactSchema := doc.Components.Schemas["NBContactWorkspace"].Value
	errSchema := doc.Components.Schemas["StandardErrorResponse"].Value
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			var before []byte
			if c.method == "PUT" && c.status != 200 {
				_, before = e.Do(t, "GET", path(msp.WorkspaceID), tok, nil)
			}
			audits := auditTotal(t, e)
			resp, body := e.Do(t, c.method, c.path, c.tok, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			checkAudited(t, e, c.method, c.path, resp, body, audits)
			switch {
			case c.method == "GET" && c.status != 400:
				oamValidate(t, doc, oamWorkspaceDoc, "GET", op, c.path, resp, body, e.Base)
			default:
				var v any
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatalf("not JSON: %s", body)
				}
				schema := errSchema
				if c.status == 200 {
					schema = contactSchema
				}
				opts := append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, oamOptions().SchemaValidationOptions...)
				if err := schema.VisitJSON(v, opts...); err != nil {
					t.Errorf("%s %s: %v\n%s", c.method, c.path, err, body)
				}
			}
			if c.field != "" {
				src := "field"
				if c.field == "workspaceId" {
					src = "path.parameter"
				}
				oamWantIssue(t, c.name, body, src, c.field)
			}
			if before != nil {
				if _, after := e.Do(t, "GET", path(msp.WorkspaceID), tok, nil); string(after) != string(before) {
					t.Errorf("a refused PUT changed the contact:\n%s\n%s", before, after)
				}
			}
		})
	}
	var got struct {
		Email, PhoneNumber, ResourceURI string
		Address                         map[string]string
	}
	_, body := e.Do(t, "GET", path(msp.WorkspaceID), tok, nil)
	_ = json.Unmarshal(body, &got)
	if got.Email != "ops@msp.example" || got.PhoneNumber != "+1 555 0100" || got.Address["city"] != "Austin" ||
		got.Address["streetAddressComplement"] != "Suite 5" || got.ResourceURI != path(msp.WorkspaceID) {
		t.Errorf("the contact set: %s", body)
	}
	_, body = e.Do(t, "GET", path(tenant), tok, nil)
	if !strings.Contains(string(body), `"email":"tenant@example.test"`) || !strings.Contains(string(body), `"city":"Lyon"`) {
		t.Errorf("a tenant's contact: %s", body)
	}
	// PUT replaces: absent fields are cleared; the workspace's name stays.
	resp, body := e.Do(t, "PUT", path(msp.WorkspaceID), tok, map[string]any{"email": "only@msp.example"})
	if resp.StatusCode != 200 || strings.Contains(string(body), "phoneNumber") || strings.Contains(string(body), "address") {
		t.Errorf("replacing the contact: %d %s", resp.StatusCode, body)
	}
	_, body = e.Do(t, "GET", "/workspaces/v1/workspaces/"+msp.WorkspaceID, tok, nil)
	if !strings.Contains(string(body), `"workspaceName":"Contact MSP"`) {
		t.Errorf("the workspace after its contact changed: %s", body)
	}
	// The MSP's tenant update keeps working beside it, and the tenant's description stays.
	_, body = e.Do(t, "GET", "/workspaces/v1/msp-tenants?filter=id%20eq%20'"+tenant+"'", tok, nil)
	if !strings.Contains(string(body), `"description":"kept"`) {
		t.Errorf("tenant details: %s", body)
	}
}
