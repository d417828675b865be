package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// TestWorkspaceIsolation checks that an administrator of workspace B learns nothing about
// workspace A's credentials and can do nothing to them.
func TestWorkspaceIsolation(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	a := e.CreateWorkspace(t, "Alpha Isolated Corp", storage.WorkspaceStandard, "alpha-admin@example.test")
	b := e.CreateWorkspace(t, "Beta Isolated Corp", storage.WorkspaceStandard, "beta-admin@example.test")
	aTok := e.Token(t, a.WorkspaceID, a.ClientID, a.ClientSecret)
	bTok := e.Token(t, b.WorkspaceID, b.ClientID, b.ClientSecret)

	aCreds := []credResp{
		createCred(t, e, aTok, map[string]string{"credentialName": "alpha-deploy-credential"}),
		createCred(t, e, aTok, map[string]string{"credentialName": "alpha-backup-credential"}),
	}
	aIDs := []string{a.ClientID, aCreds[0].ID, aCreds[1].ID}
	// Everything that identifies workspace A; none of it may appear in an answer to B.
	secrets := []string{a.WorkspaceID, ids.Hex(a.WorkspaceID), a.WorkspaceName, a.UserID, a.ClientSecret,
		aCreds[0].CredentialName, aCreds[1].CredentialName, aCreds[0].ClientSecret, aCreds[1].ClientSecret}
	secrets = append(secrets, aIDs...)
	leaks := func(t *testing.T, what string, body []byte) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(body), s) {
				t.Errorf("%s: the answer to workspace B contains %q of workspace A: %s", what, s, body)
			}
		}
	}

	t.Run("list", func(t *testing.T) {
		for _, filter := range []string{
			"",
			"ownerId eq '" + a.UserID + "'",
			"ownerId in ('" + a.UserID + "', '" + b.UserID + "')",
			"credentialName eq 'alpha-deploy-credential'",
			"tenantId eq '" + a.WorkspaceID + "'",
			"tenantId ne '" + a.WorkspaceID + "'",
		} {
			l, raw := listCreds(t, e, bTok, filter)
			leaks(t, "list "+filter, raw)
			for _, c := range l.Items {
				if c.ID != b.ClientID {
					t.Errorf("list %q shows %s, which is not B's", filter, c.ID)
				}
			}
		}
	})

	t.Run("delete and reset", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, suffix string
		}{
			{"delete", http.MethodDelete, ""},
			{"reset", http.MethodPost, "/reset"},
		} {
			resp, ref := e.Do(t, tc.method, credsPath+"/"+ids.New()+tc.suffix, bTok, nil)
			wantCredErr(t, resp, ref, http.StatusNotFound)
			want := credWithoutDebugID(t, ref)
			for _, id := range aIDs {
				for _, spelled := range []string{id, ids.Hex(id), strings.ToUpper(id)} {
					resp, raw := e.Do(t, tc.method, credsPath+"/"+spelled+tc.suffix, bTok, nil)
					wantCredErr(t, resp, raw, http.StatusNotFound)
					if got := credWithoutDebugID(t, raw); got != want {
						t.Errorf("%s of A's %s answers\n%s\nbut of a nonexistent id\n%s", tc.name, spelled, got, want)
					}
					leaks(t, tc.name, raw)
				}
			}
		}
		// A's credentials are untouched and still work.
		for _, c := range aCreds {
			e.Token(t, a.WorkspaceID, c.ID, c.ClientSecret)
		}
		l, _ := listCreds(t, e, aTok, "")
		for _, c := range l.Items {
			if c.Generation != 1 {
				t.Errorf("A's credential %s has generation %d after B's reset attempts", c.ID, c.Generation)
			}
		}
		if l.Count != len(aIDs) {
			t.Errorf("A holds %d credentials, want %d", l.Count, len(aIDs))
		}
	})

	t.Run("create referencing A", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"credentialName": "x", "ownerId": a.UserID},
			{"credentialName": "x", "associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + a.WorkspaceID}},
		} {
			resp, raw := e.Do(t, http.MethodPost, credsPath, bTok, body)
			wantCredErr(t, resp, raw, http.StatusBadRequest)
			leaks(t, "create", raw)
		}
	})

	t.Run("A's credential at B's token endpoint", func(t *testing.T) {
		for _, c := range []struct{ id, secret string }{{a.ClientID, a.ClientSecret}, {aCreds[0].ID, aCreds[0].ClientSecret}} {
			resp, raw := e.PostForm(t, e.TokenURL(b.WorkspaceID), url.Values{"grant_type": {"client_credentials"},
				"client_id": {c.id}, "client_secret": {c.secret}})
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(raw), `"invalid_client"`) {
				t.Errorf("A's credential at B's issuer: %d %s, want 401 invalid_client", resp.StatusCode, raw)
			}
			// With HTTP Basic the answer is the same.
			req, _ := http.NewRequest(http.MethodPost, e.TokenURL(b.WorkspaceID), strings.NewReader("grant_type=client_credentials"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
			resp, braw := e.Send(t, req)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(braw), `"invalid_client"`) {
				t.Errorf("A's credential at B's issuer (Basic): %d %s", resp.StatusCode, braw)
			}
			leaks(t, "token", raw)
			leaks(t, "token", braw)
		}
		// And it is answered exactly as an unknown client is.
		_, unknown := e.PostForm(t, e.TokenURL(b.WorkspaceID), url.Values{"grant_type": {"client_credentials"},
			"client_id": {ids.New()}, "client_secret": {a.ClientSecret}})
		_, foreign := e.PostForm(t, e.TokenURL(b.WorkspaceID), url.Values{"grant_type": {"client_credentials"},
			"client_id": {a.ClientID}, "client_secret": {a.ClientSecret}})
		if string(unknown) != string(foreign) {
			t.Errorf("a foreign client is told apart from an unknown one:\n%s\n%s", foreign, unknown)
		}
	})

	t.Run("A's token at B", func(t *testing.T) {
		// A's token acts in A only: B's data is not reachable through it either way.
		l, raw := listCreds(t, e, aTok, "ownerId eq '"+b.UserID+"'")
		if l.Count != 0 {
			t.Errorf("A sees B's credentials: %s", raw)
		}
	})
}
