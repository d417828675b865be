package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/apidoc/apidoctest"
	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/workspace"
)

// Env is one running node and what a test needs to talk to it.
type Env struct {
	Node  *app.Node
	Base  string
	Admin workspace.Created // the bootstrap workspace and its administrator's credential
	// Logs holds everything the node logged (JSON lines), for tests that check what is logged.
	Logs *SafeBuffer
}

// SafeBuffer is a bytes.Buffer safe for concurrent writers.
type SafeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SafeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SafeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs a node on a fresh store until the test ends. cfg may set anything but Listen,
// DataDir, Stdout, Log and AccessLog.
func Start(t testing.TB, cfg app.Config) *Env {
	t.Helper()
	var out bytes.Buffer
	logs := &SafeBuffer{}
	cfg.Listen, cfg.Stdout = "127.0.0.1:0", &out
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.AccessLog = logs
	n, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done; n.Close() })
	waitLoaded(t, n, done)
	e := &Env{Node: n, Base: n.BaseURL(), Logs: logs}
	if err := json.Unmarshal(out.Bytes(), &e.Admin); err != nil {
		t.Fatalf("bootstrap line %q: %v", out.String(), err)
	}
	return e
}

// Token gets a client_credentials token with client_secret_post from a workspace's issuer.
func (e *Env) Token(t testing.TB, workspaceID, clientID, secret string) string {
	t.Helper()
	resp, body := e.PostForm(t, e.TokenURL(workspaceID), url.Values{"grant_type": {"client_credentials"},
		"client_id": {clientID}, "client_secret": {secret}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	return tr.AccessToken
}

// AdminToken is a token of the bootstrap administrator.
func (e *Env) AdminToken(t testing.TB) string {
	return e.Token(t, e.Admin.WorkspaceID, e.Admin.ClientID, e.Admin.ClientSecret)
}

// TokenURL is a workspace's token endpoint.
func (e *Env) TokenURL(workspaceID string) string {
	return e.Base + "/authorization/v2/oauth2/" + ids.Hex(workspaceID) + "/token"
}

// PostForm posts a form and returns the response with its body read.
func (e *Env) PostForm(t testing.TB, u string, v url.Values) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.Send(t, req)
}

// Do calls the API with a bearer token (none when tok is "") and a JSON body (none when nil;
// a string or []byte body is sent as is).
func (e *Env) Do(t testing.TB, method, path, tok string, body any) (*http.Response, []byte) {
	t.Helper()
	return e.DoWith(t, method, path, tok, body, nil)
}

// DoWith is Do with extra request headers.
func (e *Env) DoWith(t testing.TB, method, path, tok string, body any, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.Base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return e.Send(t, req)
}

// Send sends a request and reads the whole body. Every exchange is checked against keyhold's
// OpenAPI document (package apidoctest): an undocumented status, field or path fails t.
func (e *Env) Send(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	var reqBody []byte
	if req.GetBody != nil {
		rd, err := req.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		if reqBody, err = io.ReadAll(rd); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	CheckDocumented(t, req, reqBody, resp, body)
	return resp, body
}

// CheckDocumented fails t when an exchange does not match keyhold's OpenAPI document, for
// tests that send requests without Send.
func CheckDocumented(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	t.Helper()
	doc, err := apidoctest.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Check(req, reqBody, resp.StatusCode, resp.Header, body); err != nil {
		t.Errorf("%v\nrequest body: %.2000s\nresponse body: %.2000s", err, reqBody, body)
	}
}

// CreateWorkspace makes another workspace with its own administrator, as `keyhold workspace
// create` does.
func (e *Env) CreateWorkspace(t testing.TB, name, typ, adminEmail string) workspace.Created {
	t.Helper()
	c, err := workspace.Create(context.Background(), e.Node.Store, workspace.CreateInput{Name: name, Type: typ,
		AdminEmail: adminEmail, IssuerURL: e.Node.Issuer.IssuerURL, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	return *c
}

// Principal is a user set up by a test, with one credential of its own.
type Principal struct {
	UserID, ClientID, Secret, WorkspaceID string
}

// UserWithRole creates a user who is a member of workspaceID and holds the predefined role
// slug on the whole workspace (no role when slug is ""), with one credential.
func (e *Env) UserWithRole(t testing.TB, workspaceID, slug string) Principal {
	t.Helper()
	ctx, now := context.Background(), time.Now().UTC().Truncate(time.Microsecond)
	s := e.Node.Store
	u := &storage.User{ID: ids.New(), Email: ids.New() + "@example.test", Generation: 1, CreatedAt: now, UpdatedAt: now}
	must(t, s.CreateUser(ctx, u))
	must(t, s.AddMember(ctx, workspaceID, u.ID, now))
	if slug != "" {
		g, err := grn.Workspace(grn.DefaultPlatform, workspaceID)
		must(t, err)
		must(t, s.CreateAssignment(ctx, &storage.Assignment{ID: ids.New(), WorkspaceID: workspaceID,
			Subject: principal.User(u.ID), RoleID: rbac.PredefinedRoleID(slug), Scopes: []string{g.String()},
			Source: "LOCAL", Generation: 1, CreatedAt: now, UpdatedAt: now}))
	}
	secret, hash := credential.NewSecret()
	c := &storage.Credential{ID: ids.New(), WorkspaceID: workspaceID, OwnerID: u.ID, Name: "test-" + u.ID[:8],
		SecretHash: hash, Generation: 1, CreatedAt: now, UpdatedAt: now}
	must(t, s.CreateCredential(ctx, c, 0))
	e.sync(t)
	return Principal{UserID: u.ID, ClientID: c.ID, Secret: secret, WorkspaceID: workspaceID}
}

// TokenFor gets a token for a principal set up by UserWithRole.
func (e *Env) TokenFor(t testing.TB, p Principal) string {
	return e.Token(t, p.WorkspaceID, p.ClientID, p.Secret)
}

func (e *Env) sync(t testing.TB) {
	t.Helper()
	must(t, e.Node.Feed.Sync(context.Background()))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
