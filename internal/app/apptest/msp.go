package apptest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/token"
)

// CreateTenant creates a tenant of an MSP through the API with the MSP token tok and returns
// its id.
func (e *Env) CreateTenant(t testing.TB, tok, name string) string {
	t.Helper()
	resp, body := e.Do(t, http.MethodPost, "/workspaces/v1/msp-tenants", tok, map[string]string{"workspaceName": name})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create tenant: %d %s", resp.StatusCode, body)
	}
	var out struct{ ID string }
	if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
		t.Fatalf("create tenant answer %s: %v", body, err)
	}
	return out.ID
}

// Assign gives subject (a principal string) the predefined role slug on scope (a GRN), as an
// assignment made in workspaceID, and returns the assignment id.
func (e *Env) Assign(t testing.TB, workspaceID, subject, slug, scope string) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := &storage.Assignment{ID: ids.New(), WorkspaceID: workspaceID, Subject: subject, RoleID: rbac.PredefinedRoleID(slug),
		Scopes: []string{scope}, Source: "LOCAL", Generation: 1, CreatedAt: now, UpdatedAt: now}
	must(t, e.Node.Store.CreateAssignment(context.Background(), a))
	e.sync(t)
	return a.ID
}

// Unassign deletes an assignment.
func (e *Env) Unassign(t testing.TB, id string) {
	t.Helper()
	must(t, e.Node.Store.DeleteAssignment(context.Background(), id))
	e.sync(t)
}

// UserPrincipal is the principal string of a user.
func UserPrincipal(id string) string { return principal.User(id) }

// Exchange posts an RFC 8693 token exchange of subjectToken to a tenant's token endpoint.
func (e *Env) Exchange(t testing.TB, tenantID, subjectToken string) (*http.Response, []byte) {
	t.Helper()
	return e.PostForm(t, e.TokenURL(tenantID), url.Values{"grant_type": {token.GrantTokenExchange},
		"subject_token": {subjectToken}, "subject_token_type": {token.TokenTypeAccessToken}})
}
