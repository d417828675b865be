package client_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/keyhold/keyhold/client"
)

// A client configured with Scopes gets narrowed tokens: it reads, it cannot write, and an
// item that names no permission is the token endpoint's invalid_scope as an *Error.
func TestClientScopes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	scoped := func(scopes ...string) *client.Client {
		c, err := client.New(client.Config{BaseURL: w.e.Base, WorkspaceID: w.e.Admin.WorkspaceID, ClientID: w.e.Admin.ClientID,
			ClientSecret: w.e.Admin.ClientSecret, Scopes: scopes, HTTPClient: &http.Client{Transport: newChecking(t)}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	view := scoped("glp.workspace.view")
	for _, err := range view.ListCredentials(ctx, nil) {
		if err != nil {
			t.Fatalf("a view-scoped client lists: %v", err)
		}
	}
	_, err := view.CreateCredential(ctx, client.CredentialInput{Name: "not allowed"})
	wantError(t, err, http.StatusForbidden)
	if _, err := w.admin.CreateCredential(ctx, client.CredentialInput{Name: "allowed"}); err != nil {
		t.Fatalf("the unscoped client writes: %v", err)
	}
	_, err = scoped("glp.nothing.here").CreateCredential(ctx, client.CredentialInput{Name: "x"})
	if ke := wantError(t, err, http.StatusBadRequest); ke.ErrorCode != "invalid_scope" {
		t.Fatalf("unknown scope item: %v, want invalid_scope", ke)
	}
}
