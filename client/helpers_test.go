package client_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
)

// world is a running keyhold with SDK clients for its bootstrap administrator and for the
// administrator of a second workspace.
type world struct {
	e       *apptest.Env
	admin   *client.Client // administrator of the bootstrap workspace
	other   *client.Client // administrator of another workspace
	otherWS string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	e := apptest.Start(t, app.Config{})
	w := &world{e: e}
	w.admin = newClient(t, e, e.Admin.WorkspaceID, e.Admin.ClientID, e.Admin.ClientSecret)
	o := e.CreateWorkspace(t, "other", "STANDARD_ENTERPRISE", "other-admin@example.test")
	w.other = newClient(t, e, o.WorkspaceID, o.ClientID, o.ClientSecret)
	w.otherWS = o.WorkspaceID
	return w
}

func newClient(t *testing.T, e *apptest.Env, ws, id, secret string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: e.Base, WorkspaceID: ws, ClientID: id, ClientSecret: secret,
		HTTPClient: &http.Client{Transport: newChecking(t)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantError checks that err is an *client.Error with this status and returns it.
func wantError(t *testing.T, err error, status int) *client.Error {
	t.Helper()
	var ke *client.Error
	if !errors.As(err, &ke) {
		t.Fatalf("error %v (%T) is not a *client.Error", err, err)
	}
	if ke.StatusCode != status {
		t.Fatalf("status %d, want %d: %v", ke.StatusCode, status, ke)
	}
	if status >= 400 && status != http.StatusUnauthorized && ke.DebugID == "" && strings.HasPrefix(ke.ErrorCode, "HPE") {
		t.Fatalf("no debugId in %v", ke)
	}
	return ke
}

// wantField checks a 400 naming field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	ke := wantError(t, err, http.StatusBadRequest)
	if !ke.HasField(field) {
		t.Fatalf("400 names %v, want %q: %v", ke.Fields(), field, ke)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
