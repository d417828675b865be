package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

const (
	assignmentsV2 = "/authorization/v2alpha2/role-assignments"
	assignmentsV1 = "/authorization/v1beta1/role-assignments"
)

func TestAssignmentBothVersions(t *testing.T) {
	w := newIAMWorld(t)
	role := w.customRole(t, w.admin, "Viewer", permView)
	u := w.member(t, w.admin, "dora@example.test")
	resp, raw := w.e.Do(t, http.MethodPost, assignmentsV2, w.admin, map[string]any{"subject": "user:" + u, "role": role,
		"scope": []string{res(w.ws, "servers/2"), res(w.ws, "servers/1")}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, raw)
	}
	a := object(t, raw)
	id := a["id"].(string)
	pm, rm := a["principalMetadata"].(map[string]any), a["roleMetadata"].(map[string]any)
	if a["subject"] != "user:"+u || a["principal"] != nil || pm["id"] != u || pm["type"] != "identity/user" ||
		rm["id"] != roleID(role) || rm["type"] != "authorization/role" || a["source"] != "LOCAL" || a["generation"] != float64(1) ||
		resp.Header.Get("Location") != w.e.Base+assignmentsV2+"/"+id {
		t.Fatalf("assignment %s (Location %s)", raw, resp.Header.Get("Location"))
	}
	// The same assignment, as v1beta1 shows it.
	v1 := object(t, w.call(t, http.MethodGet, assignmentsV1+"/"+id, w.admin, nil, http.StatusOK))
	if v1["principal"] != "user:"+u || v1["subject"] != nil || len(v1["scope"].([]any)) != 2 {
		t.Fatalf("v1beta1 view %v", v1)
	}
	// Each version refuses the other's field name.
	resp, raw = w.e.Do(t, http.MethodPost, assignmentsV1, w.admin, map[string]any{"subject": "user:" + u, "role": role, "scope": []string{wsGRN(w.ws)}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "subject")
	resp, raw = w.e.Do(t, http.MethodPost, assignmentsV2, w.admin, map[string]any{"principal": "user:" + u, "role": role, "scope": []string{wsGRN(w.ws)}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "principal")
	// An exact duplicate (scopes in any order) is a conflict, in both versions.
	resp, raw = w.e.Do(t, http.MethodPost, assignmentsV1, w.admin, map[string]any{"principal": "user:" + u, "role": role,
		"scope": []string{res(w.ws, "servers/1"), res(w.ws, "servers/2")}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusConflict, "")
	if object(t, raw)["errorCode"] != rbac.CodeAlreadyCreated {
		t.Fatalf("duplicate: %s", raw)
	}
	w.call(t, http.MethodDelete, assignmentsV1+"/"+id, w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodGet, assignmentsV2+"/"+id, w.admin, nil, http.StatusNotFound)
	w.call(t, http.MethodDelete, assignmentsV2+"/"+id, w.admin, nil, http.StatusNotFound)
}

func TestAssignmentScopeRules(t *testing.T) {
	w := newIAMWorld(t)
	role := w.customRole(t, w.admin, "Viewer", permView, permPower)
	fixedOnly := w.customRole(t, w.admin, "Power", permPower)
	u := w.member(t, w.admin, "erin@example.test")
	var groups []string
	for i := range 11 {
		g := object(t, w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups", w.admin,
			map[string]any{"name": "g" + strconv.Itoa(i)}, http.StatusCreated))
		groups = append(groups, g["grn"].(string))
	}
	otherGroup := object(t, w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups", w.otherTok,
		map[string]any{"name": "theirs"}, http.StatusCreated))["grn"].(string)
	many := make([]string, 21)
	for i := range many {
		many[i] = res(w.ws, "servers/"+strconv.Itoa(i))
	}
	cases := []struct {
		name   string
		role   string
		scopes []string
		field  string
	}{
		{"no scope", role, []string{}, "scope"},
		{"21 scopes", role, many, "scope"},
		{"the workspace twice", role, []string{wsGRN(w.ws), wsGRN(w.ws)}, "scope[1]"},
		{"another workspace", role, []string{wsGRN(w.other)}, "scope[0]"},
		{"a resource of another workspace", role, []string{res(w.other, "servers/1")}, "scope[0]"},
		{"the platform", role, []string{"grn:glp"}, "scope[0]"},
		{"a platform-level resource", role, []string{"grn:glp/providers/svc/servers/1"}, "scope[0]"},
		{"not a GRN", role, []string{"servers/1"}, "scope[0]"},
		{"another workspace's scope group", role, []string{otherGroup}, "scope[0]"},
		{"an unknown scope group", role, []string{wsGRN(w.ws) + "/regions/default/providers/authorization/scope-groups/" + ids.New()}, "scope[0]"},
		{"an unknown tenant group", role, []string{wsGRN(w.ws) + "/regions/default/providers/msp/tenant-groups/" + ids.New()}, "scope[0]"},
		{"11 scope groups", role, groups, "scope"},
		{"workspace and a scope group", role, []string{wsGRN(w.ws), groups[0]}, "scope"},
		{"workspace and a resource", role, []string{wsGRN(w.ws), res(w.ws, "servers/1")}, "scope"},
		{"fixed-scope role on a resource", fixedOnly, []string{res(w.ws, "servers/1")}, "scope"},
		{"fixed-scope role on a scope group", fixedOnly, []string{groups[0]}, "scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := w.e.Do(t, http.MethodPost, assignmentsV2, w.admin, map[string]any{"subject": "user:" + u, "role": tc.role, "scope": tc.scopes})
			wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, tc.field)
		})
	}
	w.assign(t, w.admin, "user:"+u, fixedOnly, wsGRN(w.ws))
	w.assign(t, w.admin, "user:"+u, role, groups[:10]...)
	w.assign(t, w.admin, "user:"+u, role, append([]string{groups[10]}, many[:19]...)...)
	// Scopes are stored canonically: a hyphenated workspace id reads back as 32 hex digits.
	a := object(t, w.call(t, http.MethodPost, assignmentsV2, w.admin, map[string]any{"subject": "user:" + u, "role": role,
		"scope": []string{"grn:glp/workspaces/" + w.ws}}, http.StatusCreated))
	if a["scope"].([]any)[0] != wsGRN(w.ws) {
		t.Fatalf("scope stored as %v", a["scope"])
	}
}

