package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/token"
)

// BenchmarkTokenEndpoint measures a client_credentials request through the node's whole HTTP
// handler (middleware, routing, form parsing, client authentication, signing, encoding)
// without the network; BenchmarkSignOnly is the floor: the same claims signed with the same
// key and encoded, nothing else. Their ratio is the handler's share of the cost.
func BenchmarkTokenEndpoint(b *testing.B) {
	e := apptest.Start(b, app.Config{})
	h := e.Node.Handler()
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.Admin.ClientID},
		"client_secret": {e.Admin.ClientSecret}}.Encode()
	path := strings.TrimPrefix(e.Admin.TokenURL, e.Base)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkSignOnly(b *testing.B) {
	e := apptest.Start(b, app.Config{})
	iss := e.Node.Issuer
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader("grant_type=client_credentials&client_id=x&client_secret=y"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_ = req.ParseForm()
		tok, err := iss.Mint(&token.Claims{Subject: principal.APIClient(e.Admin.ClientID), ClientID: e.Admin.ClientID,
			WorkspaceID: e.Admin.WorkspaceID, PrincipalType: principal.TypeAPIClient, Generation: 1})
		if err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		_ = json.NewEncoder(rec).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 900})
	}
}

// BenchmarkCredentialsList measures an authenticated GET /workspaces/v1/credentials through
// the whole handler: bearer check (cached), decision, the list read, encoding.
func BenchmarkCredentialsList(b *testing.B) {
	e := apptest.Start(b, app.Config{})
	h := e.Node.Handler()
	tok := e.AdminToken(b)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/workspaces/v1/credentials", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkEvaluation measures one AuthZEN evaluation (POST /access/v1/evaluation) through
// the whole handler: bearer check (cached), the caller's own decision, decoding, the
// decision asked about, encoding. The store is small; the engine's cost on a million
// assignments is BenchmarkDecisions in package rbac.
func BenchmarkEvaluation(b *testing.B) {
	e := apptest.Start(b, app.Config{})
	h := e.Node.Handler()
	tok := e.AdminToken(b)
	body := `{"subject":{"type":"user","id":"` + e.Admin.UserID + `"},"action":{"name":"glp.workspace.view"},` +
		`"resource":{"type":"workspace","id":"grn:glp/workspaces/` + strings.ReplaceAll(e.Admin.WorkspaceID, "-", "") + `"}}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/access/v1/evaluation", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"decision":true`) {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
