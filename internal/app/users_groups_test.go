package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

const userGroupsAPI = "/identity/v1/user-groups"

func TestUserGroups(t *testing.T) {
	w := newIAMWorld(t)
	g := object(t, w.call(t, http.MethodPost, userGroupsAPI, w.admin, map[string]any{"name": "ops", "description": "operators"},
		http.StatusCreated))
	id := g["id"].(string)
	if g["principal"] != "user-group:"+id || g["type"] != "identity/user-group" || g["generation"] != float64(1) {
		t.Fatalf("group %v", g)
	}
	for _, body := range []map[string]any{{"name": "ops"}, {"name": ""}, {"name": "a,b"}, {"name": strings.Repeat("x", 101)},
		{"description": "no name"}, {"name": "x", "members": []string{}}} {
		resp, raw := w.e.Do(t, http.MethodPost, userGroupsAPI, w.admin, body)
		status := http.StatusBadRequest
		if body["name"] == "ops" {
			status = http.StatusConflict
		}
		wantIAMError(t, resp.StatusCode, raw, status, "")
	}
	up := object(t, w.call(t, http.MethodPut, userGroupsAPI+"/"+id, w.admin, map[string]any{"name": "operations"}, http.StatusOK))
	if up["name"] != "operations" || up["generation"] != float64(2) {
		t.Fatalf("updated %v", up)
	}
	// Members.
	u1, u2 := w.member(t, w.admin, "tom@example.test"), w.member(t, w.admin, "uma@example.test")
	for _, u := range []string{u1, u2} {
		m := object(t, w.call(t, http.MethodPost, userGroupsAPI+"/"+id+"/members", w.admin, map[string]any{"userId": u}, http.StatusCreated))
		if m["id"] != u || m["username"] == "" || m["addedAt"] == "" {
			t.Fatalf("member %v", m)
		}
	}
	w.call(t, http.MethodPost, userGroupsAPI+"/"+id+"/members", w.admin, map[string]any{"userId": u1}, http.StatusConflict)
	stranger := w.member(t, w.otherTok, "vic@example.test")
	for _, body := range []map[string]any{{"userId": stranger}, {"userId": "x"}, {}} {
		resp, raw := w.e.Do(t, http.MethodPost, userGroupsAPI+"/"+id+"/members", w.admin, body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "userId")
	}
	list := object(t, w.call(t, http.MethodGet, userGroupsAPI+"/"+id+"/members?limit=1", w.admin, nil, http.StatusOK))
	if list["total"] != float64(2) || list["count"] != float64(1) {
		t.Fatalf("members %v", list)
	}
	w.call(t, http.MethodDelete, userGroupsAPI+"/"+id+"/members/"+u2, w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodDelete, userGroupsAPI+"/"+id+"/members/"+u2, w.admin, nil, http.StatusNotFound)
	// A group granted a role cannot go until the assignment does.
	a := w.assign(t, w.admin, "user-group:"+id, predefined(rbac.RoleWorkspaceObserver), wsGRN(w.ws))
	resp, raw := w.e.Do(t, http.MethodDelete, userGroupsAPI+"/"+id, w.admin, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusPreconditionFailed, "")
	w.call(t, http.MethodDelete, assignmentsV2+"/"+a, w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodDelete, userGroupsAPI+"/"+id, w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodGet, userGroupsAPI+"/"+id, w.admin, nil, http.StatusNotFound)
	all := object(t, w.call(t, http.MethodGet, userGroupsAPI, w.admin, nil, http.StatusOK))
	if all["total"] != float64(0) {
		t.Fatalf("groups after delete %v", all)
	}
}

func TestUserGroupIsolation(t *testing.T) {
	w := newIAMWorld(t)
	id := object(t, w.call(t, http.MethodPost, userGroupsAPI, w.admin, map[string]any{"name": "alpha-secret-team"}, http.StatusCreated))["id"].(string)
	u := w.member(t, w.admin, "wes@example.test")
	w.call(t, http.MethodPost, userGroupsAPI+"/"+id+"/members", w.admin, map[string]any{"userId": u}, http.StatusCreated)
	for _, c := range []struct {
		method, suffix string
		body           any
	}{
		{http.MethodGet, "", nil}, {http.MethodPut, "", map[string]any{"name": "x"}}, {http.MethodDelete, "", nil},
		{http.MethodGet, "/members", nil}, {http.MethodPost, "/members", map[string]any{"userId": u}},
		{http.MethodDelete, "/members/" + u, nil},
	} {
		resp, raw := w.e.Do(t, c.method, userGroupsAPI+"/"+id+c.suffix, w.otherTok, c.body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusNotFound, "")
		if strings.Contains(string(raw), "alpha-secret-team") || strings.Contains(string(raw), u) {
			t.Fatalf("leak: %s", raw)
		}
	}
	if l := w.call(t, http.MethodGet, userGroupsAPI, w.otherTok, nil, http.StatusOK); strings.Contains(string(l), id) {
		t.Fatalf("another workspace lists the group: %s", l)
	}
	observer := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceObserver))
	w.call(t, http.MethodGet, userGroupsAPI+"/"+id+"/members", observer, nil, http.StatusOK)
	resp, raw := w.e.Do(t, http.MethodPost, userGroupsAPI, observer, map[string]any{"name": "x"})
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	resp, raw = w.e.Do(t, http.MethodGet, userGroupsAPI+"/"+ids.New(), w.admin, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusNotFound, "")
}