func TestAssignmentTenantGroupScopes(t *testing.T) {
	w := newIAMWorld(t)
	msp := w.e.CreateWorkspace(t, "MSP Corp", "MSP", "msp-admin@example.test")
	mspTok := w.e.Token(t, msp.WorkspaceID, msp.ClientID, msp.ClientSecret)
	var tgs []string
	for i := range 11 {
		g := object(t, w.call(t, http.MethodPost, "/workspaces/v1beta1/groups", mspTok,
			map[string]any{"name": "tg" + strconv.Itoa(i), "groupType": "TenantGroup"}, http.StatusCreated))
		tgs = append(tgs, g["grn"].(string))
	}
	sg := object(t, w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups", mspTok,
		map[string]any{"name": "sg"}, http.StatusCreated))["grn"].(string)
	u := w.member(t, mspTok, "frank@example.test")
	observer := predefined(rbac.RoleWorkspaceObserver)
	for _, scopes := range [][]string{tgs[:10], {wsGRN(msp.WorkspaceID), tgs[0]}, {tgs[1], sg}} {
		w.assign(t, mspTok, "user:"+u, observer, scopes...)
	}
	resp, raw := w.e.Do(t, http.MethodPost, assignmentsV2, mspTok, map[string]any{"subject": "user:" + u, "role": observer, "scope": tgs})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "scope")
	// A tenant group of another MSP is not this workspace's.
	resp, raw = w.e.Do(t, http.MethodPost, assignmentsV2, w.admin, map[string]any{"subject": "user:" + w.e.Admin.UserID,
		"role": observer, "scope": []string{strings.Replace(tgs[0], ids.Hex(msp.WorkspaceID), ids.Hex(w.ws), 1)}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "scope[0]")
}

