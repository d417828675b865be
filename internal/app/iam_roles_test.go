package app_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

const rolesAPI = "/authorization/v2alpha2/roles"

func TestCustomRoles(t *testing.T) {
	w := newIAMWorld(t)
	raw := w.call(t, http.MethodPost, rolesAPI, w.admin, map[string]any{"name": "Server Viewer", "description": "views servers",
		"permissions": []string{permView, permLegacy}}, http.StatusCreated)
	r := object(t, raw)
	id := r["id"].(string)
	wantGRN := wsGRN(w.ws) + "/regions/default/providers/authorization/custom-roles/" + id
	if r["grn"] != wantGRN || r["kind"] != "CUSTOM" || r["slug"] != "" || r["releaseStage"] != nil || r["generation"] != float64(1) ||
		r["type"] != "authorization/role" || len(r["permissions"].([]any)) != 2 {
		t.Fatalf("role %s", raw)
	}
	got := object(t, w.call(t, http.MethodGet, rolesAPI+"/"+id, w.admin, nil, http.StatusOK))
	if got["grn"] != wantGRN {
		t.Fatalf("read role %v", got)
	}
	up := object(t, w.call(t, http.MethodPut, rolesAPI+"/"+id, w.admin, map[string]any{"id": id, "name": "Server Viewer",
		"permissions": []string{permView}}, http.StatusOK))
	if up["generation"] != float64(2) || len(up["permissions"].([]any)) != 1 {
		t.Fatalf("updated role %v", up)
	}
	resp, body := w.doIfMatch(t, http.MethodPut, rolesAPI+"/"+id, w.admin, map[string]any{"name": "x", "permissions": []string{permView}}, "1")
	wantIAMError(t, resp.StatusCode, body, http.StatusPreconditionFailed, "")
	list := object(t, w.call(t, http.MethodGet, rolesAPI+"?filter=kind%20in%20('CUSTOM')", w.admin, nil, http.StatusOK))
	if list["total"] != float64(1) {
		t.Fatalf("custom roles: %v", list)
	}
	list = object(t, w.call(t, http.MethodGet, rolesAPI+"?limit=2&offset=1", w.admin, nil, http.StatusOK))
	if list["total"] != float64(5) || list["count"] != float64(2) || list["offset"] != float64(1) {
		t.Fatalf("roles page: %v", list)
	}
	u := w.member(t, w.admin, "bob@example.test")
	w.assign(t, w.admin, "user:"+u, wantGRN, wsGRN(w.ws))
	resp, body = w.e.Do(t, http.MethodDelete, rolesAPI+"/"+id, w.admin, nil)
	wantIAMError(t, resp.StatusCode, body, http.StatusPreconditionFailed, "")
}

func TestCustomRoleRules(t *testing.T) {
	w := newIAMWorld(t)
	w.customRole(t, w.admin, "Taken", permView)
	cases := []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"no permission", map[string]any{"name": "x", "permissions": []string{}}, 400, "permissions"},
		{"permissions missing", map[string]any{"name": "x"}, 400, "permissions"},
		{"not for custom roles", map[string]any{"name": "x", "permissions": []string{permAdmin}}, 400, "permissions[0]"},
		{"a platform permission", map[string]any{"name": "x", "permissions": []string{"glp.resource-provider.edit"}}, 400, "permissions[0]"},
		{"an unknown permission", map[string]any{"name": "x", "permissions": []string{permView, "svc.servers.fly"}}, 400, "permissions[1]"},
		{"a permission twice", map[string]any{"name": "x", "permissions": []string{permView, permView}}, 400, "permissions[1]"},
		{"no name", map[string]any{"permissions": []string{permView}}, 400, "name"},
		{"a blank name", map[string]any{"name": "  ", "permissions": []string{permView}}, 400, "name"},
		{"a name with symbols", map[string]any{"name": "ops_team!", "permissions": []string{permView}}, 400, "name"},
		{"a 101-character name", map[string]any{"name": strings.Repeat("a", 101), "permissions": []string{permView}}, 400, "name"},
		{"an unknown kind", map[string]any{"name": "x", "kind": "SPECIAL", "permissions": []string{permView}}, 400, "kind"},
		{"a release stage", map[string]any{"name": "x", "releaseStage": "BETA", "permissions": []string{permView}}, 400, "releaseStage"},
		{"an id", map[string]any{"id": ids.New(), "name": "x", "permissions": []string{permView}}, 400, "id"},
		{"a taken name", map[string]any{"name": "Taken", "permissions": []string{permView}}, 409, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := w.e.Do(t, http.MethodPost, rolesAPI, w.admin, tc.body)
			wantIAMError(t, resp.StatusCode, raw, tc.status, tc.field)
		})
	}
	// Another workspace may use the same name.
	w.customRole(t, w.otherTok, "Taken", permView)
}

