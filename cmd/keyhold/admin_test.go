package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
)

// recovered is the line `keyhold admin recover` prints (the bootstrap line's shape).
type recovered struct {
	WorkspaceID, UserID, ClientID, ClientSecret, Issuer, TokenURL string
}

func parseLine(t *testing.T, out string) recovered {
	t.Helper()
	var r recovered
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil || r.ClientSecret == "" || r.ClientID == "" {
		t.Fatalf("not a credential line: %q (%v)", out, err)
	}
	return r
}

// tokenOf asks the token endpoint for a client-credentials token.
func tokenOf(t *testing.T, r recovered) string {
	t.Helper()
	resp, err := http.PostForm(r.TokenURL, url.Values{"grant_type": {"client_credentials"},
		"client_id": {r.ClientID}, "client_secret": {r.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &body) != nil {
		t.Fatalf("token for %s: %d %s", r.ClientID, resp.StatusCode, raw)
	}
	return body.AccessToken
}

// call sends a JSON request with a bearer token and returns the status and body.
func call(t *testing.T, method, u, tok string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// The bootstrap line is lost (issue 10 item 5), and a workspace has no administrator at
// all (an MSP tenant; issue 9 item 3): `keyhold admin recover`, run against the store of a
// running server, issues an administrator credential that works on the very next request.
func TestAdminRecoverWithTheRealBinary(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	s := startServer(t, dir, nil, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--sync-interval", "1h")
	s.waitFor(t, "readiness", func() bool { code, _ := get(base + "/readyz"); return code == 200 })
	s.waitFor(t, "the bootstrap line", func() bool { return strings.Contains(s.stdout.String(), "clientSecret") })
	lost := parseLine(t, s.stdout.String())

	// The first workspace by name, for its creator (the bootstrap administrator).
	r := runBinary(t, dir, nil, "admin", "recover", "--workspace", "default", "--base-url", base)
	if r.code != 0 {
		t.Fatalf("admin recover: exit %d: %s", r.code, r.stderr)
	}
	rec := parseLine(t, r.stdout)
	if rec.WorkspaceID != lost.WorkspaceID || rec.UserID != lost.UserID || rec.ClientID == lost.ClientID || rec.ClientSecret == lost.ClientSecret {
		t.Fatalf("recovered %+v, lost %+v", rec, lost)
	}
	// The server (syncing only on a miss, with --sync-interval 1h) accepts it at once, as an
	// administrator: it deletes the lost credential, which needs glp.workspace.delete.
	tok := tokenOf(t, rec)
	if code, raw := call(t, http.MethodDelete, base+"/workspaces/v1/credentials/"+lost.ClientID, tok, nil); code != http.StatusNoContent {
		t.Fatalf("delete the lost credential with the recovered one: %d %s", code, raw)
	}
	// Run again: the role is not assigned twice, a second credential is issued.
	again := parseLine(t, runBinary(t, dir, nil, "admin", "recover", "--workspace", rec.WorkspaceID, "--base-url", base).stdout)
	if again.ClientID == rec.ClientID || again.UserID != rec.UserID {
		t.Fatalf("second recovery %+v", again)
	}
	code, raw := call(t, http.MethodGet, base+"/authorization/v2alpha2/role-assignments?filter="+
		url.QueryEscape("subject in ('user:"+rec.UserID+"') and role in ('grn:glp/providers/authorization/roles/glp.workspace-administrator')"), tokenOf(t, again), nil)
	if code != http.StatusOK || !strings.Contains(string(raw), `"count":1`) {
		t.Fatalf("administrator assignments after two recoveries: %d %s", code, raw)
	}

	// An MSP tenant starts with no administrator of its own: recover one, a new user.
	msp := parseLine(t, runBinary(t, dir, nil, "workspace", "create", "--name", "Provider", "--type", "MSP",
		"--admin-email", "msp@example.test", "--base-url", base).stdout)
	code, raw = call(t, http.MethodPost, base+"/workspaces/v1/msp-tenants", tokenOf(t, msp), map[string]any{"workspaceName": "Customer"})
	if code != http.StatusCreated {
		t.Fatalf("create tenant: %d %s", code, raw)
	}
	var tenant struct{ ID string }
	_ = json.Unmarshal(raw, &tenant)
	r = runBinary(t, dir, nil, "admin", "recover", "--workspace", "Customer", "--email", "Ops@Example.test", "--base-url", base)
	if r.code != 0 {
		t.Fatalf("admin recover of the tenant: exit %d: %s", r.code, r.stderr)
	}
	ten := parseLine(t, r.stdout)
	if ten.WorkspaceID != tenant.ID || !strings.Contains(ten.Issuer, strings.ReplaceAll(tenant.ID, "-", "")) {
		t.Fatalf("tenant recovery %+v, tenant %s", ten, tenant.ID)
	}
	tenTok := tokenOf(t, ten)
	code, raw = call(t, http.MethodGet, base+"/identity/v1/users", tenTok, nil)
	if code != http.StatusOK || !strings.Contains(string(raw), "ops@example.test") {
		t.Fatalf("the tenant's new administrator lists users: %d %s", code, raw)
	}
	if code, raw = call(t, http.MethodDelete, base+"/workspaces/v1/credentials/"+ten.ClientID, tenTok, nil); code != http.StatusNoContent {
		t.Fatalf("the tenant's new administrator deletes a credential: %d %s", code, raw)
	}

	// Mistakes fail with a message and change nothing.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--workspace", "nope"}, `no workspace has the id or name "nope"`},
		{[]string{"--workspace", "default", "--email", "not an email"}, "is not a plain email address"},
		{[]string{"--workspace", "default", "--data-dir", "./elsewhere"}, "only `keyhold serve` creates a store"},
	} {
		r := runBinary(t, dir, nil, append([]string{"admin", "recover"}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want a failure saying %q", c.args, r.code, r.stdout, r.stderr, c.want)
		}
	}
}

// On PostgreSQL with two nodes, a credential recovered through one store URL works on both
// nodes at once: neither needs a poll to accept it.
func TestAdminRecoverOnTwoPostgreSQLNodes(t *testing.T) {
	db := pgtest.Database(t)
	dir := t.TempDir()
	var bases []string
	for range 2 {
		port := freePort(t)
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		s := startServer(t, dir, nil, "--database", db, "--listen", fmt.Sprintf("127.0.0.1:%d", port),
			"--base-url", "http://keyhold.test", "--sync-interval", "1h")
		s.waitFor(t, "readiness", func() bool { code, _ := get(base + "/readyz"); return code == 200 })
		bases = append(bases, base)
	}
	r := runBinary(t, dir, nil, "admin", "recover", "--database", db, "--workspace", "default")
	if r.code != 0 {
		t.Fatalf("admin recover: exit %d: %s", r.code, r.stderr)
	}
	rec := parseLine(t, r.stdout)
	if !strings.HasPrefix(rec.Issuer, "http://keyhold.test/") {
		t.Fatalf("the issuer is not the servers' base URL: %+v", rec)
	}
	path := strings.TrimPrefix(rec.TokenURL, "http://keyhold.test")
	for _, base := range bases {
		// The issuer names the public base URL; the test reaches each node directly.
		rec.TokenURL = base + path
		tok := tokenOf(t, rec)
		if code, raw := call(t, http.MethodGet, base+"/identity/v1/users", tok, nil); code != http.StatusOK {
			t.Fatalf("%s: the recovered administrator lists users: %d %s", base, code, raw)
		}
	}
}
