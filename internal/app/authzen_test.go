package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/rbac"
)

func TestAuthZENMetadata(t *testing.T) {
	w := newIAMWorld(t)
	raw := w.call(t, http.MethodGet, "/.well-known/authzen-configuration", "", nil, http.StatusOK)
	m := object(t, raw)
	want := map[string]string{
		"policy_decision_point":       w.e.Base,
		"access_evaluation_endpoint":  w.e.Base + "/access/v1/evaluation",
		"access_evaluations_endpoint": w.e.Base + "/access/v1/evaluations",
		"search_action_endpoint":      w.e.Base + "/access/v1/search/action",
		"search_subject_endpoint":     w.e.Base + "/access/v1/search/subject",
		"search_resource_endpoint":    w.e.Base + "/access/v1/search/resource",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %s", k, m[k], v)
		}
	}
}

func TestAuthZENEvaluations(t *testing.T) {
	w := newDecisionWorld(t)
	evals := func(body map[string]any) []map[string]any {
		t.Helper()
		raw := w.call(t, http.MethodPost, "/access/v1/evaluations", w.admin, body, http.StatusOK)
		var out struct{ Evaluations []map[string]any }
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out.Evaluations
	}
	decisions := func(es []map[string]any) []bool {
		var out []bool
		for _, e := range es {
			out = append(out, e["decision"] == true)
		}
		return out
	}
	items := []map[string]any{
		{"resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")}},
		{"resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/2")}},
		{"resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")}, "action": map[string]string{"name": permPower}},
		{"subject": map[string]string{"type": "user", "id": w.whole}, "action": map[string]string{"name": permPower},
			"resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")}},
	}
	defaults := map[string]any{"subject": user(w.direct), "action": map[string]string{"name": permView}}
	with := func(extra map[string]any) map[string]any {
		b := map[string]any{"evaluations": items}
		for k, v := range defaults {
			b[k] = v
		}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	if got := decisions(evals(with(nil))); !slices.Equal(got, []bool{true, false, false, true}) {
		t.Fatalf("execute_all = %v", got)
	}
	if got := decisions(evals(with(map[string]any{"options": map[string]any{"evaluations_semantic": "deny_on_first_deny"}}))); !slices.Equal(got, []bool{true, false}) {
		t.Fatalf("deny_on_first_deny = %v", got)
	}
	if got := decisions(evals(with(map[string]any{"options": map[string]any{"evaluations_semantic": "permit_on_first_permit"}}))); !slices.Equal(got, []bool{true}) {
		t.Fatalf("permit_on_first_permit = %v", got)
	}
	// Without an evaluations array the request is a single evaluation.
	raw := w.call(t, http.MethodPost, "/access/v1/evaluations", w.admin, map[string]any{"subject": user(w.direct),
		"action": map[string]string{"name": permView}, "resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")}}, http.StatusOK)
	if object(t, raw)["decision"] != true {
		t.Fatalf("single through /evaluations: %s", raw)
	}
	// A bad item fails alone, with the error in its context.
	bad := evals(map[string]any{"subject": user(w.direct), "action": map[string]string{"name": permView}, "evaluations": []map[string]any{
		{"resource": map[string]string{"type": "svc/servers", "id": "grn:nope/../x"}},
		{"resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")}},
	}})
	errCtx, _ := bad[0]["context"].(map[string]any)["error"].(map[string]any)
	if bad[0]["decision"] != false || errCtx["status"] != float64(400) || bad[1]["decision"] != true {
		t.Fatalf("per-item error: %v", bad)
	}
}

func TestAuthZENCallerAuthorization(t *testing.T) {
	w := newDecisionWorld(t)
	observer := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceObserver))
	noRole := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, ""))
	body := func(ws string) map[string]any {
		return map[string]any{"subject": user(w.direct), "action": map[string]string{"name": permView},
			"resource": map[string]string{"type": "svc/servers", "id": res(ws, "servers/1")}}
	}
	w.call(t, http.MethodPost, "/access/v1/evaluation", observer, body(w.ws), http.StatusOK)
	for _, tc := range []struct {
		name string
		tok  string
		ws   string
	}{{"no role", noRole, w.ws}, {"observer, another workspace", observer, w.other}, {"other workspace's admin", w.otherTok, w.ws}} {
		resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/evaluation", tc.tok, body(tc.ws))
		wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
		if json.Valid(raw) && object(t, raw)["decision"] != nil {
			t.Fatalf("%s: a refused request carries a decision: %s", tc.name, raw)
		}
	}
	// In a batch, an item the caller may not ask about fails alone.
	raw := w.call(t, http.MethodPost, "/access/v1/evaluations", observer, map[string]any{"subject": user(w.direct),
		"action": map[string]string{"name": permView}, "evaluations": []map[string]any{
			{"resource": map[string]string{"type": "svc/servers", "id": res(w.other, "servers/1")}},
			{"resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")}}}}, http.StatusOK)
	var out struct{ Evaluations []azResult }
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Evaluations) != 2 {
		t.Fatalf("%s: %v", raw, err)
	}
	if out.Evaluations[0].Decision || out.Evaluations[0].Context.Error.Status != 403 || !out.Evaluations[1].Decision {
		t.Fatalf("mixed batch: %s", raw)
	}
	for _, tok := range []string{"", "not-a-token"} {
		resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/evaluation", tok, body(w.ws))
		wantIAMError(t, resp.StatusCode, raw, http.StatusUnauthorized, "")
	}
}

