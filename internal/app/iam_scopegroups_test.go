package app_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/ids"
)

const (
	scopeGroupsV2 = "/authorization/v2alpha2/scope-groups"
	scopeGroupsV1 = "/authorization/v1beta1/scope-groups"
)

func TestScopeGroupNames(t *testing.T) {
	w := newIAMWorld(t)
	g := object(t, w.call(t, http.MethodPost, scopeGroupsV1, w.admin, map[string]any{"name": "lab servers", "description": "the lab"},
		http.StatusCreated))
	if g["grn"] != wsGRN(w.ws)+"/regions/default/providers/authorization/scope-groups/"+g["id"].(string) ||
		g["type"] != "authorization/scope-group" || g["generation"] != float64(1) {
		t.Fatalf("scope group %v", g)
	}
	for _, tc := range []struct {
		name, value string
		status      int
	}{
		{"taken", "lab servers", 409}, {"empty", "", 400}, {"leading space", " lab", 400}, {"trailing space", "lab ", 400},
		{"ampersand", "a&b", 400}, {"less than", "a<b", 400}, {"greater than", "a>b", 400}, {"pipe", "a|b", 400},
		{"colon", "a:b", 400}, {"comma", "a,b", 400}, {"151 characters", strings.Repeat("n", 151), 400},
		{"a control character", "a\tb", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := w.e.Do(t, http.MethodPost, scopeGroupsV2, w.admin, map[string]any{"name": tc.value})
			field := "name"
			if tc.status != 400 {
				field = ""
			}
			wantIAMError(t, resp.StatusCode, raw, tc.status, field)
		})
	}
	w.call(t, http.MethodPost, scopeGroupsV2, w.admin, map[string]any{"name": strings.Repeat("n", 150)}, http.StatusCreated)
	w.call(t, http.MethodPost, scopeGroupsV2, w.otherTok, map[string]any{"name": "lab servers"}, http.StatusCreated) // per workspace
	// Update: id required and matching; the name rules apply.
	id := g["id"].(string)
	resp, raw := w.e.Do(t, http.MethodPut, scopeGroupsV1+"/"+id, w.admin, map[string]any{"name": "renamed"})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "id")
	up := object(t, w.call(t, http.MethodPut, scopeGroupsV1+"/"+id, w.admin, map[string]any{"id": id, "name": "renamed"}, http.StatusOK))
	if up["name"] != "renamed" || up["generation"] != float64(2) || up["description"] != "" {
		t.Fatalf("updated %v", up)
	}
	resp, raw = w.e.Do(t, http.MethodPut, scopeGroupsV1+"/"+id, w.admin, map[string]any{"id": id, "name": strings.Repeat("n", 150)})
	wantIAMError(t, resp.StatusCode, raw, http.StatusConflict, "")
}

func TestScopeGroupListing(t *testing.T) {
	w := newIAMWorld(t)
	var grns []string
	for _, n := range []string{"charlie", "alpha", "bravo"} {
		g := object(t, w.call(t, http.MethodPost, scopeGroupsV2, w.admin, map[string]any{"name": n}, http.StatusCreated))
		grns = append(grns, g["grn"].(string))
	}
	names := func(path string) []string {
		l := object(t, w.call(t, http.MethodGet, path, w.admin, nil, http.StatusOK))
		var out []string
		for _, it := range l["items"].([]any) {
			out = append(out, it.(map[string]any)["name"].(string))
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"", "alpha bravo charlie"},
		{"?sort=name%20desc", "charlie bravo alpha"},
		{"?limit=1&offset=1", "bravo"},
		{"?offset=2", "charlie"},
		{"?filter=name%20in%20('bravo','charlie')", "bravo charlie"},
		{"?filter=grn%20in%20('" + grns[0] + "')", "charlie"},
		{"?filter=serviceMetadata/id%20in%20('x')", ""},
	} {
		if got := strings.Join(names(scopeGroupsV1+tc.query), " "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
	}
	for _, query := range []string{"?limit=201", "?sort=grn", "?filter=name%20in%20('a')%20and%20grn%20in%20('b')", "?filter=name%20eq%20'a'", "?x=1"} {
		resp, raw := w.e.Do(t, http.MethodGet, scopeGroupsV1+query, w.admin, nil)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "")
	}
}