func TestAssignmentSubjectsAndRoles(t *testing.T) {
	w := newIAMWorld(t)
	role := w.customRole(t, w.admin, "Viewer", permView)
	theirUser := w.member(t, w.otherTok, "gina@example.test")
	theirGroup := object(t, w.call(t, http.MethodPost, "/identity/v1/user-groups", w.otherTok, map[string]any{"name": "g"},
		http.StatusCreated))["id"].(string)
	cases := []struct {
		name, subject, role, field string
	}{
		{"a user of another workspace", "user:" + theirUser, role, "subject"},
		{"an unknown user", "user:" + ids.New(), role, "subject"},
		{"a group of another workspace", "user-group:" + theirGroup, role, "subject"},
		{"an api client of another workspace", "api-client:" + w.e.CreateWorkspace(t, "Third", "STANDARD_ENTERPRISE", "t@example.test").ClientID, role, "subject"},
		{"a malformed subject", "user-" + w.e.Admin.UserID, role, "subject"},
		{"an unknown principal type", "robot:" + ids.New(), role, "subject"},
		{"an unknown custom role", "user:" + w.e.Admin.UserID, wsGRN(w.ws) + "/regions/default/providers/authorization/custom-roles/" + ids.New(), "role"},
		{"an unknown predefined role", "user:" + w.e.Admin.UserID, predefined("svc.nothing"), "role"},
		{"a role that is not a GRN", "user:" + w.e.Admin.UserID, roleID(role), "role"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := w.e.Do(t, http.MethodPost, assignmentsV2, w.admin, map[string]any{"subject": tc.subject, "role": tc.role,
				"scope": []string{wsGRN(w.ws)}})
			wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, tc.field)
		})
	}
	// Users, groups and API clients of the workspace are accepted.
	g := object(t, w.call(t, http.MethodPost, "/identity/v1/user-groups", w.admin, map[string]any{"name": "g"}, http.StatusCreated))["id"].(string)
	w.assign(t, w.admin, "user-group:"+g, role, wsGRN(w.ws))
	w.assign(t, w.admin, "api-client:"+w.e.Admin.ClientID, role, wsGRN(w.ws))
	w.assign(t, w.admin, "user:"+strings.ToUpper(w.e.Admin.UserID), role, res(w.ws, "servers/1"))
}

func TestAssignmentUpdateChangesOnlyScope(t *testing.T) {
	w := newIAMWorld(t)
	role := w.customRole(t, w.admin, "Viewer", permView)
	other := w.customRole(t, w.admin, "Other", permView)
	u := w.member(t, w.admin, "hank@example.test")
	id := w.assign(t, w.admin, "user:"+u, role, res(w.ws, "servers/1"))
	w.assign(t, w.admin, "user:"+u, role, res(w.ws, "servers/2"))
	body := func(changes map[string]any) map[string]any {
		b := map[string]any{"id": id, "principal": "user:" + u, "role": role, "scope": []string{res(w.ws, "servers/3")}}
		for k, v := range changes {
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		changes map[string]any
		status  int
		field   string
	}{
		{"another principal", map[string]any{"principal": "user:" + w.e.Admin.UserID}, 400, "principal"},
		{"another role", map[string]any{"role": other}, 400, "role"},
		{"no id", map[string]any{"id": nil}, 400, "id"},
		{"another id", map[string]any{"id": ids.New()}, 400, "id"},
		{"no scope", map[string]any{"scope": []string{}}, 400, "scope"},
		{"a duplicate of another assignment", map[string]any{"scope": []string{res(w.ws, "servers/2")}}, 409, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := w.e.Do(t, http.MethodPut, assignmentsV1+"/"+id, w.admin, body(tc.changes))
			wantIAMError(t, resp.StatusCode, raw, tc.status, tc.field)
		})
	}
	// The read-only fields of a read assignment may be sent back unchanged.
	read := object(t, w.call(t, http.MethodGet, assignmentsV1+"/"+id, w.admin, nil, http.StatusOK))
	read["scope"] = []string{res(w.ws, "servers/3"), res(w.ws, "servers/4")}
	up := object(t, w.call(t, http.MethodPut, assignmentsV1+"/"+id, w.admin, read, http.StatusOK))
	if up["generation"] != float64(2) || len(up["scope"].([]any)) != 2 || up["principal"] != "user:"+u {
		t.Fatalf("updated %v", up)
	}
	resp, raw := w.doIfMatch(t, http.MethodDelete, assignmentsV2+"/"+id, w.admin, nil, "1")
	wantIAMError(t, resp.StatusCode, raw, http.StatusPreconditionFailed, "")
	resp, _ = w.doIfMatch(t, http.MethodDelete, assignmentsV2+"/"+id, w.admin, nil, "2")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete with the right generation: %d", resp.StatusCode)
	}
}

