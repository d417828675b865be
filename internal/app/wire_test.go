package app_test

// Wire fixes for real clients (issue 12, item 5): each test sends the request in the form the
// client named sends it, and validates the answer against the published document where the
// operation is in one.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/token"
)

// TestExchangeWithClientAuthentication: the MSP module of a Python GreenLake client sends the
// MSP's own client credentials as HTTP Basic on the exchange (requests' HTTPBasicAuth: the raw
// id and secret, not form-url-encoded); openid-client sends client_secret_post, or in its
// public-client mode client_id alone in the body. Each is accepted for the subject token's
// own client and gives the same exchanged token as the bare form.
func TestExchangeWithClientAuthentication(t *testing.T) {
	w := newXNWorld(t)
	rawBasic := func(id, secret string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
		}
	}
	for _, tc := range []struct {
		name  string
		extra url.Values
		edit  func(*http.Request)
	}{
		{"HTTP Basic, the Python client's form", nil, rawBasic(w.m1Admin.id, w.m1Admin.secret)},
		{"client_secret_post", url.Values{"client_id": {w.m1Admin.id}, "client_secret": {w.m1Admin.secret}}, nil},
		{"public client: client_id alone", url.Values{"client_id": {w.m1Admin.id}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := w.mspToken(t)
			f := w.exchangeForm(sub)
			for k, v := range tc.extra {
				f[k] = v
			}
			resp, body := w.post(t, w.t1, "token", f, tc.edit)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			var out struct{ AccessToken, IssuedTokenType string }
			if err := json.Unmarshal(body, &struct {
				A *string `json:"access_token"`
				I *string `json:"issued_token_type"`
			}{&out.AccessToken, &out.IssuedTokenType}); err != nil || out.IssuedTokenType != token.TokenTypeAccessToken {
				t.Fatalf("answer %s", body)
			}
			_, claims := oaJWTParts(t, out.AccessToken)
			act, _ := claims["act"].(map[string]any)
			if claims["client_id"] != w.m1Admin.id || act == nil || act["client_id"] != w.m1Admin.id {
				t.Errorf("exchanged token claims %v: want the MSP's client, acting", claims)
			}
			if got := w.apiStatus(t, out.AccessToken); got != http.StatusOK {
				t.Errorf("the exchanged token reads the tenant's credentials: %d", got)
			}
		})
	}
}