func TestScopeGroupScopes(t *testing.T) {
	w := newIAMWorld(t)
	id := object(t, w.call(t, http.MethodPost, scopeGroupsV1, w.admin, map[string]any{"name": "g"}, http.StatusCreated))["id"].(string)
	batch := scopeGroupsV1 + "/" + id + "/scopes/batch"
	raw := w.call(t, http.MethodPost, batch, w.admin, map[string]any{"items": []map[string]any{
		{"grn": res(w.ws, "servers/1"), "description": "one"},
		{"grn": res(w.ws, "servers/1"), "description": "one again"},
		{"grn": "grn:glp/workspaces/" + w.ws + "/regions/eu-west/providers/svc/servers/*", "description": "all eu servers"},
		{"grn": "", "description": ""},
		{"grn": res(w.other, "servers/1"), "description": "theirs"},
		{"grn": wsGRN(w.ws), "description": "the workspace"},
		{"grn": wsGRN(w.ws) + "/regions/default/providers/authorization/scope-groups/" + id, "description": "itself"},
	}}, http.StatusOK)
	rep := object(t, raw)
	if rep["successCount"] != float64(2) || rep["errorCount"] != float64(5) {
		t.Fatalf("batch report %s", raw)
	}
	succ := rep["successes"].([]any)
	eu := succ[1].(map[string]any)
	if eu["region"] != "eu-west" || eu["allScopes"] != true || eu["resourceTypeDisplayName"] != "Servers" ||
		eu["grn"] != wsGRN(w.ws)+"/regions/eu-west/providers/svc/servers/*" || eu["type"] != "authorization/scope-group/scope" {
		t.Fatalf("scope %v", eu)
	}
	errs := rep["errors"].([]any)
	dup := errs[0].(map[string]any)
	if dup["httpStatusCode"] != float64(409) || dup["errorCode"] != "HPE_GL_AUTHORIZATION_RESOURCE_CONFLICT" || dup["debugId"] == "" {
		t.Fatalf("duplicate item %v", dup)
	}
	bad := errs[1].(map[string]any)
	if bad["httpStatusCode"] != float64(400) || !strings.Contains(string(raw), "items[3].description") {
		t.Fatalf("bad item %v", bad)
	}
	list := object(t, w.call(t, http.MethodGet, scopeGroupsV1+"/"+id+"/scopes?limit=1", w.admin, nil, http.StatusOK))
	if list["total"] != float64(2) || list["count"] != float64(1) {
		t.Fatalf("scopes %v", list)
	}
	// Bulk removal reports each id.
	one := succ[0].(map[string]any)["id"].(string)
	missing := ids.New()
	raw = w.call(t, http.MethodDelete, scopeGroupsV1+"/"+id+"/scopes/bulk", w.admin,
		map[string]any{"items": []map[string]string{{"id": one}, {"id": missing}}}, http.StatusOK)
	rep = object(t, raw)
	if rep["successCount"] != float64(1) || rep["errorCount"] != float64(1) ||
		rep["errors"].([]any)[0].(map[string]any)["id"] != missing || rep["errors"].([]any)[0].(map[string]any)["httpStatusCode"] != float64(404) {
		t.Fatalf("bulk report %s", raw)
	}
	resp, body := w.e.Do(t, http.MethodDelete, scopeGroupsV1+"/"+id+"/scopes/bulk", w.admin, map[string]any{"items": []map[string]string{{"id": "x"}}})
	wantIAMError(t, resp.StatusCode, body, http.StatusBadRequest, "items[0].id")
	// At most 500 each way.
	items := make([]map[string]string, 501)
	for i := range items {
		items[i] = map[string]string{"grn": res(w.ws, "servers/"+strconv.Itoa(i)), "description": "s"}
	}
	resp, body = w.e.Do(t, http.MethodPost, batch, w.admin, map[string]any{"items": items})
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("501 scopes: %d %s", resp.StatusCode, body)
	}
	resp, body = w.e.Do(t, http.MethodPost, batch, w.admin, map[string]any{"items": items[:500]})
	if resp.StatusCode != http.StatusOK || object(t, body)["successCount"] != float64(500) {
		t.Fatalf("500 scopes: %d %.300s", resp.StatusCode, body)
	}
	ids501 := make([]map[string]string, 501)
	for i := range ids501 {
		ids501[i] = map[string]string{"id": ids.New()}
	}
	resp, body = w.e.Do(t, http.MethodDelete, scopeGroupsV1+"/"+id+"/scopes/bulk", w.admin, map[string]any{"items": ids501})
	wantIAMError(t, resp.StatusCode, body, http.StatusBadRequest, "items")
	resp, body = w.e.Do(t, http.MethodPost, batch, w.admin, map[string]any{"items": []any{}})
	wantIAMError(t, resp.StatusCode, body, http.StatusBadRequest, "items")
}

