package enforce_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/client/enforce"
	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
)

// guardWorld is keyhold with provider svc (type servers, permission svc.servers.read), a
// reader allowed it on server 1, and a guard whose PDP calls are counted.
type guardWorld struct {
	e       *apptest.Env
	reader  apptest.Principal
	guard   *enforce.Guard
	pdpHits *counting
	clk     *clock
	h       http.Handler
}

func newGuardWorld(t *testing.T) *guardWorld {
	t.Helper()
	e := apptest.Start(t, app.Config{})
	ctx := context.Background()
	ws := e.Admin.WorkspaceID
	admin, err := client.New(client.Config{BaseURL: e.Base, WorkspaceID: ws, ClientID: e.Admin.ClientID, ClientSecret: e.Admin.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	check := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(admin.CreateProvider(ctx, client.ProviderInput{ID: "svc", Name: "svc"}))
	check(admin.CreateResourceType(ctx, "svc", client.ResourceTypeInput{Name: "servers"}))
	check(admin.CreatePermission(ctx, "svc", client.PermissionInput{Name: "svc.servers.read", ReleaseStage: "STABLE",
		CustomRoleUse: "ALLOW", ApplicableResourceTypes: []string{"svc/servers"}}))
	role, err := admin.CreateRole(ctx, client.RoleInput{Name: "reader", Permissions: []string{"svc.servers.read"}})
	check(role, err)
	w := &guardWorld{e: e, reader: e.UserWithRole(t, ws, ""), pdpHits: &counting{}, clk: &clock{}}
	check(admin.CreateAssignment(ctx, client.AssignmentInput{Subject: client.UserSubject(w.reader.UserID), Role: role.GRN,
		Scope: []string{"grn:glp/workspaces/" + ids.Hex(ws) + "/regions/default/providers/svc/servers/1"}}))
	svc := e.UserWithRole(t, ws, "glp.workspace-observer")
	pdp, err := client.New(client.Config{BaseURL: e.Base, WorkspaceID: ws, ClientID: svc.ClientID, ClientSecret: svc.Secret,
		HTTPClient: &http.Client{Transport: w.pdpHits}})
	check(pdp, err)
	v, err := enforce.NewVerifier(enforce.Config{BaseURL: e.Base, WorkspaceIDs: []string{ws}})
	check(v, err)
	w.guard = &enforce.Guard{Verifier: v, PDP: pdp, CacheTTL: 5 * time.Second, CacheSize: 2, Now: w.clk.Now}
	w.h = w.guard.Require("read", func(r *http.Request) client.Resource {
		return client.Resource{Type: "svc/servers", ID: r.URL.Query().Get("id")}
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := enforce.ClaimsFrom(r.Context()); !ok {
			http.Error(w, "no claims", 500)
		}
	}))
	return w
}

func (w *guardWorld) status(tok, id string) int {
	req := httptest.NewRequest("GET", "/?id="+id, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec.Code
}

func TestGuardDecidesAndCaches(t *testing.T) {
	w := newGuardWorld(t)
	tok := w.e.TokenFor(t, w.reader)
	if s := w.status(tok, "1"); s != 200 {
		t.Fatalf("reader on 1: %d", s)
	}
	hits := w.pdpHits.n.Load()
	if s := w.status(tok, "1"); s != 200 || w.pdpHits.n.Load() != hits {
		t.Fatalf("second call: %d, %d PDP calls more", s, w.pdpHits.n.Load()-hits)
	}
	if s := w.status(tok, "2"); s != 403 {
		t.Fatalf("reader on 2: %d", s)
	}
	if s := w.status("", "1"); s != 401 {
		t.Fatalf("no token: %d", s)
	}
	// The cache holds two decisions: a third pushes out the least recently used (1).
	_ = w.status(tok, "3")
	hits = w.pdpHits.n.Load()
	if s := w.status(tok, "1"); s != 200 || w.pdpHits.n.Load() == hits {
		t.Fatalf("evicted decision: %d, asked keyhold again: %v", s, w.pdpHits.n.Load() != hits)
	}
}

// TestGuardRevokedWithinStaleness: a revoked token keeps its cached decision for at most
// CacheTTL (the documented staleness), then keyhold's answer (the token is no longer valid)
// takes over: 401. Offline verification alone still accepts it.
func TestGuardRevokedWithinStaleness(t *testing.T) {
	w := newGuardWorld(t)
	ctx := context.Background()
	tok := w.e.TokenFor(t, w.reader)
	if s := w.status(tok, "1"); s != 200 {
		t.Fatalf("before revocation: %d", s)
	}
	rc, err := client.New(client.Config{BaseURL: w.e.Base, WorkspaceID: w.reader.WorkspaceID, ClientID: w.reader.ClientID, ClientSecret: w.reader.Secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Revoke(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if s := w.status(tok, "1"); s != 200 {
		t.Fatalf("within the cache TTL the cached decision stands (documented): %d", s)
	}
	if _, err := w.guard.Verifier.Verify(ctx, tok); err != nil {
		t.Fatalf("offline verification does not see revocation (documented): %v", err)
	}
	w.clk.Advance(5 * time.Second)
	if s := w.status(tok, "1"); s != 401 {
		t.Fatalf("after the cache TTL: %d, want 401", s)
	}
	// A reset credential: its new token works, the old generation's is refused once the TTL passes.
	tok2 := w.e.TokenFor(t, w.reader)
	if s := w.status(tok2, "1"); s != 200 {
		t.Fatalf("new token: %d", s)
	}
	admin, _ := client.New(client.Config{BaseURL: w.e.Base, WorkspaceID: w.e.Admin.WorkspaceID, ClientID: w.e.Admin.ClientID, ClientSecret: w.e.Admin.ClientSecret})
	if _, err := admin.ResetCredential(ctx, w.reader.ClientID); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(5 * time.Second)
	if s := w.status(tok2, "1"); s != 401 {
		t.Fatalf("token of a reset credential after the TTL: %d, want 401", s)
	}
}

// TestGuardFailsClosed: keyhold unreachable for decisions, or for keys, denies with 503.
func TestGuardFailsClosed(t *testing.T) {
	w := newGuardWorld(t)
	tok := w.e.TokenFor(t, w.reader)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	pdp, err := client.New(client.Config{BaseURL: dead, WorkspaceID: w.reader.WorkspaceID, ClientID: w.reader.ClientID, ClientSecret: w.reader.Secret})
	if err != nil {
		t.Fatal(err)
	}
	w.guard.PDP = pdp // before any decision was cached
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/?id=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w.h.ServeHTTP(rec, req)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("keyhold unreachable for decisions: %d (Retry-After %q)", rec.Code, rec.Header().Get("Retry-After"))
	}
	// No keys: the verifier cannot fetch them.
	v, err := enforce.NewVerifier(enforce.Config{BaseURL: dead, Audience: w.e.Base})
	if err != nil {
		t.Fatal(err)
	}
	g := &enforce.Guard{Verifier: v, PDP: pdp}
	rec = httptest.NewRecorder()
	g.Authenticate(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != 503 {
		t.Fatalf("keyhold unreachable for keys: %d", rec.Code)
	}
}
