package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

type rotatedResp struct {
	credResp
	Secrets []secretResp `json:"secrets"`
}

type secretResp struct {
	Slot      string  `json:"slot"`
	CreatedAt *string `json:"createdAt"`
	ExpiresAt *string `json:"expiresAt"`
}

type secretList struct {
	Items []secretResp `json:"items"`
	Count int          `json:"count"`
}

func rotate(t *testing.T, e *apptest.Env, tok, id string, body any) rotatedResp {
	t.Helper()
	resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+id+"/rotate", tok, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rotate: %d %s", resp.StatusCode, raw)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on a response carrying a secret", cc)
	}
	var r rotatedResp
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func listSecrets(t *testing.T, e *apptest.Env, tok, id string) (secretList, string) {
	t.Helper()
	resp, raw := e.Do(t, http.MethodGet, credsPath+"/"+id+"/secrets", tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list secrets: %d %s", resp.StatusCode, raw)
	}
	var l secretList
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatal(err)
	}
	return l, string(raw)
}

func wantTokenRefused(t *testing.T, e *apptest.Env, ws, id, secret, what string) {
	t.Helper()
	if st, code := credTokenStatus(t, e, ws, id, secret); st != http.StatusUnauthorized || code != "invalid_client" {
		t.Errorf("%s: %d %s, want 401 invalid_client", what, st, code)
	}
}

// A rotation adds a secret while the old one keeps working until the deadline; tokens stay;
// retiring and resetting end it early.
func TestRotateCredentialSecret(t *testing.T) {
	clock := newXNClock()
	e := apptest.Start(t, app.Config{Now: clock.Now})
	ws := e.Admin.WorkspaceID
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "rotated"})
	oldTok := e.Token(t, ws, c.ID, c.ClientSecret)

	r := rotate(t, e, tok, c.ID, map[string]any{"overlapSeconds": 120})
	if !credHexSecret.MatchString(r.ClientSecret) || r.ClientSecret == c.ClientSecret {
		t.Fatalf("rotation secret %q: want a new 256-bit secret", r.ClientSecret)
	}
	if r.Generation != c.Generation || r.ID != c.ID {
		t.Errorf("rotation changed generation %d -> %d (tokens must survive a rotation)", c.Generation, r.Generation)
	}
	if len(r.Secrets) != 2 || r.Secrets[0].Slot != "current" || r.Secrets[0].ExpiresAt != nil ||
		r.Secrets[1].Slot != "previous" || r.Secrets[1].ExpiresAt == nil {
		t.Fatalf("secrets %+v: want current (no expiry) and previous (expiry)", r.Secrets)
	}
	if exp := credWantUTC(t, "expiresAt", *r.Secrets[1].ExpiresAt); !exp.Equal(clock.Now().Add(120 * time.Second).UTC().Truncate(time.Microsecond)) {
		t.Errorf("previous expires at %s, want now + 120 s", exp)
	}

	// Both secrets obtain tokens; the token obtained before the rotation still works.
	e.Token(t, ws, c.ID, c.ClientSecret)
	e.Token(t, ws, c.ID, r.ClientSecret)
	if resp, raw := e.Do(t, http.MethodGet, credsPath, oldTok, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("a token from before the rotation: %d %s", resp.StatusCode, raw)
	}
	l, raw := listSecrets(t, e, tok, c.ID)
	if l.Count != 2 || strings.Contains(raw, c.ClientSecret) || strings.Contains(raw, r.ClientSecret) {
		t.Errorf("secrets list %s: want two entries and no secret value", raw)
	}

	// A second rotation while the previous secret lives is refused: nothing is retired silently.
	resp, body := e.Do(t, http.MethodPost, credsPath+"/"+c.ID+"/rotate", tok, nil)
	wantCredErr(t, resp, body, http.StatusConflict)
	e.Token(t, ws, c.ID, c.ClientSecret)

	// The deadline passes: the old secret is refused, the new one works.
	clock.Add(121 * time.Second)
	wantTokenRefused(t, e, ws, c.ID, c.ClientSecret, "the rotated-out secret after its deadline")
	e.Token(t, ws, c.ID, r.ClientSecret)
	if l, raw := listSecrets(t, e, tok, c.ID); l.Count != 1 || l.Items[0].Slot != "current" {
		t.Errorf("after the deadline: %s, want the current secret only", raw)
	}

	// Retire early.
	r2 := rotate(t, e, tok, c.ID, nil) // default overlap: a day
	if exp := credWantUTC(t, "expiresAt", *r2.Secrets[1].ExpiresAt); !exp.Equal(clock.Now().Add(24 * time.Hour).UTC().Truncate(time.Microsecond)) {
		t.Errorf("default overlap: previous expires at %s, want a day from now", exp)
	}
	e.Token(t, ws, c.ID, r.ClientSecret)
	resp, body = e.Do(t, http.MethodDelete, credsPath+"/"+c.ID+"/secrets/previous", tok, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("retire: %d %s", resp.StatusCode, body)
	}
	wantTokenRefused(t, e, ws, c.ID, r.ClientSecret, "a retired previous secret")
	e.Token(t, ws, c.ID, r2.ClientSecret)
	resp, body = e.Do(t, http.MethodDelete, credsPath+"/"+c.ID+"/secrets/previous", tok, nil)
	wantCredErr(t, resp, body, http.StatusNotFound)

	// Reset keeps GreenLake's meaning: every secret and every token dies at once.
	r3 := rotate(t, e, tok, c.ID, map[string]any{"overlapSeconds": 3600})
	liveTok := e.Token(t, ws, c.ID, r2.ClientSecret)
	resp, body = e.Do(t, http.MethodPost, credsPath+"/"+c.ID+"/reset", tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d %s", resp.StatusCode, body)
	}
	wantTokenRefused(t, e, ws, c.ID, r2.ClientSecret, "the previous secret after a reset")
	wantTokenRefused(t, e, ws, c.ID, r3.ClientSecret, "the current secret after a reset")
	resp, body = e.Do(t, http.MethodGet, credsPath, liveTok, nil)
	wantCredErr(t, resp, body, http.StatusUnauthorized)
	if l, raw := listSecrets(t, e, tok, c.ID); l.Count != 1 {
		t.Errorf("after a reset: %s, want one secret", raw)
	}
}

