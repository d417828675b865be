package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/storage"
)

const (
	scimBase   = "/identity/v2beta1/scim/v2"
	scimUsers  = scimBase + "/Users"
	scimGroups = scimBase + "/Groups"
	scimDoc    = "scim.json"
	groupURN   = "urn:ietf:params:scim:schemas:core:2.0:Group"
	groupExt   = "urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Group"
	userURN    = "urn:ietf:params:scim:schemas:core:2.0:User"
	userExt    = "urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:User"
	patchURN   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// scimWorld is a node with two workspaces, as an identity provider sees it: a token of each
// workspace's administrator.
type scimWorld struct {
	e                 *apptest.Env
	ws, other         string
	admin, otherAdmin string
}

func newSCIMWorld(t *testing.T) *scimWorld {
	t.Helper()
	return newSCIMWorldWith(t, app.Config{})
}

// newSCIMWorldWith is newSCIMWorld on a node of configuration cfg (PostgreSQL, say).
func newSCIMWorldWith(t *testing.T, cfg app.Config) *scimWorld {
	t.Helper()
	e := apptest.Start(t, cfg)
	o := e.CreateWorkspace(t, "Other Corp", storage.WorkspaceStandard, "other-admin@example.test")
	return &scimWorld{e: e, ws: e.Admin.WorkspaceID, other: o.WorkspaceID, admin: e.AdminToken(t),
		otherAdmin: e.Token(t, o.WorkspaceID, o.ClientID, o.ClientSecret)}
}

// do sends a SCIM request (application/scim+json) with optional headers ("If-Match", v).
func (w *scimWorld) do(t testing.TB, method, path, tok string, body any, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, ok := body.(string)
		if !ok {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			raw = string(b)
		}
		rd = bytes.NewReader([]byte(raw))
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequest(method, w.e.Base+path, rd)
	} else {
		req, err = http.NewRequest(method, w.e.Base+path, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return w.e.Send(t, req)
}

// call is do that fails unless the answer has status want; it decodes the JSON answer.
func (w *scimWorld) call(t testing.TB, method, path, tok string, body any, want int, hdr ...string) map[string]any {
	t.Helper()
	resp, raw := w.do(t, method, path, tok, body, hdr...)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if len(raw) == 0 {
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %s: %v", method, path, raw, err)
	}
	return m
}

// scimErr checks a SCIM error answer: status, schemas, scimType (when want is not "") and
// GreenLake's extension.
func (w *scimWorld) scimErr(t testing.TB, method, path, tok string, body any, status int, scimType string, hdr ...string) map[string]any {
	t.Helper()
	m := w.call(t, method, path, tok, body, status, hdr...)
	ext, _ := m["urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Error"].(map[string]any)
	if m["status"] != strconv.Itoa(status) || ext == nil || ext["debugId"] == "" ||
		m["detail"] == "" || (scimType != "" && m["scimType"] != scimType) {
		t.Fatalf("%s %s: error body %v, want status %d scimType %q", method, path, m, status, scimType)
	}
	return m
}

func filterQ(f string) string { return "?filter=" + url.QueryEscape(f) }

func newGroup(name string, members ...string) map[string]any {
	b := map[string]any{"schemas": []string{groupURN, groupExt}, "displayName": name}
	if len(members) > 0 {
		var ms []map[string]string
		for _, m := range members {
			ms = append(ms, map[string]string{"value": m})
		}
		b["members"] = ms
	}
	return b
}

func patch(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{patchURN}, "Operations": ops}
}

func op(verb, path string, value any) map[string]any {
	m := map[string]any{"op": verb}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

func refs(ids ...string) []map[string]string {
	var out []map[string]string
	for _, id := range ids {
		out = append(out, map[string]string{"value": id, "display": "x", "$ref": "https://example.test/Users/" + id})
	}
	return out
}

// resources returns the ids of a ListResponse's resources.
func resources(t testing.TB, m map[string]any) []string {
	t.Helper()
	if s, _ := m["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:api:messages:2.0:ListResponse" {
		t.Fatalf("not a ListResponse: %v", m)
	}
	var out []string
	for _, r := range m["Resources"].([]any) {
		out = append(out, r.(map[string]any)["id"].(string))
	}
	return out
}

// plain sends a request to one of keyhold's JSON endpoints and fails unless it answers want.
func (w *scimWorld) plain(t testing.TB, method, path, tok string, body any, want int) []byte {
	t.Helper()
	resp, raw := w.e.Do(t, method, path, tok, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return raw
}
