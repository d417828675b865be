package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/rbac"
)

const providersAPI = "/authorization/v2alpha2/resource-providers"

func TestProvidersArePlatformAdministrators(t *testing.T) {
	w := newIAMWorld(t)
	wsAdmin := w.otherTok // administrator of a later workspace: not a platform administrator
	observer := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceObserver))
	for _, tok := range []string{wsAdmin, observer} {
		for _, c := range []struct{ method, path string }{
			{http.MethodPost, providersAPI}, {http.MethodPut, providersAPI + "/svc"}, {http.MethodDelete, providersAPI + "/svc"},
			{http.MethodPost, providersAPI + "/svc/resource-types"}, {http.MethodDelete, providersAPI + "/svc/resource-types/disks"},
			{http.MethodPost, providersAPI + "/svc/permissions"}, {http.MethodPut, providersAPI + "/svc/permissions/" + permView},
			{http.MethodDelete, providersAPI + "/svc/permissions/" + permAdmin},
		} {
			resp, raw := w.e.Do(t, c.method, c.path, tok, map[string]any{"id": "x", "name": "x"})
			wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
		}
	}
	// Viewing needs only glp.authorization.view, in any workspace.
	for _, tok := range []string{wsAdmin, observer} {
		for _, path := range []string{providersAPI, providersAPI + "/svc", providersAPI + "/svc/resource-types",
			providersAPI + "/svc/resource-types/servers", providersAPI + "/svc/permissions", providersAPI + "/svc/permissions/" + permView} {
			w.call(t, http.MethodGet, path, tok, nil, http.StatusOK)
		}
	}
	list := object(t, w.call(t, http.MethodGet, providersAPI, observer, nil, http.StatusOK))
	if list["total"] != float64(2) { // glp and svc
		t.Fatalf("providers: %v", list)
	}
	member := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, ""))
	resp, raw := w.e.Do(t, http.MethodGet, providersAPI, member, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
}

func TestProviderLifecycle(t *testing.T) {
	w := newIAMWorld(t)
	p := object(t, w.call(t, http.MethodGet, providersAPI+"/svc", w.admin, nil, http.StatusOK))
	if p["name"] != "Service" || p["generation"] != float64(1) || p["type"] != "authorization/resource-provider" {
		t.Fatalf("provider %v", p)
	}
	up := object(t, w.call(t, http.MethodPut, providersAPI+"/svc", w.admin, map[string]any{"name": "Service 2", "description": "d"}, http.StatusOK))
	if up["name"] != "Service 2" || up["generation"] != float64(2) {
		t.Fatalf("updated provider %v", up)
	}
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{http.MethodPost, providersAPI, map[string]any{"id": "svc", "name": "again"}, http.StatusConflict, ""},
		{http.MethodPost, providersAPI, map[string]any{"name": "no id"}, http.StatusBadRequest, "id"},
		{http.MethodPost, providersAPI, map[string]any{"id": "Bad.Id", "name": "x"}, http.StatusBadRequest, "id"},
		{http.MethodPost, providersAPI, map[string]any{"id": "authorization", "name": "x"}, http.StatusBadRequest, "id"},
		{http.MethodPost, providersAPI, map[string]any{"id": "ok", "name": ""}, http.StatusBadRequest, "name"},
		{http.MethodPost, providersAPI, map[string]any{"id": "ok", "name": "x", "extra": 1}, http.StatusBadRequest, "extra"},
		{http.MethodPut, providersAPI + "/svc", map[string]any{"id": "other", "name": "x"}, http.StatusBadRequest, "id"},
		{http.MethodPut, providersAPI + "/glp", map[string]any{"name": "mine"}, http.StatusForbidden, ""},
		{http.MethodDelete, providersAPI + "/glp", nil, http.StatusForbidden, ""},
		{http.MethodGet, providersAPI + "/nope", nil, http.StatusNotFound, ""},
		{http.MethodDelete, providersAPI + "/svc", nil, http.StatusPreconditionFailed, ""},
	} {
		resp, raw := w.e.Do(t, c.method, c.path, w.admin, c.body)
		wantIAMError(t, resp.StatusCode, raw, c.status, c.field)
	}
	// If-Match.
	resp, raw := w.doIfMatch(t, http.MethodPut, providersAPI+"/svc", w.admin, map[string]any{"name": "x"}, "1")
	wantIAMError(t, resp.StatusCode, raw, http.StatusPreconditionFailed, "")
	w.call(t, http.MethodPost, providersAPI, w.admin, map[string]any{"id": "empty", "name": "Empty"}, http.StatusCreated)
	w.call(t, http.MethodDelete, providersAPI+"/empty", w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodGet, providersAPI+"/empty", w.admin, nil, http.StatusNotFound)
}