type azResult struct {
	Decision bool
	Context  struct {
		Error struct{ Status int }
	}
}

func TestAuthZENBadRequests(t *testing.T) {
	w := newIAMWorld(t)
	ok := func() map[string]any {
		return map[string]any{"subject": user("00000000-0000-4000-8000-000000000001"), "action": map[string]string{"name": permView},
			"resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")}}
	}
	cases := []struct {
		name  string
		edit  func(b map[string]any)
		field string
	}{
		{"no subject", func(b map[string]any) { delete(b, "subject") }, "subject"},
		{"subject without type", func(b map[string]any) { b["subject"] = map[string]string{"id": "x"} }, "subject.type"},
		{"subject of an unknown type", func(b map[string]any) { b["subject"] = map[string]string{"type": "robot", "id": "x"} }, "subject.type"},
		{"no action", func(b map[string]any) { delete(b, "action") }, "action"},
		{"action without name", func(b map[string]any) { b["action"] = map[string]any{"properties": map[string]any{}} }, "action.name"},
		{"no resource", func(b map[string]any) { delete(b, "resource") }, "resource"},
		{"resource without type", func(b map[string]any) { b["resource"] = map[string]string{"id": res(w.ws, "servers/1")} }, "resource.type"},
		{"resource with a bad GRN", func(b map[string]any) { b["resource"] = map[string]string{"type": "t", "id": "grn:glp/x y"} }, "resource.id"},
		{"resource properties.grn not a string", func(b map[string]any) {
			b["resource"] = map[string]any{"type": "t", "id": "s1", "properties": map[string]any{"grn": 5}}
		}, "resource.properties.grn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := ok()
			tc.edit(b)
			resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/evaluation", w.admin, b)
			wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, tc.field)
		})
	}
	resp, raw := w.e.DoWith(t, http.MethodPost, "/access/v1/evaluation", w.admin, ok(), http.Header{"Keyhold-Explain": {"yes"}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "Keyhold-Explain")
	// properties.grn stands in for an id that is not a GRN.
	b := ok()
	b["resource"] = map[string]any{"type": "svc/servers", "id": "server-1", "properties": map[string]any{"grn": res(w.ws, "servers/1")}}
	w.call(t, http.MethodPost, "/access/v1/evaluation", w.admin, b, http.StatusOK)
	for _, body := range []any{`{"evaluations": "x"}`, `{"options": {"evaluations_semantic": "sometimes"}, "evaluations": [{}]}`,
		map[string]any{"options": map[string]any{}, "evaluations": []any{}}, `[1]`, `{"subject": `} {
		resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/evaluations", w.admin, body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "")
	}
	many := make([]map[string]any, 201)
	for i := range many {
		many[i] = ok()
	}
	resp, raw = w.e.Do(t, http.MethodPost, "/access/v1/evaluations", w.admin, map[string]any{"evaluations": many})
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("201 evaluations: %d %s", resp.StatusCode, raw)
	}
}

