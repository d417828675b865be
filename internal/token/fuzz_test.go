package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/changefeed"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/workspace"
)

// testServer is a token Server over a real SQLite store holding one workspace with one
// credential.
type testServer struct {
	srv              *Server
	ws               string // canonical id
	clientID, secret string
}

type nopObserver struct{}

func (nopObserver) TokenIssued(string)        {}
func (nopObserver) AuthFailed(string, string) {}

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := rbac.EnsureBuiltins(ctx, st, now); err != nil {
		t.Fatal(err)
	}
	if err := EnsureKey(ctx, st, jose.ES256, time.Hour, now, nil); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	keys := NewKeySet(time.Now, nil)
	iss := &Issuer{BaseURL: "https://keyhold.test", Audience: "https://keyhold.test", TTL: 15 * time.Minute, Keys: keys, Now: time.Now}
	created, err := workspace.Create(ctx, st, workspace.CreateInput{Name: "fuzz", Type: storage.WorkspaceStandard,
		IssuerURL: iss.IssuerURL, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	creds, dir, revoked := credential.NewIndex(), workspace.NewDirectory(), NewRevoked(time.Now)
	feed := changefeed.New(st, log, creds, dir, keys, revoked)
	if err := feed.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := dir.Get(created.WorkspaceID); !ok {
		t.Fatal("the directory did not load the workspace")
	}
	srv := &Server{Issuer: iss, Verifier: &Verifier{Issuer: iss, Creds: creds, Revoked: revoked, Workspaces: dir}, Creds: creds,
		Workspaces: dir, Store: st, Sync: feed.Sync,
		AddrFailures: ratelimit.New[netip.Addr](50, time.Second, time.Minute), Observer: nopObserver{}, Log: log}
	return &testServer{srv: srv, ws: created.WorkspaceID, clientID: created.ClientID, secret: created.ClientSecret}
}

// fresh is a copy of the server with empty failure budgets, so that one request's failures
// do not decide the next one's answer.
func (ts *testServer) fresh() *Server {
	s := *ts.srv
	s.AddrFailures = ratelimit.New[netip.Addr](50, time.Second, time.Minute)
	return &s
}

// do runs one token request through handleToken, with {ws} set to wsPath.
func (ts *testServer) do(s *Server, wsPath, query, contentType, authorization, body string) *httptest.ResponseRecorder {
	return ts.doFrom(s, "192.0.2.1:1234", wsPath, query, contentType, authorization, body)
}

// doFrom is do from the source address remote (host:port).
func (ts *testServer) doFrom(s *Server, remote, wsPath, query, contentType, authorization, body string) *httptest.ResponseRecorder {
	target := IssuerPrefix + "x/token"
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.RemoteAddr = remote
	req.URL.RawQuery = query
	req.SetPathValue("ws", wsPath)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	s.handleToken(rec, req)
	return rec
}

// rfcErrors are the error codes a token endpoint may answer with.
var rfcErrors = map[string]bool{errInvalidRequest: true, errInvalidClient: true, errInvalidGrant: true,
	errUnauthorizedClient: true, errUnsupportedGrantType: true, errInvalidScope: true, errUnavailable: true,
	errInvalidTarget: true}

// checkTokenAnswer asserts the invariants every token endpoint answer keeps.
func checkTokenAnswer(t testing.TB, ts *testServer, authorization string, rec *httptest.ResponseRecorder) {
	t.Helper()
	body := rec.Body.Bytes()
	switch rec.Code {
	case 200, 400, 401, 404, 429:
	default:
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if rec.Code == 200 {
		var tr tokenResponse
		if err := json.Unmarshal(body, &tr); err != nil || tr.TokenType != "Bearer" || tr.AccessToken == "" {
			t.Fatalf("200 with body %q: %v", body, err)
		}
		caller, _, err := ts.srv.Verifier.Verify(tr.AccessToken)
		if err != nil || caller.ClientID != ts.clientID || caller.WorkspaceID != ts.ws {
			t.Fatalf("issued token does not verify as the fixture's client: %v %+v", err, caller)
		}
		return
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatalf("status %d with a non-JSON body %q: %v", rec.Code, body, err)
	}
	code, _ := fields["error"].(string)
	if !rfcErrors[code] {
		t.Fatalf("status %d with error %q: %s", rec.Code, fields["error"], body)
	}
	if desc, ok := fields["error_description"].(string); !ok || desc == "" || strings.Contains(desc, ts.secret) {
		t.Errorf("error_description %v", fields["error_description"])
	}
	if len(fields) != 2 {
		t.Errorf("error body has fields beyond error and error_description: %s", body)
	}
	if rec.Code == 401 && authorization != "" && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("401 to a client that sent Authorization without a Basic challenge")
	}
	if rec.Code == 429 && rec.Header().Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func FuzzTokenEndpoint(f *testing.F) {
	ts := newTestServer(f)
	hex := ids.Hex(ts.ws)
	form := "application/x-www-form-urlencoded"
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {ts.clientID}, "client_secret": {ts.secret}}.Encode()
	for _, s := range []struct{ ws, ct, authz, body string }{
		{hex, form, "", good},
		{ts.ws, form + "; charset=utf-8", "", good},
		{hex, form, basicAuth(ts.clientID, ts.secret), "grant_type=client_credentials"},
		{hex, form, basicAuth(ts.clientID, ts.secret), good},
		{hex, form, "Basic !!!", "grant_type=client_credentials"},
		{hex, form, "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:%")), "grant_type=client_credentials"},
		{hex, form, "", "grant_type=password&username=a&password=b"},
		{hex, form, "", good + "&scope=a%20%20b"},
		{hex, form, "", good + "&grant_type=client_credentials"},
		{hex, form, "", good + "&x=%ff"},
		{hex, form, "", "a=1;b=2"},
		{hex, "application/json", "", `{"grant_type":"client_credentials"}`},
		{hex, "multipart/form-data; boundary=x", "", "--x--"},
		{hex, "", "", ""},
		{"nope", form, "", good},
		{ids.Hex(ids.New()), form, "", good},
		{hex, form, "Bearer x", good},
	} {
		f.Add(s.ws, s.ct, s.authz, s.body)
	}
	f.Fuzz(func(t *testing.T, ws, contentType, authorization, body string) {
		rec := ts.do(ts.fresh(), ws, "", contentType, authorization, body)
		checkTokenAnswer(t, ts, authorization, rec)
		if rec.Code == 200 {
			// Only the fixture's real secret earns a token.
			decoded, _ := url.QueryUnescape(body)
			if !strings.Contains(body, ts.secret) && !strings.Contains(decoded, ts.secret) && !strings.HasPrefix(authorization, "Basic ") {
				t.Fatalf("token issued without the secret in the request")
			}
		}
	})
}