func TestResourceTypes(t *testing.T) {
	w := newIAMWorld(t)
	base := providersAPI + "/svc/resource-types"
	list := object(t, w.call(t, http.MethodGet, base, w.admin, nil, http.StatusOK))
	if list["total"] != float64(3) || list["count"] != float64(3) {
		t.Fatalf("types: %v", list)
	}
	ty := object(t, w.call(t, http.MethodGet, base+"/disks", w.admin, nil, http.StatusOK))
	if ty["key"] != "svc/disks" || ty["displayName"] != "Disks" {
		t.Fatalf("type %v", ty)
	}
	w.call(t, http.MethodPut, base+"/disks", w.admin, map[string]any{"displayName": "Volumes"}, http.StatusOK)
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{http.MethodPost, base, map[string]any{"name": "servers"}, http.StatusConflict, ""},
		{http.MethodPost, base, map[string]any{"name": "a/b"}, http.StatusBadRequest, "name"},
		{http.MethodPost, base, map[string]any{"displayName": "x"}, http.StatusBadRequest, "name"},
		{http.MethodPost, providersAPI + "/nope/resource-types", map[string]any{"name": "x"}, http.StatusNotFound, ""},
		{http.MethodPut, base + "/disks", map[string]any{"name": "other"}, http.StatusBadRequest, "name"},
		{http.MethodDelete, base + "/servers", nil, http.StatusPreconditionFailed, ""},
		{http.MethodGet, base + "/nope", nil, http.StatusNotFound, ""},
		{http.MethodPost, providersAPI + "/glp/resource-types", map[string]any{"name": "mine"}, http.StatusForbidden, ""},
	} {
		resp, raw := w.e.Do(t, c.method, c.path, w.admin, c.body)
		wantIAMError(t, resp.StatusCode, raw, c.status, c.field)
	}
	w.call(t, http.MethodDelete, base+"/disks", w.admin, nil, http.StatusNoContent)
}