func TestAssignmentListPagingAndFilter(t *testing.T) {
	w := newIAMWorld(t)
	viewer := w.customRole(t, w.admin, "Viewer", permView)
	power := w.customRole(t, w.admin, "Power", permPower)
	u1, u2 := w.member(t, w.admin, "ivy@example.test"), w.member(t, w.admin, "jack@example.test")
	w.assign(t, w.admin, "user:"+u1, viewer, res(w.ws, "servers/1"))
	w.assign(t, w.admin, "user:"+u1, power, wsGRN(w.ws))
	w.assign(t, w.admin, "user:"+u2, viewer, res(w.ws, "servers/1"), res(w.ws, "servers/2"))
	w.assign(t, w.admin, "user:"+u2, viewer, res(w.ws, "servers/3"))
	// The bootstrap workspace already has two (the administrator's).
	list := func(base, query string) map[string]any {
		t.Helper()
		return object(t, w.call(t, http.MethodGet, base+"?"+query, w.admin, nil, http.StatusOK))
	}
	totals := func(base, query string) (int, int) {
		l := list(base, query)
		return int(l["total"].(float64)), int(l["count"].(float64))
	}
	q := func(filter string) string { return "filter=" + url.QueryEscape(filter) }
	for _, tc := range []struct {
		base, query  string
		total, count int
	}{
		{assignmentsV2, "", 6, 6},
		{assignmentsV2, "limit=2&offset=1", 6, 2},
		{assignmentsV2, "offset=5", 6, 1},
		{assignmentsV2, "offset=9", 6, 0},
		{assignmentsV2, q("subject in ('user:" + u1 + "')"), 2, 2},
		{assignmentsV2, q("subject in ('user:" + strings.ToUpper(ids.Hex(u1)) + "')"), 2, 2},
		{assignmentsV1, q("principal in ('user:" + u1 + "', 'user:" + u2 + "')"), 4, 4},
		{assignmentsV2, q("role in ('" + viewer + "')"), 3, 3},
		{assignmentsV2, q("role in ('" + viewer + "') and scope in ('" + res(w.ws, "servers/1") + "')"), 2, 2},
		{assignmentsV1, q("scope in ('" + res(w.ws, "servers/2") + "') and principal in ('user:" + u2 + "') and role in ('" + viewer + "')"), 1, 1},
		{assignmentsV2, q("scope in ('grn:glp/workspaces/" + w.ws + "')"), 2, 2},
		{assignmentsV2, q("role in ('" + predefined("svc.unknown") + "')"), 0, 0},
	} {
		total, count := totals(tc.base, tc.query)
		if total != tc.total || count != tc.count {
			t.Errorf("%s?%s: %d of %d, want %d of %d", tc.base, tc.query, count, total, tc.count, tc.total)
		}
	}
	for _, tc := range []struct{ base, query, field string }{
		{assignmentsV2, "limit=0", "limit"},
		{assignmentsV2, "limit=201", "limit"},
		{assignmentsV2, "limit=x", "limit"},
		{assignmentsV2, "offset=-1", "offset"},
		{assignmentsV2, "limit=1&limit=2", "limit"},
		{assignmentsV2, "sort=role", "sort"},
		{assignmentsV2, q("role eq '" + viewer + "'"), "filter"},
		{assignmentsV2, q("role in ('a') or scope in ('b')"), "filter"},
		{assignmentsV2, q("role in ('a') and role in ('b')"), "filter"},
		{assignmentsV2, q("principal in ('user:" + u1 + "')"), "filter"},
		{assignmentsV1, q("subject in ('user:" + u1 + "')"), "filter"},
		{assignmentsV2, q("not (role in ('a'))"), "filter"},
		{assignmentsV2, q("source in ('LOCAL')"), "filter"},
		{assignmentsV2, q("role in (1)"), "filter"},
		{assignmentsV2, q("role in ('a'"), "filter"},
	} {
		resp, raw := w.e.Do(t, http.MethodGet, tc.base+"?"+tc.query, w.admin, nil)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, tc.field)
	}
	big := list(assignmentsV2, "limit=200")
	if big["count"] != float64(6) {
		t.Fatalf("limit=200: %v", big)
	}
}