func TestCustomRoleLimit(t *testing.T) {
	w := newIAMWorld(t)
	for i := range rbac.DefaultMaxCustomRoles {
		w.customRole(t, w.admin, "Role "+strconv.Itoa(i), permView)
	}
	resp, raw := w.e.Do(t, http.MethodPost, rolesAPI, w.admin, map[string]any{"name": "One too many", "permissions": []string{permView}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusConflict, "")
	if !strings.Contains(string(raw), "100") {
		t.Fatalf("the limit is not named: %s", raw)
	}
	w.customRole(t, w.otherTok, "Elsewhere", permView) // the limit is per workspace
}

func TestPredefinedRoles(t *testing.T) {
	w := newIAMWorld(t)
	body := map[string]any{"kind": "PREDEFINED", "slug": "svc.admin", "name": "Service Admin",
		"permissions": []string{permView, permAdmin}, "releaseStage": "BETA"}
	resp, raw := w.e.Do(t, http.MethodPost, rolesAPI, w.otherTok, body) // a workspace administrator only
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	r := object(t, w.call(t, http.MethodPost, rolesAPI, w.admin, body, http.StatusCreated))
	if r["grn"] != rbac.PredefinedRoleGRN("svc.admin") || r["id"] != rbac.PredefinedRoleID("svc.admin") || r["releaseStage"] != "BETA" {
		t.Fatalf("predefined role %v", r)
	}
	w.call(t, http.MethodPost, rolesAPI, w.admin, body, http.StatusConflict)
	for _, slug := range []string{"admin", "glp.extra", "nope.admin", "svc.a.b", "svc." + strings.Repeat("x", 70)} {
		b := map[string]any{"kind": "PREDEFINED", "slug": slug, "name": "x", "permissions": []string{permView}}
		resp, raw := w.e.Do(t, http.MethodPost, rolesAPI, w.admin, b)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "slug")
	}
	// Visible to every workspace, changeable by platform administrators only.
	id := r["id"].(string)
	w.call(t, http.MethodGet, rolesAPI+"/"+id, w.otherTok, nil, http.StatusOK)
	for _, c := range []struct{ method, path string }{{http.MethodPut, rolesAPI + "/" + id}, {http.MethodDelete, rolesAPI + "/" + id}} {
		resp, raw := w.e.Do(t, c.method, c.path, w.otherTok, map[string]any{"name": "x", "permissions": []string{permView}})
		wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	}
	w.call(t, http.MethodPut, rolesAPI+"/"+id, w.admin, map[string]any{"name": "Service Admin", "releaseStage": "DEPRECATED",
		"permissions": []string{permView}}, http.StatusOK)
	// keyhold's own roles are fixed, even for a platform administrator.
	own := rbac.PredefinedRoleID(rbac.RoleWorkspaceObserver)
	resp, raw = w.e.Do(t, http.MethodPut, rolesAPI+"/"+own, w.admin, map[string]any{"name": "x", "permissions": []string{permView}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	resp, raw = w.e.Do(t, http.MethodDelete, rolesAPI+"/"+own, w.admin, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	w.call(t, http.MethodDelete, rolesAPI+"/"+id, w.admin, nil, http.StatusNoContent)
}

func TestRoleIsolation(t *testing.T) {
	w := newIAMWorld(t)
	role := w.customRole(t, w.admin, "Alpha Secret Role", permView)
	id := roleID(role)
	for _, c := range []struct {
		method string
		body   any
	}{{http.MethodGet, nil}, {http.MethodPut, map[string]any{"name": "x", "permissions": []string{permView}}}, {http.MethodDelete, nil}} {
		resp, raw := w.e.Do(t, c.method, rolesAPI+"/"+id, w.otherTok, c.body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusNotFound, "")
		ref, refRaw := w.e.Do(t, c.method, rolesAPI+"/"+ids.New(), w.otherTok, c.body)
		wantIAMError(t, ref.StatusCode, refRaw, http.StatusNotFound, "")
		if object(t, raw)["message"] != object(t, refRaw)["message"] {
			t.Fatalf("another workspace's role answers differently from a missing one: %s vs %s", raw, refRaw)
		}
	}
	list := w.call(t, http.MethodGet, rolesAPI, w.otherTok, nil, http.StatusOK)
	if strings.Contains(string(list), id) || strings.Contains(string(list), "Alpha Secret Role") {
		t.Fatalf("another workspace lists the role: %s", list)
	}
	// Nor can it assign it.
	u := w.member(t, w.otherTok, "carol@example.test")
	resp, raw := w.e.Do(t, http.MethodPost, "/authorization/v2alpha2/role-assignments", w.otherTok,
		map[string]any{"subject": "user:" + u, "role": role, "scope": []string{wsGRN(w.other)}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "role")
	resp, raw = w.e.Do(t, http.MethodGet, rolesAPI+"/not-a-uuid", w.admin, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "id")
}
