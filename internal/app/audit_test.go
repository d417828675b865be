package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

const (
	auditDoc  = "audit-logs.json"
	auditList = "/audit-log/v2beta1/logs"
)

type auditPage struct {
	Items []struct {
		ID          string `json:"id"`
		Category    string `json:"category"`
		Description string `json:"description"`
		Username    string `json:"username"`
		IPAddress   string `json:"ipAddress"`
		Workspace   struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"workspace"`
	} `json:"items"`
	Count            int  `json:"count"`
	Total            int  `json:"total"`
	RemainingRecords bool `json:"remainingRecords"`
}

// auditCall sends one request to the audit-log API and validates the answer against the
// published document (error statuses included).
func auditCall(t *testing.T, e *apptest.Env, doc *openapi3.T, op, path, tok string, want int) []byte {
	t.Helper()
	resp, body := e.Do(t, http.MethodGet, path, tok, nil)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, want, body)
	}
	req, err := http.NewRequest(http.MethodGet, e.Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: openapiRoute(t, doc, http.MethodGet, op)},
		Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: openapiOptions(),
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("GET %s: the answer does not match the audit-logs document: %v\nbody: %s", path, err, body)
	}
	return body
}

func page(t *testing.T, raw []byte) auditPage {
	t.Helper()
	var p auditPage
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return p
}

func TestAuditLogAPI(t *testing.T) {
	doc := loadGreenLakeDoc(t, auditDoc, openapi3.DisableExamplesValidation())
	stream := filepath.Join(t.TempDir(), "audit.jsonl")
	e := apptest.Start(t, app.Config{AuditStream: stream})
	tok := e.AdminToken(t)
	q := func(s string) string { return url.QueryEscape(s) }

	created := createCred(t, e, tok, map[string]string{"credentialName": "audited"})
	other := e.CreateWorkspace(t, "Other Audited", storage.WorkspaceStandard, "other-audited@example.test")
	otherTok := e.Token(t, other.WorkspaceID, other.ClientID, other.ClientSecret)
	createCred(t, e, otherTok, map[string]string{"credentialName": "theirs"})
	observer := e.TokenFor(t, e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceObserver))
	nobody := e.TokenFor(t, e.UserWithRole(t, e.Admin.WorkspaceID, ""))

	// The list: this workspace's records only, newest first, the write's record in it.
	p := page(t, auditCall(t, e, doc, auditList, auditList, observer, 200))
	if p.Count == 0 || p.Total != p.Count || p.RemainingRecords {
		t.Fatalf("list: %+v", p)
	}
	var mine string
	for _, it := range p.Items {
		if it.Workspace.ID != e.Admin.WorkspaceID {
			t.Errorf("record %s of workspace %s listed in %s", it.ID, it.Workspace.ID, e.Admin.WorkspaceID)
		}
		if strings.Contains(it.Description, created.ID) {
			mine = it.ID
			if it.Category != "API Gateway" || it.Username != "admin@localhost" || it.IPAddress == "" || it.Workspace.Type != "STANDALONE" {
				t.Errorf("the create's record: %+v", it)
			}
		}
	}
	if mine == "" {
		t.Fatalf("no record names the created credential %s: %+v", created.ID, p.Items)
	}
	one := auditList + "/{id}"
	details := auditList + "/{id}/details"
	auditCall(t, e, doc, one, auditList+"/"+mine, tok, 200)
	raw := auditCall(t, e, doc, details, auditList+"/"+mine+"/details", tok, 200)
	for _, want := range []string{"Target id: " + created.ID, "Credential: " + e.Admin.ClientID, "Hash: "} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("details lack %q: %s", want, raw)
		}
	}

	// Filters, paging and sort.
	for _, tc := range []struct {
		filter string
		some   bool
	}{
		{"category eq 'API Gateway'", true},
		{"category in ('User Management', 'API Gateway')", true},
		{"contains(description, 'CREATED API-CLIENT')", true},
		{"username eq 'admin@localhost' and createdAt ge '2020-01-01T00:00:00Z'", true},
		{"createdAt ge '" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + "'", false},
		{"serviceOffer/id eq '00000000-0000-0000-0000-000000000000' and region eq 'global' and hasDetails eq 'true'", true},
		{"serviceOffer/id eq 'd46569ae-0516-4dd2-81ce-b6d645842acc'", false},
		{"workspace/type eq 'STANDALONE' and contains(workspace/name, 'DEF')", true},
		{"contains(ipAddress, '127.0')", true},
	} {
		p := page(t, auditCall(t, e, doc, auditList, auditList+"?filter="+q(tc.filter)+"&limit=2000&sort="+q("category asc, createdAt"), tok, 200))
		if (p.Count > 0) != tc.some {
			t.Errorf("filter %q: %d records, want some: %v", tc.filter, p.Count, tc.some)
		}
	}
	if p := page(t, auditCall(t, e, doc, auditList, auditList+"?limit=1&select="+q("createdAt, username, category"), tok, 200)); p.Count != 1 || p.Total != 1 {
		t.Errorf("limit=1: %+v", p)
	}
	if p := page(t, auditCall(t, e, doc, auditList, auditList+"?limit=1&offset=1", tok, 200)); p.Count != 0 || p.Total != 1 {
		t.Errorf("limit=1&offset=1: %+v", p)
	}
	for _, bad := range []string{"?filter=" + q("nope eq 'x'"), "?filter=" + q("category eq"), "?filter=" + q("createdAt ge 'yesterday'"),
		"?filter=" + q("description lt 'x'"), "?limit=2001", "?limit=0", "?offset=-1", "?select=secret", "?sort=secret", "?unknown=1"} {
		auditCall(t, e, doc, auditList, auditList+bad, tok, 400)
	}

	// Another workspace sees none of it; a member without the permission is refused.
	p = page(t, auditCall(t, e, doc, auditList, auditList, otherTok, 200))
	for _, it := range p.Items {
		if it.ID == mine || it.Workspace.ID != other.WorkspaceID {
			t.Errorf("workspace %s listed record %s of %s", other.WorkspaceID, it.ID, it.Workspace.ID)
		}
	}
	auditCall(t, e, doc, one, auditList+"/"+mine, otherTok, 404)
	auditCall(t, e, doc, details, auditList+"/"+mine+"/details", otherTok, 404)
	auditCall(t, e, doc, one, auditList+"/"+ids.New(), tok, 404)
	auditCall(t, e, doc, one, auditList+"/not-an-id", tok, 404)
	auditCall(t, e, doc, auditList, auditList, nobody, 403)
	auditCall(t, e, doc, one, auditList+"/"+mine, nobody, 403)
	auditCall(t, e, doc, auditList, auditList, "", 401)

	// A failed client authentication at the token endpoint is recorded (in batches, off the
	// request's path) in the issuer workspace's chain, without the secret.
	resp, _ := e.PostForm(t, e.TokenURL(e.Admin.WorkspaceID), url.Values{"grant_type": {"client_credentials"},
		"client_id": {e.Admin.ClientID}, "client_secret": {"wrong-secret-value"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := page(t, auditCall(t, e, doc, auditList, auditList+"?filter="+q("category eq 'Authentication'"), tok, 200))
		if p.Count > 0 {
			if strings.Contains(string(must(json.Marshal(p))), "wrong-secret-value") {
				t.Error("the failure's record holds the secret")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed authentication was not recorded")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The stream holds the write's record as a JSON line.
	deadline = time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(stream)
		if bytes.Contains(b, []byte(mine)) {
			var line map[string]any
			first, _, _ := bytes.Cut(b, []byte("\n"))
			if err := json.Unmarshal(first, &line); err != nil || line["hash"] == nil || line["workspaceId"] == nil {
				t.Errorf("stream line %s: %v", first, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream lacks record %s: %s", mine, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