func TestEffectivePermissions(t *testing.T) {
	w := newDecisionWorld(t)
	search := func(tok string, subject map[string]string, resource string, explain bool) (int, []map[string]any) {
		t.Helper()
		var hdr http.Header
		if explain {
			hdr = explained
		}
		resp, raw := w.e.DoWith(t, http.MethodPost, "/access/v1/search/action", tok, map[string]any{"subject": subject,
			"resource": map[string]string{"type": "svc/servers", "id": resource}}, hdr)
		var out struct{ Results []map[string]any }
		_ = json.Unmarshal(raw, &out)
		return resp.StatusCode, out.Results
	}
	names := func(rs []map[string]any) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r["name"].(string))
		}
		return out
	}
	for _, tc := range []struct {
		subject  map[string]string
		resource string
		want     []string
	}{
		{user(w.whole), res(w.ws, "servers/1"), []string{permLegacy, permPower, permView}},
		{user(w.direct), res(w.ws, "servers/1"), []string{permLegacy, permView}},
		{user(w.direct), res(w.ws, "servers/2"), nil},
		{user(w.inGroup), res(w.ws, "servers/2"), []string{permLegacy, permView}},
		{user(w.scoped), res(w.ws, "nics/3"), []string{permView}},
		{user(w.whole), wsGRN(w.ws), []string{permLegacy, permPower, permView}},
		{user(w.e.Admin.UserID), wsGRN(w.ws), nil}, // filled below: every glp permission
	} {
		status, rs := search(w.admin, tc.subject, tc.resource, false)
		if status != http.StatusOK {
			t.Fatalf("search: %d", status)
		}
		got := names(rs)
		if tc.subject["id"] == w.e.Admin.UserID {
			if len(got) != 20 || !slices.Contains(got, "glp.resource-provider.edit") {
				t.Errorf("platform administrator holds %v", got)
			}
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v on %s: %v, want %v", tc.subject, tc.resource, got, tc.want)
		}
	}
	_, rs := search(w.admin, user(w.inGroup), res(w.ws, "servers/2"), true)
	for _, r := range rs {
		props := r["properties"].(map[string]any)
		reason := props["reason"].(map[string]any)
		if reason["principal"] != "user-group:"+w.group || reason["via"] != "user:"+w.inGroup {
			t.Errorf("%s explained as %v", r["name"], reason)
		}
		if (r["name"] == permLegacy) != (props["releaseStage"] == "DEPRECATED") {
			t.Errorf("%s: releaseStage %v", r["name"], props["releaseStage"])
		}
	}
	if status, _ := search(w.otherTok, user(w.whole), res(w.ws, "servers/1"), false); status != http.StatusForbidden {
		t.Fatalf("another workspace's administrator searched: %d", status)
	}
	// An action member is not part of an action search: it is ignored (AuthZEN 1.0 §8.5).
	raw := w.call(t, http.MethodPost, "/access/v1/search/action", w.admin, map[string]any{"subject": user(w.whole),
		"action": map[string]string{"name": "svc.nope"}, "resource": map[string]string{"type": "t", "id": res(w.ws, "servers/1")}}, http.StatusOK)
	if results, _ := object(t, raw)["results"].([]any); len(results) != 3 {
		t.Fatalf("action search with an action member: %s", raw)
	}
}

// TestAuthZENMetadataAnswers fetches the metadata of the root PDP, a workspace's and a
// provider's, and requires each to list exactly the five endpoints under its
// policy_decision_point, and each URL to answer its kind of request (401 without a token; with
// one, the answer the PDP's vocabulary gives).
func TestAuthZENMetadataAnswers(t *testing.T) {
	w := newDecisionWorld(t)
	view := map[string]string{"name": "view"}
	server := map[string]string{"type": "servers", "id": "1"}
	bodies := map[string]struct {
		body map[string]any
		want string // a fragment of the answer
	}{
		"access_evaluation_endpoint":  {map[string]any{"subject": user(w.direct), "action": view, "resource": server}, `"decision":true`},
		"access_evaluations_endpoint": {map[string]any{"subject": user(w.direct), "action": view, "evaluations": []any{map[string]any{"resource": server}}}, `"evaluations":[{"decision":true}]`},
		"search_subject_endpoint":     {map[string]any{"subject": map[string]string{"type": "user"}, "action": view, "resource": server}, w.direct},
		"search_resource_endpoint":    {map[string]any{"subject": user(w.direct), "action": view, "resource": map[string]string{"type": "servers"}}, `{"type":"servers","id":"1"}`},
		"search_action_endpoint":      {map[string]any{"subject": user(w.direct), "resource": server}, `{"name":"view"}`},
	}
	for _, pdp := range []string{"", "/authzen/workspaces/" + w.ws, "/authzen/workspaces/" + w.ws + "/providers/svc"} {
		md := object(t, w.call(t, http.MethodGet, "/.well-known/authzen-configuration"+pdp, "", nil, http.StatusOK))
		if md["policy_decision_point"] != w.e.Base+pdp || len(md) != len(bodies)+1 {
			t.Fatalf("%q: metadata %v", pdp, md)
		}
		for param, c := range bodies {
			url, _ := md[param].(string)
			path, ok := strings.CutPrefix(url, w.e.Base+pdp+"/")
			if !ok {
				t.Fatalf("%q: %s = %q is not under the PDP", pdp, param, url)
			}
			w.call(t, http.MethodPost, pdp+"/"+path, "", c.body, http.StatusUnauthorized)
			if raw := w.call(t, http.MethodPost, pdp+"/"+path, w.admin, c.body, http.StatusOK); !strings.Contains(string(raw), c.want) {
				t.Errorf("%s: %s lacks %s", url, raw, c.want)
			}
		}
	}
}
