package client_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
)

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []client.Config{
		{BaseURL: "ftp://x", WorkspaceID: "0123456789abcdef0123456789abcdef", ClientID: "a", ClientSecret: "b"},
		{BaseURL: "http://x", WorkspaceID: "not-a-uuid", ClientID: "a", ClientSecret: "b"},
		{BaseURL: "http://x", WorkspaceID: "0123456789abcdef0123456789abcdef", ClientID: "a"},
		{BaseURL: "http://x"},
		{BaseURL: "http://x", WorkspaceID: "0123456789abcdef0123456789abcdef", ClientID: "a", ClientSecret: "b", PrivateKey: ed25519.NewKeyFromSeed(make([]byte, 32))},
	} {
		if _, err := client.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestWrongSecretIsAnOAuthError(t *testing.T) {
	w := newWorld(t)
	c := newClient(t, w.e, w.e.Admin.WorkspaceID, w.e.Admin.ClientID, strings.Repeat("0", 64))
	_, err := c.GetUser(context.Background(), w.e.Admin.UserID)
	ke := wantError(t, err, http.StatusUnauthorized)
	if ke.ErrorCode != "invalid_client" {
		t.Fatalf("error code %q, want invalid_client", ke.ErrorCode)
	}
	if strings.Contains(ke.Error(), strings.Repeat("0", 64)) {
		t.Fatal("the error repeats the secret")
	}
}

func TestCredentials(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cr := must[*client.Credential](t)(w.admin.CreateCredential(ctx, client.CredentialInput{Name: "ci"}))
	if len(cr.ClientSecret) != 64 || cr.ClientID != cr.ID || cr.OwnerID != w.e.Admin.UserID || cr.Generation != 1 {
		t.Fatalf("created %+v", cr)
	}
	// The new credential works: a client made from it reads its own list, without secrets.
	c2 := newClient(t, w.e, w.e.Admin.WorkspaceID, cr.ClientID, cr.ClientSecret)
	list, err := client.Collect(c2.ListCredentials(ctx, &client.CredentialListOptions{Filter: "credentialName eq 'ci'"}))
	if err != nil || len(list) != 1 || list[0].ID != cr.ID || list[0].ClientSecret != "" || list[0].CreatedAt.IsZero() {
		t.Fatalf("list %+v, %v", list, err)
	}
	all, err := client.Collect(w.admin.ListCredentials(ctx, nil))
	if err != nil || len(all) != 2 {
		t.Fatalf("list all %d, %v", len(all), err)
	}
	// Reset: a new secret, a new generation; the old client's token is refused.
	rs := must[*client.Credential](t)(w.admin.ResetCredential(ctx, cr.ID))
	if rs.ClientSecret == "" || rs.ClientSecret == cr.ClientSecret || rs.Generation != 2 {
		t.Fatalf("reset %+v", rs)
	}
	_, err = client.Collect(c2.ListCredentials(ctx, nil))
	wantError(t, err, http.StatusUnauthorized)
	// Bad input names the field; another workspace's credential is not found.
	_, err = w.admin.CreateCredential(ctx, client.CredentialInput{Name: ""})
	wantField(t, err, "credentialName")
	_, err = client.Collect(w.admin.ListCredentials(ctx, &client.CredentialListOptions{Filter: "nope eq 'x'"}))
	wantField(t, err, "filter")
	wantError(t, w.other.DeleteCredential(ctx, cr.ID), http.StatusNotFound)
	_, err = w.other.ResetCredential(ctx, cr.ID)
	wantError(t, err, http.StatusNotFound)
	// Delete: gone.
	if err := w.admin.DeleteCredential(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	wantError(t, w.admin.DeleteCredential(ctx, cr.ID), http.StatusNotFound)
}

func TestUsersPagingAndErrors(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	want := map[string]bool{w.e.Admin.UserID: true}
	for i := range 6 {
		id, err := w.admin.AddUser(ctx, fmt.Sprintf("user%d@example.test", i))
		if err != nil || id == "" {
			t.Fatalf("add user: %q %v", id, err)
		}
		want[id] = true
	}
	// Pages of 2 across 7 users: every user exactly once.
	seen := map[string]int{}
	for u, err := range w.admin.ListUsers(ctx, &client.ListOptions{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		seen[u.ID]++
	}
	if len(seen) != len(want) {
		t.Fatalf("saw %d users, want %d", len(seen), len(want))
	}
	for id, n := range seen {
		if !want[id] || n != 1 {
			t.Fatalf("user %s seen %d times (want %v)", id, n, want[id])
		}
	}
	// Breaking out of the range stops the iteration.
	n := 0
	for range w.admin.ListUsers(ctx, &client.ListOptions{PageSize: 2}) {
		n++
		if n == 3 {
			break
		}
	}
	// A filter.
	got, err := client.Collect(w.admin.ListUsers(ctx, &client.ListOptions{Filter: "username eq 'user3@example.test'"}))
	if err != nil || len(got) != 1 || got[0].Username != "user3@example.test" {
		t.Fatalf("filtered %+v %v", got, err)
	}
	u := must[*client.User](t)(w.admin.GetUser(ctx, got[0].ID))
	if u.Username != "user3@example.test" || u.UserStatus != "VERIFIED" {
		t.Fatalf("user %+v", u)
	}
	// Another workspace: 404 for the user, 403 would leak nothing more; bad filter: 400 naming it.
	_, err = w.other.GetUser(ctx, u.ID)
	wantError(t, err, http.StatusNotFound)
	wantError(t, w.other.RemoveUser(ctx, u.ID), http.StatusNotFound)
	_, err = client.Collect(w.admin.ListUsers(ctx, &client.ListOptions{Filter: "lastLogin eq 'x'"}))
	wantField(t, err, "filter")
	_, err = w.admin.AddUser(ctx, "not an email")
	wantField(t, err, "email")
	_, err = w.admin.AddUser(ctx, "user3@example.test")
	wantError(t, err, http.StatusConflict)
	// Remove.
	if err := w.admin.RemoveUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.admin.GetUser(ctx, u.ID)
	wantError(t, err, http.StatusNotFound)
}

func TestForbiddenFromAnObserver(t *testing.T) {
	w := newWorld(t)
	p := w.e.UserWithRole(t, w.e.Admin.WorkspaceID, "glp.workspace-observer")
	obs := newClient(t, w.e, p.WorkspaceID, p.ClientID, p.Secret)
	_, err := obs.AddUser(context.Background(), "x@example.test")
	ke := wantError(t, err, http.StatusForbidden)
	if ke.ErrorCode != "HPE_GL_ERROR_FORBIDDEN" || ke.DebugID == "" || ke.Message == "" {
		t.Fatalf("error %+v", ke)
	}
}

func TestContextCancelled(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := w.admin.GetUser(ctx, w.e.Admin.UserID)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestTokenIsReused(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	t1 := must[string](t)(tokenString(w.admin, ctx))
	t2 := must[string](t)(tokenString(w.admin, ctx))
	if t1 != t2 {
		t.Fatal("a valid token was fetched again")
	}
}

func tokenString(c *client.Client, ctx context.Context) (string, error) {
	tok, err := c.Token(ctx)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// TestTokenIsRefreshed makes keyhold's token answers say expires_in 5 (as for a token near
// its end): within oauth2's ten-second margin, so the client must fetch a new token for every
// call instead of sending one it considers expired.
func TestTokenIsRefreshed(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	c, err := client.New(client.Config{BaseURL: e.Base, WorkspaceID: e.Admin.WorkspaceID, ClientID: e.Admin.ClientID,
		ClientSecret: e.Admin.ClientSecret, HTTPClient: &http.Client{Transport: shortTokens{}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t1 := must[string](t)(tokenString(c, ctx))
	t2 := must[string](t)(tokenString(c, ctx))
	if t1 == t2 {
		t.Fatal("a token about to expire was reused")
	}
	if _, err := c.GetUser(ctx, e.Admin.UserID); err != nil {
		t.Fatal(err)
	}
}

// shortTokens rewrites the expires_in of token answers to 5 seconds.
type shortTokens struct{}

func (shortTokens) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/token") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	body["expires_in"] = 5
	b, _ := json.Marshal(body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestRefusedTokenIsReplaced: the client's cached token is revoked; the next call gets a
// fresh token and succeeds.
func TestRefusedTokenIsReplaced(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	old := must[string](t)(tokenString(w.admin, ctx))
	if err := w.admin.Revoke(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := w.admin.GetUser(ctx, w.e.Admin.UserID); err != nil {
		t.Fatalf("after revocation of the cached token: %v", err)
	}
	if now := must[string](t)(tokenString(w.admin, ctx)); now == old {
		t.Fatal("the revoked token is still cached")
	}
	// A wrong secret is not retried into success: 401 stays 401.
	bad := newClient(t, w.e, w.e.Admin.WorkspaceID, w.e.Admin.ClientID, strings.Repeat("1", 64))
	_, err := bad.GetUser(ctx, w.e.Admin.UserID)
	wantError(t, err, http.StatusUnauthorized)
}

// TestIfMatch: an update made against a stale generation is refused with 412 and changes
// nothing; against the current one it applies.
func TestIfMatch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := must[*client.Role](t)(w.admin.CreateRole(ctx, client.RoleInput{Name: "r1", Permissions: []string{"glp.workspace.view"}}))
	must[*client.Role](t)(w.admin.UpdateRole(client.WithIfMatch(ctx, r.Generation), r.ID,
		client.RoleInput{Name: "r2", Permissions: []string{"glp.workspace.view"}}))
	_, err := w.admin.UpdateRole(client.WithIfMatch(ctx, r.Generation), r.ID,
		client.RoleInput{Name: "r3", Permissions: []string{"glp.workspace.view"}})
	wantError(t, err, http.StatusPreconditionFailed)
	wantError(t, w.admin.DeleteRole(client.WithIfMatch(ctx, r.Generation), r.ID), http.StatusPreconditionFailed)
	if got := must[*client.Role](t)(w.admin.GetRole(ctx, r.ID)); got.Name != "r2" {
		t.Fatalf("role %+v", got)
	}
}

func TestCredentialRotation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cr := must[*client.Credential](t)(w.admin.CreateCredential(ctx, client.CredentialInput{Name: "rot"}))
	rot := must[*client.RotatedCredential](t)(w.admin.RotateCredential(ctx, cr.ID, time.Hour))
	if rot.ClientSecret == "" || rot.ClientSecret == cr.ClientSecret || rot.Generation != cr.Generation || len(rot.Secrets) != 2 {
		t.Fatalf("rotated %+v", rot)
	}
	// Both secrets work during the overlap.
	for _, s := range []string{cr.ClientSecret, rot.ClientSecret} {
		c := newClient(t, w.e, w.e.Admin.WorkspaceID, cr.ClientID, s)
		if _, err := c.Token(ctx); err != nil {
			t.Fatalf("secret during the overlap: %v", err)
		}
	}
	secrets := must[[]client.CredentialSecret](t)(w.admin.ListCredentialSecrets(ctx, cr.ID))
	if len(secrets) != 2 || secrets[1].Slot != "previous" || secrets[1].ExpiresAt == nil {
		t.Fatalf("secrets %+v", secrets)
	}
	_, err := w.admin.RotateCredential(ctx, cr.ID, time.Hour)
	wantError(t, err, http.StatusConflict)
	_, err = w.admin.RotateCredential(ctx, cr.ID, 100*24*time.Hour)
	wantField(t, err, "overlapSeconds")
	_, err = w.other.ListCredentialSecrets(ctx, cr.ID)
	wantError(t, err, http.StatusNotFound)
	wantError(t, w.other.RetirePreviousSecret(ctx, cr.ID), http.StatusNotFound)
	if err := w.admin.RetirePreviousSecret(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	old := newClient(t, w.e, w.e.Admin.WorkspaceID, cr.ClientID, cr.ClientSecret)
	_, err = old.Token(ctx)
	wantError(t, err, http.StatusUnauthorized)
	wantError(t, w.admin.RetirePreviousSecret(ctx, cr.ID), http.StatusNotFound)
}