// TestDocumentedMaxPageSizes: the limits the documents allow are accepted, one more is
// refused naming limit, and every answer validates against its document.
func TestDocumentedMaxPageSizes(t *testing.T) {
	docs := map[string]*openapi3.T{}
	for _, f := range []string{oamWorkspaceDoc, oamGroupsDoc, oamCatalogDoc} {
		docs[f] = oamLoad(t, f)
	}
	e := apptest.Start(t, app.Config{})
	msp := e.CreateWorkspace(t, "Paging Limits MSP", storage.WorkspaceMSP, "limits@example.test")
	tok := e.Token(t, msp.WorkspaceID, msp.ClientID, msp.ClientSecret)
	tenant := e.CreateTenant(t, tok, "Limits Tenant")
	group := oamCreate(t, e, tok, "/workspaces/v1beta1/groups", map[string]string{"name": "Limits Group", "groupType": "TenantGroup"})
	oamCreate(t, e, tok, "/workspaces/v1beta1/groups/"+group+"/group-workspaces", map[string]string{"workspaceId": tenant})
	oamCreate(t, e, tok, "/service-catalog/v1/service-manager-provisions", map[string]string{"serviceManagerId": knownServiceManager(t, e, tok), "region": knownRegion})
	members := "/workspaces/v1beta1/groups/{groupId}/group-workspaces"
	for _, c := range []struct {
		file, op, path string
		max            int
	}{
		{oamWorkspaceDoc, "/workspaces/v1/msp-tenants", "/workspaces/v1/msp-tenants", 300},
		{oamGroupsDoc, "/workspaces/v1beta1/groups", "/workspaces/v1beta1/groups", 2000},
		{oamGroupsDoc, members, "/workspaces/v1beta1/groups/" + group + "/group-workspaces", 500},
		{oamCatalogDoc, "/service-catalog/v1/service-manager-provisions", "/service-catalog/v1/service-manager-provisions", 2000},
	} {
		t.Run(c.path, func(t *testing.T) {
			for _, q := range []string{"", fmt.Sprintf("?limit=%d", c.max), fmt.Sprintf("?limit=%d&offset=0", c.max)} {
				resp, body := e.Do(t, http.MethodGet, c.path+q, tok, nil)
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"count":1`) {
					t.Fatalf("GET %s%s: %d %s", c.path, q, resp.StatusCode, body)
				}
				oamValidate(t, docs[c.file], c.file, http.MethodGet, c.op, c.path+q, resp, body, e.Base)
			}
			resp, body := e.Do(t, http.MethodGet, fmt.Sprintf("%s?limit=%d", c.path, c.max+1), tok, nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "limit") {
				t.Fatalf("limit=%d: %d %s, want 400 naming limit", c.max+1, resp.StatusCode, body)
			}
		})
	}
}

// TestProvisionsStatusFilter: the provisions document's own filter example.
func TestProvisionsStatusFilter(t *testing.T) {
	doc := oamLoad(t, oamCatalogDoc)
	e := apptest.Start(t, app.Config{})
	msp := e.CreateWorkspace(t, "Status Filter MSP", storage.WorkspaceMSP, "status@example.test")
	tok := e.Token(t, msp.WorkspaceID, msp.ClientID, msp.ClientSecret)
	id := oamCreate(t, e, tok, "/service-catalog/v1/service-manager-provisions", map[string]string{"serviceManagerId": knownServiceManager(t, e, tok), "region": knownRegion})
	const provs = "/service-catalog/v1/service-manager-provisions"
	for _, c := range []struct {
		filter string
		want   int
	}{{"status eq 'PROVISIONED'", 1}, {"status eq 'UNPROVISIONED'", 0}, {"provisionStatus eq 'PROVISIONED'", 1}} {
		path := provs + "?filter=" + url.QueryEscape(c.filter)
		resp, body := e.Do(t, http.MethodGet, path, tok, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), fmt.Sprintf(`"count":%d`, c.want)) ||
			(c.want == 1 && !strings.Contains(string(body), id)) {
			t.Fatalf("%s: %d %s, want %d", c.filter, resp.StatusCode, body, c.want)
		}
		oamValidate(t, doc, oamCatalogDoc, http.MethodGet, provs, path, resp, body, e.Base)
	}
}

// TestTenantGroupNameLimit: the groups document allows names of 64 characters.
func TestTenantGroupNameLimit(t *testing.T) {
	doc := oamLoad(t, oamGroupsDoc)
	e := apptest.Start(t, app.Config{})
	msp := e.CreateWorkspace(t, "Group Names MSP", storage.WorkspaceMSP, "names@example.test")
	tok := e.Token(t, msp.WorkspaceID, msp.ClientID, msp.ClientSecret)
	const groups = "/workspaces/v1beta1/groups"
	for _, c := range []struct {
		name   string
		status int
	}{{strings.Repeat("g", 64), 201}, {strings.Repeat("é", 64), 201}, {strings.Repeat("h", 65), 400}} {
		resp, body := e.Do(t, http.MethodPost, groups, tok, map[string]string{"name": c.name, "groupType": "TenantGroup"})
		if resp.StatusCode != c.status {
			t.Fatalf("a name of %d characters: %d %s, want %d", len([]rune(c.name)), resp.StatusCode, body, c.status)
		}
		if c.status == 400 && !strings.Contains(string(body), `name`) {
			t.Errorf("the refusal does not name the field: %s", body)
		}
		oamValidate(t, doc, oamGroupsDoc, http.MethodPost, groups, groups, resp, body, e.Base)
	}
}

// TestTrailingSlash: the product document writes /authorization/v2alpha2/roles/; a served
// path with one trailing slash is that path, for reads and writes (no redirect: a POST keeps
// its body), and a path that is not served still answers 404.
func TestTrailingSlash(t *testing.T) {
	w := newIAMWorld(t)
	plain := object(t, w.call(t, http.MethodGet, rolesAPI, w.admin, nil, http.StatusOK))
	slashed := object(t, w.call(t, http.MethodGet, rolesAPI+"/", w.admin, nil, http.StatusOK))
	if plain["total"] == nil || plain["total"] != slashed["total"] {
		t.Fatalf("roles/ lists %v roles, roles %v", slashed["total"], plain["total"])
	}
	w.call(t, http.MethodGet, "/identity/v1/users/", w.admin, nil, http.StatusOK)
	created := object(t, w.call(t, http.MethodPost, "/identity/v1/users/", w.admin, map[string]any{"email": "slash@example.test"}, http.StatusCreated))
	w.call(t, http.MethodGet, "/identity/v1/users/"+created["id"].(string)+"/", w.admin, nil, http.StatusOK)
	w.call(t, http.MethodGet, "/identity/v1/nothing/", w.admin, nil, http.StatusNotFound)
	w.call(t, http.MethodGet, rolesAPI+"//", w.admin, nil, http.StatusNotFound)
}

// TestMetadataHasNoEmptyLists: RFC 8414 §3.2, claims with zero elements are omitted; a server
// without an authorization endpoint lists no response types.
func TestMetadataHasNoEmptyLists(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	iss := token.IssuerPrefix + ids.Hex(e.Admin.WorkspaceID)
	for _, path := range []string{"/.well-known/oauth-authorization-server" + iss, iss + "/.well-known/openid-configuration"} {
		resp, body := e.Do(t, http.MethodGet, path, "", nil)
		var m map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &m) != nil {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		for k, v := range m {
			if list, ok := v.([]any); ok && len(list) == 0 {
				t.Errorf("%s: %s is an empty list", path, k)
			}
		}
		if _, ok := m["response_types_supported"]; ok {
			t.Errorf("%s: response_types_supported without an authorization endpoint: %v", path, m["response_types_supported"])
		}
		if _, ok := m["authorization_endpoint"]; ok || m["token_endpoint"] == nil || m["issuer"] == nil {
			t.Errorf("%s: %v", path, m)
		}
	}
}

// TestRolesBySlugEq: clients look a role up with `slug eq '...'`.
func TestRolesBySlugEq(t *testing.T) {
	w := newIAMWorld(t)
	q := func(f string) string { return rolesAPI + "?filter=" + url.QueryEscape(f) }
	got := object(t, w.call(t, http.MethodGet, q("slug eq '"+rbac.RoleWorkspaceObserver+"'"), w.admin, nil, http.StatusOK))
	items, _ := got["items"].([]any)
	if got["total"] != float64(1) || len(items) != 1 || items[0].(map[string]any)["slug"] != rbac.RoleWorkspaceObserver {
		t.Fatalf("slug eq: %v", got)
	}
	both := object(t, w.call(t, http.MethodGet, q("kind eq 'PREDEFINED' and slug in ('"+rbac.RoleWorkspaceObserver+"')"), w.admin, nil, http.StatusOK))
	if both["total"] != float64(1) {
		t.Fatalf("kind eq and slug in: %v", both)
	}
	none := object(t, w.call(t, http.MethodGet, q("slug eq 'svc.nothing'"), w.admin, nil, http.StatusOK))
	if none["total"] != float64(0) {
		t.Fatalf("unknown slug: %v", none)
	}
	for _, bad := range []string{"slug ne 'x'", "slug eq 1", "slug eq 'a' or slug eq 'b'", "slug eq 'a' and slug eq 'b'", "owner eq 'x'"} {
		resp, raw := w.e.Do(t, http.MethodGet, q(bad), w.admin, nil)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "filter")
	}
}

// knownRegion is a region of the built-in service catalogue.
const knownRegion = "us-west"

// knownServiceManager is a service manager available in knownRegion, as the catalogue API
// lists it.
func knownServiceManager(t *testing.T, e *apptest.Env, tok string) string {
	t.Helper()
	resp, body := e.Do(t, http.MethodGet, "/service-catalog/v1/per-region-service-managers/"+knownRegion, tok, nil)
	var reg struct {
		ServiceManagers []struct{ ID string } `json:"serviceManagers"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &reg) != nil || len(reg.ServiceManagers) == 0 {
		t.Fatalf("service managers in %s: %d %s", knownRegion, resp.StatusCode, body)
	}
	return reg.ServiceManagers[0].ID
}

// TestProvisionReferenceAsGiven: a credential's provision reference comes back as the client
// wrote it (v1beta1 stays v1beta1, a 32-hex id stays 32 hex) in the create answer, the list
// and the reset answer, and every answer validates against credentials.json.
func TestProvisionReferenceAsGiven(t *testing.T) {
	doc := loadCredentialsDoc(t)
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	const provs = "/service-catalog/v1/service-manager-provisions"
	prov := oamCreate(t, e, tok, provs, map[string]string{"serviceManagerId": knownServiceManager(t, e, tok), "region": knownRegion})
	validate := func(method, op, path string, resp *http.Response, body []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, e.Base+path, nil)
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: openapiRoute(t, doc, method, op)},
			Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)), Options: openapiOptions(),
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("%s %s: %v\n%s", method, path, err, body)
		}
	}
	for i, ref := range []string{
		"/service-catalog/v1beta1/service-manager-provisions/" + prov,
		"/service-catalog/v1beta1/service-manager-provisions/" + ids.Hex(prov),
		provs + "/" + prov,
	} {
		body := map[string]any{"credentialName": fmt.Sprintf("as given %d", i),
			"associatedServiceManagerProvision": map[string]string{"resourceUri": ref}}
		resp, raw := e.Do(t, http.MethodPost, credsPath, tok, body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create with %s: %d %s", ref, resp.StatusCode, raw)
		}
		validate(http.MethodPost, "/workspaces/v1/credentials", credsPath, resp, raw)
		var created struct {
			ID                                string
			AssociatedServiceManagerProvision struct{ ResourceURI string }
		}
		_ = json.Unmarshal(raw, &created)
		if got := created.AssociatedServiceManagerProvision.ResourceURI; got != ref {
			t.Errorf("create answered the reference %q, want %q as given", got, ref)
		}
		list, listRaw := listCreds(t, e, tok, "")
		found := false
		for _, c := range list.Items {
			if c.ID == created.ID {
				found = true
				if c.AssociatedServiceManagerProvision == nil || c.AssociatedServiceManagerProvision.ResourceURI != ref {
					t.Errorf("the list serves %+v, want %q", c.AssociatedServiceManagerProvision, ref)
				}
			}
		}
		if !found {
			t.Fatalf("credential %s not listed: %s", created.ID, listRaw)
		}
		resp, raw = e.Do(t, http.MethodPost, credsPath+"/"+created.ID+"/reset", tok, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"resourceUri":"`+ref+`"`) {
			t.Errorf("reset: %d %s, want the reference %q", resp.StatusCode, raw, ref)
		}
		validate(http.MethodPost, "/workspaces/v1/credentials/{credentialId}/reset", credsPath+"/"+created.ID+"/reset", resp, raw)
	}
}
