package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

// openAPIDir finds the vendored GreenLake OpenAPI documents: $KEYHOLD_OPENAPI_DIR, or a
// shared/greenlake-openapi directory beside the repository (or any directory above the
// test's working directory). Without them the test fails in CI and is skipped elsewhere.
func openAPIDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("KEYHOLD_OPENAPI_DIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "credentials.json")); err != nil {
			t.Fatalf("KEYHOLD_OPENAPI_DIR=%s: %v", d, err)
		}
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		d := filepath.Join(dir, "shared", "greenlake-openapi")
		if _, err := os.Stat(filepath.Join(d, "credentials.json")); err == nil {
			return d
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("the GreenLake OpenAPI documents were not found above %s; set KEYHOLD_OPENAPI_DIR", wd)
	}
	t.Skipf("the GreenLake OpenAPI documents were not found above %s; set KEYHOLD_OPENAPI_DIR", wd)
	return ""
}

// loadCredentialsDoc loads credentials.json strictly: the document is OpenAPI 3.1 and
// kin-openapi loads and validates it (examples included) without relaxing any option. Its
// quirks do not get in the way of validating keyhold's responses against its schemas:
//   - its servers entry is the GreenLake host, so operations are found by path and method
//     (openapiRoute) rather than through a router matching the request URL;
//   - its error examples carry httpStatusCode values that differ from their status and spell
//     the 404 code two ways; examples are not what responses are checked against, and the
//     error schema only requires the four fields with their types;
//   - its timestamps are zone-less in examples; the schema types them as plain strings, so
//     keyhold's RFC 3339 UTC form validates (credentials_test.go checks that form itself);
//   - format "uuid" is an annotation unless a validator is registered: openapiOptions
//     registers one, so ids are checked as UUIDs.
func loadCredentialsDoc(t *testing.T) *openapi3.T {
	t.Helper()
	path := filepath.Join(openAPIDir(t), "credentials.json")
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("%s does not validate: %v", path, err)
	}
	return doc
}

func openapiRoute(t *testing.T, doc *openapi3.T, method, path string) *routers.Route {
	t.Helper()
	item := doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("the document has no operation %s %s", method, path)
	}
	return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: item.GetOperation(method)}
}

func openapiOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus: true, // a status the operation does not document is a failure
		MultiError:            true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
		},
	}
}