func TestPermissionAttributes(t *testing.T) {
	w := newIAMWorld(t)
	base := providersAPI + "/svc/permissions"
	p := object(t, w.call(t, http.MethodGet, base+"/"+permPower, w.admin, nil, http.StatusOK))
	if p["fixedScope"] != true || p["releaseStage"] != "STABLE" || p["customRoleUse"] != "ALLOW" || p["provider"] != "svc" {
		t.Fatalf("permission %v", p)
	}
	valid := func() map[string]any {
		return map[string]any{"name": "svc.disks.view", "description": "d", "releaseStage": "ALPHA", "customRoleUse": "ALLOW",
			"applicableResourceTypes": []string{"svc/disks"}}
	}
	manyTypes := make([]string, 101)
	for i := range manyTypes {
		manyTypes[i] = "svc/t" + strings.Repeat("x", i%7) + string(rune('a'+i%26))
	}
	cases := []struct {
		name  string
		edit  func(b map[string]any)
		field string
	}{
		{"no name", func(b map[string]any) { delete(b, "name") }, "name"},
		{"two segments", func(b map[string]any) { b["name"] = "svc.view" }, "name"},
		{"another provider", func(b map[string]any) { b["name"] = "other.disks.view" }, "name"},
		{"an undeclared resource type", func(b map[string]any) { b["name"] = "svc.volumes.view" }, "name"},
		{"129 characters", func(b map[string]any) { b["name"] = "svc.disks." + strings.Repeat("a", 119) }, "name"},
		{"a bad action", func(b map[string]any) { b["name"] = "svc.disks.vi ew" }, "name"},
		{"no release stage", func(b map[string]any) { delete(b, "releaseStage") }, "releaseStage"},
		{"an unknown release stage", func(b map[string]any) { b["releaseStage"] = "GA" }, "releaseStage"},
		{"an unknown custom role use", func(b map[string]any) { b["customRoleUse"] = "MAYBE" }, "customRoleUse"},
		{"no resource types", func(b map[string]any) { b["applicableResourceTypes"] = []string{} }, "applicableResourceTypes"},
		{"101 resource types", func(b map[string]any) { b["applicableResourceTypes"] = manyTypes }, "applicableResourceTypes"},
		{"an unknown resource type", func(b map[string]any) { b["applicableResourceTypes"] = []string{"svc/volumes"} }, "applicableResourceTypes[0]"},
		{"a malformed resource type", func(b map[string]any) { b["applicableResourceTypes"] = []string{"svc"} }, "applicableResourceTypes[0]"},
		{"a resource type twice", func(b map[string]any) {
			b["applicableResourceTypes"] = []string{"svc/disks", "svc/disks"}
		}, "applicableResourceTypes[1]"},
		{"fixedScope not a boolean", func(b map[string]any) { b["fixedScope"] = "yes" }, "fixedScope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := valid()
			tc.edit(b)
			resp, raw := w.e.Do(t, http.MethodPost, base, w.admin, b)
			wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, tc.field)
		})
	}
	// 128 characters is fine; so are types of other providers.
	long := valid()
	long["name"] = "svc.disks." + strings.Repeat("a", 118)
	long["applicableResourceTypes"] = []string{"svc/disks", "glp/workspace"}
	got := object(t, w.call(t, http.MethodPost, base, w.admin, long, http.StatusCreated))
	if len(got["name"].(string)) != 128 {
		t.Fatalf("name %v", got["name"])
	}
	w.call(t, http.MethodPost, base, w.admin, long, http.StatusConflict)
	// The name is immutable; the other attributes change.
	upd := valid()
	resp, raw := w.e.Do(t, http.MethodPut, base+"/"+permView, w.admin, upd)
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "name")
	delete(upd, "name")
	upd["releaseStage"] = "DEPRECATED"
	upd["applicableResourceTypes"] = []string{"svc/servers"}
	changed := object(t, w.call(t, http.MethodPut, base+"/"+permView, w.admin, upd, http.StatusOK))
	if changed["releaseStage"] != "DEPRECATED" || changed["generation"] != float64(2) || changed["name"] != permView {
		t.Fatalf("updated permission %v", changed)
	}
	w.call(t, http.MethodGet, providersAPI+"/glp/permissions/glp.workspace.view", w.admin, nil, http.StatusOK)
	w.call(t, http.MethodGet, providersAPI+"/glp/permissions/"+permView, w.admin, nil, http.StatusNotFound)
	resp, raw = w.e.Do(t, http.MethodPut, providersAPI+"/glp/permissions/glp.workspace.view", w.admin, upd)
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
}

func TestPermissionDeletionAndCustomUse(t *testing.T) {
	w := newIAMWorld(t)
	base := providersAPI + "/svc/permissions"
	role := w.customRole(t, w.admin, "Viewer", permView)
	deny := map[string]any{"releaseStage": "STABLE", "customRoleUse": "DENY", "applicableResourceTypes": []string{"svc/servers"}}
	resp, raw := w.e.Do(t, http.MethodPut, base+"/"+permView, w.admin, deny)
	wantIAMError(t, resp.StatusCode, raw, http.StatusPreconditionFailed, "")
	resp, raw = w.e.Do(t, http.MethodDelete, base+"/"+permView, w.admin, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusPreconditionFailed, "")
	w.call(t, http.MethodDelete, "/authorization/v2alpha2/roles/"+roleID(role), w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodPut, base+"/"+permView, w.admin, deny, http.StatusOK)
	w.call(t, http.MethodDelete, base+"/"+permView, w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodGet, base+"/"+permView, w.admin, nil, http.StatusNotFound)
	// A deleted permission is denied at once (nothing holds it, and it is unknown).
	if w.allowed(t, user(w.e.Admin.UserID), permView, res(w.ws, "servers/1")) {
		t.Fatal("a deleted permission was allowed")
	}
}