func TestAssignmentIsolationAndPermissions(t *testing.T) {
	w := newIAMWorld(t)
	role := w.customRole(t, w.admin, "Viewer", permView)
	u := w.member(t, w.admin, "kate@example.test")
	id := w.assign(t, w.admin, "user:"+u, role, res(w.ws, "servers/1"))
	for _, base := range []string{assignmentsV2, assignmentsV1} {
		for _, c := range []struct {
			method string
			body   any
		}{{http.MethodGet, nil}, {http.MethodDelete, nil},
			{http.MethodPut, map[string]any{"id": id, "principal": "user:" + u, "subject": "user:" + u, "role": role, "scope": []string{wsGRN(w.other)}}}} {
			resp, raw := w.e.Do(t, c.method, base+"/"+id, w.otherTok, c.body)
			if c.method == http.MethodPut {
				if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("PUT of another workspace's assignment: %d %s", resp.StatusCode, raw)
				}
				continue
			}
			wantIAMError(t, resp.StatusCode, raw, http.StatusNotFound, "")
		}
		list := w.call(t, http.MethodGet, base, w.otherTok, nil, http.StatusOK)
		if strings.Contains(string(list), id) || strings.Contains(string(list), u) || strings.Contains(string(list), ids.Hex(w.ws)) {
			t.Fatalf("another workspace lists workspace A's assignments: %s", list)
		}
	}
	w.call(t, http.MethodGet, assignmentsV2+"/"+id, w.admin, nil, http.StatusOK) // untouched
	observer := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceObserver))
	operator := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceOperator))
	w.call(t, http.MethodGet, assignmentsV2, observer, nil, http.StatusOK)
	resp, raw := w.e.Do(t, http.MethodPost, assignmentsV2, observer, map[string]any{"subject": "user:" + u, "role": role, "scope": []string{wsGRN(w.ws)}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	// The operator holds no svc permission, so it cannot grant one (nobody grants more than
	// it holds); the observer role's permissions it holds.
	resp, raw = w.e.Do(t, http.MethodPost, assignmentsV2, operator, map[string]any{"subject": "user:" + u, "role": role, "scope": []string{wsGRN(w.ws)}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	w.assign(t, operator, "user:"+u, rbac.PredefinedRoleGRN(rbac.RoleWorkspaceObserver), wsGRN(w.ws))
	resp, raw = w.e.Do(t, http.MethodDelete, assignmentsV2+"/"+id, operator, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	resp, raw = w.e.Do(t, http.MethodGet, assignmentsV2, "", nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusUnauthorized, "")
}
