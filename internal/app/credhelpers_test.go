package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/workspace"
)

// Helpers shared by the credentials API tests (credentials_test.go, isolation_test.go,
// hostile_test.go, openapi_test.go).

const credsPath = "/workspaces/v1/credentials"

// credResp is a credential as the API answers it.
type credResp struct {
	ID               string `json:"id"`
	CredentialName   string `json:"credentialName"`
	ClientID         string `json:"clientId"`
	ClientSecret     string `json:"clientSecret"`
	Type             string `json:"type"`
	Generation       int64  `json:"generation"`
	CreatedAt        string `json:"createdAt"`
	UpdatedAt        string `json:"updatedAt"`
	OwnerID          string `json:"ownerId"`
	AssociatedTenant *struct {
		ResourceURI string `json:"resourceUri"`
		TenantName  string `json:"tenantName"`
	} `json:"associatedTenant"`
	AssociatedServiceManagerProvision *struct {
		ResourceURI string `json:"resourceUri"`
	} `json:"associatedServiceManagerProvision"`
}

type credList struct {
	Items []credResp `json:"items"`
	Count int        `json:"count"`
}

// credErrBody is the GreenLake error body.
type credErrBody struct {
	HTTPStatusCode int    `json:"httpStatusCode"`
	ErrorCode      string `json:"errorCode"`
	Message        string `json:"message"`
	DebugID        string `json:"debugId"`
	ErrorDetails   []struct {
		Type   string `json:"type"`
		Issues []struct {
			Source      string `json:"source"`
			Subject     string `json:"subject"`
			Description string `json:"description"`
		} `json:"issues"`
	} `json:"errorDetails"`
}

// names reports whether the error's details name subject (exactly) as a bad input.
func (g *credErrBody) names(subject string) bool {
	for _, d := range g.ErrorDetails {
		for _, is := range d.Issues {
			if is.Subject == subject {
				return true
			}
		}
	}
	return false
}

// subjects lists every subject the error's details name.
func (g *credErrBody) subjects() []string {
	var out []string
	for _, d := range g.ErrorDetails {
		for _, is := range d.Issues {
			out = append(out, is.Source+":"+is.Subject)
		}
	}
	return out
}

// wantCredErr checks that a response is a GreenLake error with the given status and returns
// its body. A 400 must carry errorDetails of type hpe.greenlake.bad_request.
func wantCredErr(t testing.TB, resp *http.Response, body []byte, status int) credErrBody {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var g credErrBody
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("error body %s is not the GreenLake error format: %v", body, err)
	}
	if g.HTTPStatusCode != status {
		t.Errorf("httpStatusCode %d, want %d", g.HTTPStatusCode, status)
	}
	if !strings.HasPrefix(g.ErrorCode, "HPE_GL_ERROR_") {
		t.Errorf("errorCode %q, want HPE_GL_ERROR_*", g.ErrorCode)
	}
	if g.Message == "" || g.DebugID == "" {
		t.Errorf("message %q and debugId %q must not be empty", g.Message, g.DebugID)
	}
	if status == http.StatusBadRequest {
		if len(g.ErrorDetails) == 0 || g.ErrorDetails[0].Type != "hpe.greenlake.bad_request" || len(g.ErrorDetails[0].Issues) == 0 {
			t.Errorf("a 400 must name the bad input in errorDetails: %s", body)
		}
	}
	return g
}

// wantCredBadField checks a 400 naming subject.
func wantCredBadField(t testing.TB, resp *http.Response, body []byte, subject string) credErrBody {
	t.Helper()
	g := wantCredErr(t, resp, body, http.StatusBadRequest)
	if !g.names(subject) {
		t.Errorf("400 names %v, want %q; body %s", g.subjects(), subject, body)
	}
	return g
}

// credWithoutDebugID is an error body with its per-error debugId removed, for comparing answers.
func credWithoutDebugID(t testing.TB, body []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if _, ok := m["debugId"]; !ok {
		t.Fatalf("body %s has no debugId", body)
	}
	delete(m, "debugId")
	out, _ := json.Marshal(m)
	return string(out)
}

// createCred creates a credential and expects 201.
func createCred(t testing.TB, e *apptest.Env, tok string, body any) credResp {
	t.Helper()
	resp, raw := e.Do(t, http.MethodPost, credsPath, tok, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create %v: %d %s", body, resp.StatusCode, raw)
	}
	var c credResp
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("create response %s: %v", raw, err)
	}
	return c
}

// listCreds lists credentials (with a filter when filter != "") and expects 200.
func listCreds(t testing.TB, e *apptest.Env, tok, filter string) (credList, []byte) {
	t.Helper()
	path := credsPath
	if filter != "" {
		path += "?filter=" + url.QueryEscape(filter)
	}
	resp, raw := e.Do(t, http.MethodGet, path, tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list %q: %d %s", filter, resp.StatusCode, raw)
	}
	var l credList
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatalf("list response %s: %v", raw, err)
	}
	if l.Count != len(l.Items) {
		t.Errorf("count %d but %d items", l.Count, len(l.Items))
	}
	return l, raw
}

// ids of a list, as a set.
func (l credList) ids() map[string]bool {
	m := make(map[string]bool, len(l.Items))
	for _, c := range l.Items {
		m[c.ID] = true
	}
	return m
}

// credTokenStatus asks a workspace's token endpoint for a client_credentials token and returns
// the status and the OAuth error code ("" on success).
func credTokenStatus(t testing.TB, e *apptest.Env, workspaceID, clientID, secret string) (int, string) {
	t.Helper()
	resp, body := e.PostForm(t, e.TokenURL(workspaceID), url.Values{"grant_type": {"client_credentials"},
		"client_id": {clientID}, "client_secret": {secret}})
	var oe struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &oe)
	return resp.StatusCode, oe.Error
}

// mspWithTenant makes an MSP workspace and one tenant of it, written to the store directly so
// that the credentials tests do not depend on the tenant API, and returns them.
func mspWithTenant(t testing.TB, e *apptest.Env, mspName, tenantName string) (workspace.Created, storage.Workspace) {
	t.Helper()
	msp := e.CreateWorkspace(t, mspName, storage.WorkspaceMSP, "msp-"+ids.New()[:8]+"@example.test")
	now := time.Now().UTC().Truncate(time.Microsecond)
	tenant := storage.Workspace{ID: ids.New(), Name: tenantName, Type: storage.WorkspaceTenant, ParentID: msp.WorkspaceID,
		CreatedBy: "msp@example.test", Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := e.Node.Store.CreateWorkspace(context.Background(), &tenant); err != nil {
		t.Fatal(err)
	}
	if err := e.Node.Feed.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return msp, tenant
}
