package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// iamWorld is a node with the provider "svc" registered (resource types servers, nics and
// disks; permissions view, power (fixed scope), legacy (deprecated) and admin (not for
// custom roles)), the bootstrap administrator's token, and a second workspace with its own
// administrator.
type iamWorld struct {
	e        *apptest.Env
	ws       string // the bootstrap workspace
	admin    string // token of its administrator (also platform administrator)
	other    string // a second workspace
	otherTok string // token of the second workspace's administrator
}

const (
	permView   = "svc.servers.view"
	permPower  = "svc.servers.power"
	permLegacy = "svc.servers.legacy"
	permAdmin  = "svc.servers.admin"
)

func newIAMWorld(t *testing.T) *iamWorld {
	t.Helper()
	return newIAMWorldWith(t, app.Config{})
}

// newIAMWorldWith is newIAMWorld on a node configured by cfg. Freshness tests set a long
// SyncInterval, so that only the writes' own syncs can make decisions reflect them.
func newIAMWorldWith(t *testing.T, cfg app.Config) *iamWorld {
	t.Helper()
	e := apptest.Start(t, cfg)
	w := &iamWorld{e: e, ws: e.Admin.WorkspaceID, admin: e.AdminToken(t)}
	o := e.CreateWorkspace(t, "Other Corp", storage.WorkspaceStandard, "other-admin@example.test")
	w.other, w.otherTok = o.WorkspaceID, e.Token(t, o.WorkspaceID, o.ClientID, o.ClientSecret)
	w.call(t, http.MethodPost, "/authorization/v2alpha2/resource-providers", w.admin,
		map[string]any{"id": "svc", "name": "Service"}, http.StatusCreated)
	for _, ty := range []string{"servers", "nics", "disks"} {
		w.call(t, http.MethodPost, "/authorization/v2alpha2/resource-providers/svc/resource-types", w.admin,
			map[string]any{"name": ty, "displayName": strings.ToUpper(ty[:1]) + ty[1:]}, http.StatusCreated)
	}
	perm := func(name, stage, use string, fixed bool, types ...string) {
		w.call(t, http.MethodPost, "/authorization/v2alpha2/resource-providers/svc/permissions", w.admin,
			map[string]any{"name": name, "releaseStage": stage, "customRoleUse": use, "fixedScope": fixed,
				"applicableResourceTypes": types}, http.StatusCreated)
	}
	perm(permView, "STABLE", "ALLOW", false, "svc/servers", "svc/nics")
	perm(permPower, "STABLE", "ALLOW", true, "svc/servers")
	perm(permLegacy, "DEPRECATED", "ALLOW", false, "svc/servers")
	perm(permAdmin, "BETA", "DENY", false, "svc/servers")
	return w
}

// call sends a request and fails unless it answers want; it returns the body.
func (w *iamWorld) call(t testing.TB, method, path, tok string, body any, want int) []byte {
	t.Helper()
	resp, raw := w.e.Do(t, method, path, tok, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return raw
}

// explained is the header that asks keyhold to explain AuthZEN decisions.
var explained = http.Header{"Keyhold-Explain": {"true"}}

// callExplained is call with decisions explained.
func (w *iamWorld) callExplained(t testing.TB, method, path, tok string, body any, want int) []byte {
	t.Helper()
	resp, raw := w.e.DoWith(t, method, path, tok, body, explained)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return raw
}

// object decodes a JSON object answer.
func object(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("answer %s: %v", raw, err)
	}
	return m
}

// wsGRN is the whole-workspace GRN of a workspace; res a resource of svc in it.
func wsGRN(ws string) string { return "grn:glp/workspaces/" + ids.Hex(ws) }
func res(ws, path string) string {
	return wsGRN(ws) + "/regions/default/providers/svc/" + path
}

// customRole creates a custom role in the workspace of tok and returns its GRN.
func (w *iamWorld) customRole(t testing.TB, tok, name string, perms ...string) string {
	t.Helper()
	raw := w.call(t, http.MethodPost, "/authorization/v2alpha2/roles", tok,
		map[string]any{"name": name, "permissions": perms}, http.StatusCreated)
	return object(t, raw)["grn"].(string)
}

// assign creates a v2alpha2 role assignment and returns its id.
func (w *iamWorld) assign(t testing.TB, tok, subject, role string, scopes ...string) string {
	t.Helper()
	raw := w.call(t, http.MethodPost, "/authorization/v2alpha2/role-assignments", tok,
		map[string]any{"subject": subject, "role": role, "scope": scopes}, http.StatusCreated)
	return object(t, raw)["id"].(string)
}

// member adds a user to the workspace of tok through the users API and returns its id.
func (w *iamWorld) member(t testing.TB, tok, email string) string {
	t.Helper()
	raw := w.call(t, http.MethodPost, "/identity/v1/users", tok, map[string]any{"email": email}, http.StatusCreated)
	return object(t, raw)["id"].(string)
}

// decision asks /access/v1/evaluation whether subject may do action on resource.
func (w *iamWorld) decision(t testing.TB, tok string, subject map[string]string, action, resource string) map[string]any {
	t.Helper()
	raw := w.call(t, http.MethodPost, "/access/v1/evaluation", tok, map[string]any{
		"subject": subject, "action": map[string]string{"name": action},
		"resource": map[string]string{"type": "svc/servers", "id": resource}}, http.StatusOK)
	return object(t, raw)
}

func (w *iamWorld) allowed(t testing.TB, subject map[string]string, action, resource string) bool {
	t.Helper()
	return w.decision(t, w.admin, subject, action, resource)["decision"] == true
}

func user(id string) map[string]string { return map[string]string{"type": "user", "id": id} }

// wantIAMError checks a GreenLake error body of status that names field (when not "").
func wantIAMError(t testing.TB, status int, raw []byte, wantStatus int, field string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, raw)
	}
	var body struct {
		HTTPStatusCode int    `json:"httpStatusCode"`
		ErrorCode      string `json:"errorCode"`
		Message        string `json:"message"`
		DebugID        string `json:"debugId"`
		ErrorDetails   []struct {
			Issues []struct{ Subject string } `json:"issues"`
		} `json:"errorDetails"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.HTTPStatusCode != wantStatus || body.DebugID == "" || body.Message == "" {
		t.Fatalf("not a GreenLake error body of %d: %s (%v)", wantStatus, raw, err)
	}
	if field == "" {
		return
	}
	var subjects []string
	for _, d := range body.ErrorDetails {
		for _, is := range d.Issues {
			subjects = append(subjects, is.Subject)
		}
	}
	if !slices.Contains(subjects, field) {
		t.Fatalf("error names %v, want %q: %s", subjects, field, raw)
	}
}

// predefined is the GRN of a predefined role.
func predefined(slug string) string { return rbac.PredefinedRoleGRN(slug) }

// doIfMatch is Env.Do with an If-Match header.
func (w *iamWorld) doIfMatch(t testing.TB, method, path, tok string, body any, generation string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, w.e.Base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("If-Match", generation)
	return w.e.Send(t, req)
}