func TestResponsesMatchGreenLakeOpenAPI(t *testing.T) {
	doc := loadCredentialsDoc(t)
	e := apptest.Start(t, app.Config{MaxCredentialsPerOwner: 3})
	tok := e.AdminToken(t)
	obs := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceObserver)
	obsTok := e.TokenFor(t, obs)
	member := e.UserWithRole(t, e.Admin.WorkspaceID, "")
	memberTok := e.TokenFor(t, member)
	existing := createCred(t, e, tok, map[string]string{"credentialName": "existing"})
	msp, tenant := mspWithTenant(t, e, "Managed Services Ltd", "Acme Tenant")
	mspTok := e.Token(t, msp.WorkspaceID, msp.ClientID, msp.ClientSecret)

	const (
		list   = "/workspaces/v1/credentials"
		one    = "/workspaces/v1/credentials/{credentialId}"
		resetP = "/workspaces/v1/credentials/{credentialId}/reset"
	)
	type call struct {
		name       string
		op, method string // the documented operation
		path       string // the request path
		tok        string
		body       any
		status     int
	}
	calls := []call{
		{"list", list, http.MethodGet, credsPath, tok, nil, 200},
		{"list filtered", list, http.MethodGet, credsPath + "?filter=tenantId%20eq%20%27" + ids.New() + "%27", tok, nil, 200},
		{"list as observer", list, http.MethodGet, credsPath, obsTok, nil, 200},
		{"create", list, http.MethodPost, credsPath, tok, map[string]string{"credentialName": "validated"}, 201},
		{"create for a tenant", list, http.MethodPost, credsPath, mspTok, map[string]any{"credentialName": "tenant",
			"associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + tenant.ID}}, 201},
		{"list a tenant's", list, http.MethodGet, credsPath + "?filter=tenantId%20eq%20%27" + tenant.ID + "%27", mspTok, nil, 200},
		{"reset", resetP, http.MethodPost, credsPath + "/" + existing.ID + "/reset", tok, nil, 200},
		{"delete", one, http.MethodDelete, credsPath + "/" + existing.ID, tok, nil, 204},

		{"list, bad filter", list, http.MethodGet, credsPath + "?filter=nope%20eq%201", tok, nil, 400},
		{"create, bad body", list, http.MethodPost, credsPath, tok, `{"credentialName": 5}`, 400},
		{"create, bad tenant", list, http.MethodPost, credsPath, tok, map[string]any{"credentialName": "t",
			"associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + ids.New()}}, 400},
		{"reset, bad id", resetP, http.MethodPost, credsPath + "/not-a-uuid/reset", tok, nil, 400},
		{"delete, bad id", one, http.MethodDelete, credsPath + "/not-a-uuid", tok, nil, 400},

		{"list, no token", list, http.MethodGet, credsPath, "", nil, 401},
		{"create, bad token", list, http.MethodPost, credsPath, "not-a-token", map[string]string{"credentialName": "x"}, 401},
		{"reset, no token", resetP, http.MethodPost, credsPath + "/" + e.Admin.ClientID + "/reset", "", nil, 401},
		{"delete, no token", one, http.MethodDelete, credsPath + "/" + e.Admin.ClientID, "", nil, 401},

		{"list, no role", list, http.MethodGet, credsPath, memberTok, nil, 403},
		{"create, observer", list, http.MethodPost, credsPath, obsTok, map[string]string{"credentialName": "x"}, 403},
		{"reset, observer", resetP, http.MethodPost, credsPath + "/" + obs.ClientID + "/reset", obsTok, nil, 403},
		{"delete, observer", one, http.MethodDelete, credsPath + "/" + obs.ClientID, obsTok, nil, 403},

		{"reset, unknown id", resetP, http.MethodPost, credsPath + "/" + ids.New() + "/reset", tok, nil, 404},
		{"delete, unknown id", one, http.MethodDelete, credsPath + "/" + ids.New(), tok, nil, 404},
		{"delete, deleted", one, http.MethodDelete, credsPath + "/" + existing.ID, tok, nil, 404},

		{"create, duplicate name", list, http.MethodPost, credsPath, tok, map[string]string{"credentialName": "validated"}, 409},
		{"create, past the limit", list, http.MethodPost, credsPath, tok, map[string]string{"credentialName": "one too many"}, 409},
	}
	// Fill the administrator up to the limit (bootstrap + validated + this one) before the last call.
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "create, past the limit" {
				createCred(t, e, tok, map[string]string{"credentialName": "filler"})
			}
			before := auditTotal(t, e)
			resp, body := e.Do(t, c.method, c.path, c.tok, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			checkAudited(t, e, c.method, c.path, resp, body, before)
			req, err := http.NewRequest(c.method, e.Base+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: openapiRoute(t, doc, c.method, c.op)},
				Status:                 resp.StatusCode,
				Header:                 resp.Header,
				Body:                   io.NopCloser(bytes.NewReader(body)),
				Options:                openapiOptions(),
			}
			if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
				t.Errorf("%s %s: the response does not match the GreenLake document: %v\nbody: %s", c.method, c.path, err, body)
			}
			if c.status == http.StatusNoContent && len(body) != 0 {
				t.Errorf("204 with a body: %q", body)
			}
		})
	}
}

// TestOpenAPIValidatorCatchesMismatches makes sure the validation above has teeth: bodies
// that break the documented schemas are refused.
func TestOpenAPIValidatorCatchesMismatches(t *testing.T) {
	doc := loadCredentialsDoc(t)
	id := ids.New()
	for _, tc := range []struct {
		name, op, method string
		status           int
		body             string
	}{
		{"list without count", "/workspaces/v1/credentials", http.MethodGet, 200, `{"items": []}`},
		{"credential with a numeric generation string", "/workspaces/v1/credentials", http.MethodPost, 201,
			`{"id":"` + id + `","clientId":"` + id + `","clientSecret":"s","credentialName":"n","type":"credentials","generation":"1","createdAt":"x","updatedAt":"x"}`},
		{"created credential without its secret", "/workspaces/v1/credentials", http.MethodPost, 201,
			`{"id":"` + id + `","clientId":"` + id + `","credentialName":"n","type":"credentials","generation":1,"createdAt":"x","updatedAt":"x"}`},
		{"id not a UUID", "/workspaces/v1/credentials/{credentialId}/reset", http.MethodPost, 200,
			`{"id":"nope","clientId":"nope","clientSecret":"s","credentialName":"n","type":"credentials","generation":1,"createdAt":"x","updatedAt":"x"}`},
		{"error without debugId", "/workspaces/v1/credentials", http.MethodGet, 400, `{"httpStatusCode":400,"errorCode":"E","message":"m"}`},
		{"undocumented status", "/workspaces/v1/credentials", http.MethodGet, 418, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://keyhold.test"+strings.ReplaceAll(tc.op, "{credentialId}", id), nil)
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: openapiRoute(t, doc, tc.method, tc.op)},
				Status:                 tc.status,
				Header:                 http.Header{"Content-Type": {"application/json"}},
				Body:                   io.NopCloser(strings.NewReader(tc.body)),
				Options:                openapiOptions(),
			}
			if err := openapi3filter.ValidateResponse(context.Background(), in); err == nil {
				t.Errorf("%s was accepted", tc.body)
			}
		})
	}
}