func TestRotateCredentialSecretBadInput(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "bad input"})
	for _, body := range []any{
		map[string]any{"overlapSeconds": 59},
		map[string]any{"overlapSeconds": 0},
		map[string]any{"overlapSeconds": -1},
		map[string]any{"overlapSeconds": 2592001},
		map[string]any{"overlapSeconds": "3600"},
		map[string]any{"overlapSeconds": 1e300},
	} {
		resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+c.ID+"/rotate", tok, body)
		wantCredBadField(t, resp, raw, "overlapSeconds")
	}
	resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+c.ID+"/rotate", tok, map[string]any{"overlap": 60})
	wantCredErr(t, resp, raw, http.StatusBadRequest)
	resp, raw = e.Do(t, http.MethodPost, credsPath+"/not-a-uuid/rotate", tok, nil)
	wantCredBadField(t, resp, raw, "credentialId")
	// Nothing changed: the one secret still works and no previous secret exists.
	e.Token(t, e.Admin.WorkspaceID, c.ID, c.ClientSecret)
	if l, raw := listSecrets(t, e, tok, c.ID); l.Count != 1 {
		t.Errorf("after refused rotations: %s", raw)
	}
}

// Another workspace learns nothing; a member without edit rights is refused; the list of
// secrets needs view rights.
func TestRotateCredentialSecretAcrossWorkspaces(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "mine"})
	other := e.CreateWorkspace(t, "Other", storage.WorkspaceStandard, "other-admin@example.test")
	otherTok := e.Token(t, other.WorkspaceID, other.ClientID, other.ClientSecret)
	for _, req := range [][2]string{
		{http.MethodPost, "/rotate"}, {http.MethodGet, "/secrets"}, {http.MethodDelete, "/secrets/previous"},
	} {
		resp, raw := e.Do(t, req[0], credsPath+"/"+c.ID+req[1], otherTok, nil)
		g := wantCredErr(t, resp, raw, http.StatusNotFound)
		if strings.Contains(string(raw), c.CredentialName) || strings.Contains(g.Message, c.ID) {
			t.Errorf("%s %s from another workspace leaks: %s", req[0], req[1], raw)
		}
	}
	observer := e.TokenFor(t, e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceObserver))
	resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+e.Admin.ClientID+"/rotate", observer, nil)
	wantCredErr(t, resp, raw, http.StatusForbidden)
	nobody := e.TokenFor(t, e.UserWithRole(t, e.Admin.WorkspaceID, ""))
	resp, raw = e.Do(t, http.MethodGet, credsPath+"/"+c.ID+"/secrets", nobody, nil)
	wantCredErr(t, resp, raw, http.StatusForbidden)
	// Nothing was rotated.
	e.Token(t, e.Admin.WorkspaceID, c.ID, c.ClientSecret)
}
