package app_test

import (
	"net/http"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/rbac"
)

func TestObserverCanListButNotChange(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	obs := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceObserver)
	tok := e.TokenFor(t, obs)
	if resp, body := e.Do(t, http.MethodGet, "/workspaces/v1/credentials", tok, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("observer list: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.Do(t, http.MethodPost, "/workspaces/v1/credentials", tok, map[string]string{"credentialName": "x"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("observer create: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.Do(t, http.MethodDelete, "/workspaces/v1/credentials/"+obs.ClientID, tok, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("observer delete: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.Do(t, http.MethodPost, "/workspaces/v1/credentials/"+obs.ClientID+"/reset", tok, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("observer reset: %d %s", resp.StatusCode, body)
	}
}
