package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/workspace"
)

// oaCredential is the part of a credential response these tests read.
type oaCredential struct {
	ID           string `json:"id"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	Generation   int64  `json:"generation"`
}

func oaCreateCredential(t testing.TB, e *apptest.Env, tok, name string) oaCredential {
	t.Helper()
	resp, body := e.Do(t, http.MethodPost, "/workspaces/v1/credentials", tok, map[string]string{"credentialName": name})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create credential: %d %s", resp.StatusCode, body)
	}
	var c oaCredential
	if err := json.Unmarshal(body, &c); err != nil || c.ClientSecret == "" || c.ClientID != c.ID {
		t.Fatalf("created credential %s: %v", body, err)
	}
	return c
}

// oaTokenStatus tries to get a token and returns the status and the OAuth error code.
func oaTokenStatus(t testing.TB, e *apptest.Env, ws, clientID, secret string) (int, string) {
	t.Helper()
	resp, body := e.PostForm(t, e.TokenURL(ws), oaClientForm(clientID, secret))
	var oe oaError
	_ = json.Unmarshal(body, &oe)
	return resp.StatusCode, oe.Error
}

// Reset refuses the old secret and the old tokens at once; delete refuses everything of the
// credential at once.
func TestOAuthResetAndDelete(t *testing.T) {
	e := apptest.Start(t, app.Config{SyncInterval: time.Hour}) // no background sync hides a stale view
	a := e.Admin
	admin := e.AdminToken(t)
	c := oaCreateCredential(t, e, admin, "ci")
	if c.Generation != 1 {
		t.Errorf("new credential has generation %d", c.Generation)
	}
	old := e.Token(t, a.WorkspaceID, c.ClientID, c.ClientSecret)
	if got := oaAPIStatus(t, e, old); got != http.StatusOK {
		t.Fatalf("the credential's token: %d", got)
	}
	if m := oaIntrospect(t, e, a.WorkspaceID, a.ClientID, a.ClientSecret, old); m["active"] != true {
		t.Fatalf("introspection before reset: %v", m)
	}

	resp, body := e.Do(t, http.MethodPost, "/workspaces/v1/credentials/"+c.ID+"/reset", admin, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d %s", resp.StatusCode, body)
	}
	var r oaCredential
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if r.Generation != 2 || r.ClientSecret == "" || r.ClientSecret == c.ClientSecret || r.ClientID != c.ClientID {
		t.Fatalf("reset answer: %s", body)
	}
	if st, code := oaTokenStatus(t, e, a.WorkspaceID, c.ClientID, c.ClientSecret); st != 401 || code != "invalid_client" {
		t.Errorf("old secret after reset: %d %s", st, code)
	}
	resp, body = e.Do(t, http.MethodGet, "/workspaces/v1/credentials", old, nil)
	oaGLError(t, resp, body, http.StatusUnauthorized)
	if m := oaIntrospect(t, e, a.WorkspaceID, a.ClientID, a.ClientSecret, old); m["active"] != false || len(m) != 1 {
		t.Errorf("old token introspects as %v", m)
	}
	fresh := e.Token(t, a.WorkspaceID, c.ClientID, r.ClientSecret)
	if got := oaAPIStatus(t, e, fresh); got != http.StatusOK {
		t.Errorf("new token after reset: %d", got)
	}
	if _, claims := oaJWTParts(t, fresh); claims["hpe_credential_generation"] != json.Number("2") {
		t.Errorf("new token's generation claim %v, want 2", claims["hpe_credential_generation"])
	}
	if m := oaIntrospect(t, e, a.WorkspaceID, a.ClientID, a.ClientSecret, fresh); m["active"] != true ||
		m["hpe_credential_generation"] != float64(2) {
		t.Errorf("new token introspects as %v", m)
	}
	// The reset credential's own client can introspect with its new secret, not its old one.
	resp, body = e.PostForm(t, a.Issuer+"/introspect", url.Values{"token": {fresh}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}})
	oaWantError(t, resp, body, http.StatusUnauthorized, "invalid_client")

	resp, body = e.Do(t, http.MethodDelete, "/workspaces/v1/credentials/"+c.ID, admin, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	resp, body = e.Do(t, http.MethodGet, "/workspaces/v1/credentials", fresh, nil)
	oaGLError(t, resp, body, http.StatusUnauthorized)
	if m := oaIntrospect(t, e, a.WorkspaceID, a.ClientID, a.ClientSecret, fresh); m["active"] != false {
		t.Errorf("deleted credential's token introspects as %v", m)
	}
	if st, code := oaTokenStatus(t, e, a.WorkspaceID, c.ClientID, r.ClientSecret); st != 401 || code != "invalid_client" {
		t.Errorf("deleted credential's secret: %d %s", st, code)
	}
	if got := oaAPIStatus(t, e, admin); got != http.StatusOK {
		t.Errorf("the administrator's token after deleting another credential: %d", got)
	}
}

// A workspace created by another process on the same store (as `keyhold workspace create`
// does) can get tokens from the running node at once.
func TestOAuthWorkspaceCreatedElsewhere(t *testing.T) {
	dir := t.TempDir()
	e := apptest.Start(t, app.Config{DataDir: dir, SyncInterval: time.Hour})
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	created, err := workspace.Create(ctx, st, workspace.CreateInput{Name: "made by the CLI", Type: storage.WorkspaceStandard,
		AdminEmail: "cli@example.test", IssuerURL: e.Node.Issuer.IssuerURL, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if created.TokenURL != e.TokenURL(created.WorkspaceID) {
		t.Errorf("printed token URL %s, node serves %s", created.TokenURL, e.TokenURL(created.WorkspaceID))
	}
	tok := e.Token(t, created.WorkspaceID, created.ClientID, created.ClientSecret)
	_, c := oaJWTParts(t, tok)
	if c["iss"] != created.Issuer {
		t.Errorf("iss %v, want %s", c["iss"], created.Issuer)
	}
	resp, body := e.Do(t, http.MethodGet, "/workspaces/v1/credentials", tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the new administrator lists credentials: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), created.ClientID) {
		t.Errorf("the list lacks the bootstrap credential: %s", body)
	}
	// Its metadata is served too.
	req, _ := http.NewRequest(http.MethodGet, created.Issuer+"/.well-known/openid-configuration", nil)
	if resp, body := e.Send(t, req); resp.StatusCode != http.StatusOK {
		t.Errorf("metadata of the new workspace: %d %s", resp.StatusCode, body)
	}
	if m := oaIntrospect(t, e, created.WorkspaceID, created.ClientID, created.ClientSecret, tok); m["active"] != true {
		t.Errorf("introspection at the new issuer: %v", m)
	}
	// A credential added by the other process to the first workspace works at once too.
	secret, hash := credential.NewSecret()
	now := time.Now().UTC().Truncate(time.Microsecond)
	cred := &storage.Credential{ID: ids.New(), WorkspaceID: e.Admin.WorkspaceID, OwnerID: e.Admin.UserID, Name: "from the CLI",
		SecretHash: hash, Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateCredential(ctx, cred, 0); err != nil {
		t.Fatal(err)
	}
	if got := oaAPIStatus(t, e, e.Token(t, e.Admin.WorkspaceID, cred.ID, secret)); got != http.StatusOK {
		t.Errorf("token of a credential created elsewhere: %d", got)
	}
}

// Nothing secret reaches the logs: client secrets (right or wrong), access tokens, and their
// signatures.
func TestOAuthLogsHoldNoSecrets(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	a := e.Admin
	secrets := []string{a.ClientSecret}
	admin := e.AdminToken(t)
	tokens := []string{admin}
	c := oaCreateCredential(t, e, admin, "logged?")
	secrets = append(secrets, c.ClientSecret)
	tokens = append(tokens, e.Token(t, a.WorkspaceID, c.ClientID, c.ClientSecret))

	wrong := []string{"wrong-secret-" + strings.Repeat("q", 40), "Zz9" + strings.Repeat("w", 61)}
	secrets = append(secrets, wrong...)
	for _, w := range wrong {
		e.PostForm(t, a.TokenURL, oaClientForm(c.ClientID, w))
		e.Send(t, oaFormRequest(t, a.TokenURL, url.Values{"grant_type": {"client_credentials"}}, &[2]string{c.ClientID, w}))
		e.PostForm(t, a.TokenURL+"?client_secret="+w, oaClientForm(c.ClientID, w))
	}
	resp, body := e.Do(t, http.MethodPost, "/workspaces/v1/credentials/"+c.ID+"/reset", admin, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d %s", resp.StatusCode, body)
	}
	var r oaCredential
	_ = json.Unmarshal(body, &r)
	secrets = append(secrets, r.ClientSecret)
	t2 := e.Token(t, a.WorkspaceID, c.ClientID, r.ClientSecret)
	tokens = append(tokens, t2)
	oaIntrospect(t, e, a.WorkspaceID, c.ClientID, r.ClientSecret, admin)
	e.PostForm(t, a.Issuer+"/revoke", url.Values{"token": {t2}, "client_id": {c.ClientID}, "client_secret": {r.ClientSecret}})
	e.Do(t, http.MethodGet, "/workspaces/v1/credentials", t2, nil)                       // revoked: 401
	e.Do(t, http.MethodGet, "/workspaces/v1/credentials", tokens[1], nil)                // old generation: 401
	e.Do(t, http.MethodGet, "/workspaces/v1/credentials?token="+admin[:100], admin, nil) // a 400 on the query
	e.Do(t, http.MethodDelete, "/workspaces/v1/credentials/"+c.ID, admin, nil)

	logs := e.Logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("no request was logged; the check below would prove nothing:\n%s", logs)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("a client secret (%.6s...) is in the logs", s)
		}
	}
	for _, tok := range tokens {
		parts := strings.Split(tok, ".")
		for _, p := range []string{tok, parts[1], parts[2]} {
			if strings.Contains(logs, p) {
				t.Errorf("an access token or part of one (%.12s...) is in the logs", p)
			}
		}
	}
}