func TestScopeGroupDeleteInUse(t *testing.T) {
	w := newIAMWorld(t)
	g := object(t, w.call(t, http.MethodPost, scopeGroupsV2, w.admin, map[string]any{"name": "g"}, http.StatusCreated))
	role := w.customRole(t, w.admin, "Viewer", permView)
	u := w.member(t, w.admin, "lena@example.test")
	a := w.assign(t, w.admin, "user:"+u, role, g["grn"].(string))
	resp, raw := w.e.Do(t, http.MethodDelete, scopeGroupsV1+"/"+g["id"].(string), w.admin, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusPreconditionFailed, "")
	w.call(t, http.MethodDelete, assignmentsV2+"/"+a, w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodDelete, scopeGroupsV1+"/"+g["id"].(string), w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodGet, scopeGroupsV1+"/"+g["id"].(string), w.admin, nil, http.StatusNotFound)
}

func TestScopeGroupIsolation(t *testing.T) {
	w := newIAMWorld(t)
	g := object(t, w.call(t, http.MethodPost, scopeGroupsV2, w.admin, map[string]any{"name": "alpha-secret-group"}, http.StatusCreated))
	id := g["id"].(string)
	for _, base := range []string{scopeGroupsV1, scopeGroupsV2} {
		for _, c := range []struct {
			method, suffix string
			body           any
		}{
			{http.MethodGet, "", nil}, {http.MethodPut, "", map[string]any{"id": id, "name": "x"}}, {http.MethodDelete, "", nil},
			{http.MethodGet, "/scopes", nil},
			{http.MethodPost, "/scopes/batch", map[string]any{"items": []map[string]string{{"grn": res(w.other, "x/1"), "description": "d"}}}},
			{http.MethodDelete, "/scopes/bulk", map[string]any{"items": []map[string]string{{"id": ids.New()}}}},
		} {
			resp, raw := w.e.Do(t, c.method, base+"/"+id+c.suffix, w.otherTok, c.body)
			wantIAMError(t, resp.StatusCode, raw, http.StatusNotFound, "")
			if strings.Contains(string(raw), "alpha-secret-group") {
				t.Fatalf("leak: %s", raw)
			}
		}
		list := w.call(t, http.MethodGet, base, w.otherTok, nil, http.StatusOK)
		if strings.Contains(string(list), id) {
			t.Fatalf("another workspace lists the group: %s", list)
		}
	}
	w.call(t, http.MethodGet, scopeGroupsV2+"/"+id, w.admin, nil, http.StatusOK)
	resp, raw := w.e.Do(t, http.MethodGet, scopeGroupsV1+"/not-a-uuid", w.admin, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "id")
}
