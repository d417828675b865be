package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// A subject's properties.scope, and a token subject's own scope claim, narrow AuthZEN
// decisions as a token's scope narrows its caller: what the roles grant and the scope permits.
// The explanation says when the scope, not the roles, denied.
func TestAuthZENScope(t *testing.T) {
	w := newDecisionWorld(t)
	server1 := map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")}
	eval := func(subject map[string]any, action string, resource map[string]string) map[string]any {
		t.Helper()
		return object(t, w.callExplained(t, http.MethodPost, "/access/v1/evaluation", w.admin,
			map[string]any{"subject": subject, "action": map[string]string{"name": action}, "resource": resource}, http.StatusOK))
	}
	code := func(d map[string]any) any {
		ctx, _ := d["context"].(map[string]any)
		reason, _ := ctx["reason"].(map[string]any)
		return reason["code"]
	}
	scoped := func(id, sc string) map[string]any {
		return map[string]any{"type": "user", "id": id, "properties": map[string]any{"scope": sc}}
	}
	for _, tc := range []struct {
		subject map[string]any
		action  string
		allowed bool
		code    string
	}{
		{scoped(w.whole, permView), permView, true, ""},
		{scoped(w.whole, "svc.servers.*"), permView, true, ""},
		{scoped(w.whole, ""), permView, true, ""},
		{map[string]any{"type": "user", "id": w.whole, "properties": map[string]any{"scope": nil}}, permView, true, ""},
		{scoped(w.whole, permPower), permView, false, "outside_token_scope"},
		{scoped(w.whole, "svc.disks.*"), permView, false, "outside_token_scope"},
		{scoped(w.nobody, "svc.servers.*"), permView, false, "no_matching_assignment"}, // the roles deny first
	} {
		d := eval(tc.subject, tc.action, server1)
		if d["decision"] != tc.allowed || (!tc.allowed && code(d) != tc.code) {
			t.Errorf("%v %s: %v, want %v %s", tc.subject, tc.action, d, tc.allowed, tc.code)
		}
	}
	// Without the explanation, the scope's denial looks like any other.
	raw := w.call(t, http.MethodPost, "/access/v1/evaluation", w.admin, map[string]any{"subject": scoped(w.whole, permPower),
		"action": map[string]string{"name": permView}, "resource": server1}, http.StatusOK)
	if strings.TrimSpace(string(raw)) != `{"decision":false}` {
		t.Errorf("unexplained scope denial: %s", raw)
	}
	// A malformed scope is a 400 naming the member, never an unrestricted decision.
	for _, bad := range []any{"openid", "svc.servers.view  svc.servers.power", 42, []string{permView}} {
		resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/evaluation", w.admin, map[string]any{
			"subject": map[string]any{"type": "user", "id": w.whole, "properties": map[string]any{"scope": bad}},
			"action":  map[string]string{"name": permView}, "resource": server1})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "subject.properties.scope") {
			t.Errorf("scope %v: %d %s", bad, resp.StatusCode, raw)
		}
	}
	// The action search lists only what the scope permits.
	raw = w.call(t, http.MethodPost, "/access/v1/search/action", w.admin, map[string]any{"subject": scoped(w.whole, permView+" "+permPower),
		"resource": server1}, http.StatusOK)
	var found struct{ Results []struct{ Name string } }
	_ = json.Unmarshal(raw, &found)
	var names []string
	for _, r := range found.Results {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{permPower, permView}) {
		t.Errorf("action search with a scope: %v", names)
	}
	// The resource search finds nothing for an action outside the scope.
	raw = w.call(t, http.MethodPost, "/access/v1/search/resource", w.admin, map[string]any{"subject": scoped(w.whole, permPower),
		"action": map[string]string{"name": permView}, "resource": map[string]string{"type": "svc/servers"}}, http.StatusOK)
	if results, _ := object(t, raw)["results"].([]any); len(results) != 0 {
		t.Errorf("resource search outside the scope: %s", raw)
	}

	// A token subject carries its own scope: the owner holds view and legacy on servers/4, the
	// token is scoped to legacy.
	resp, body := w.e.PostForm(t, w.e.TokenURL(w.ws), url.Values{"grant_type": {"client_credentials"},
		"client_id": {w.client}, "client_secret": {w.clientSecret}, "scope": {permLegacy}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scoped token: %d %s", resp.StatusCode, body)
	}
	tok := accessToken(t, body)
	server4 := map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/4")}
	subject := map[string]any{"type": "token", "id": tok}
	if d := eval(subject, permLegacy, server4); d["decision"] != true {
		t.Errorf("scoped token, legacy: %v", d)
	}
	if d := eval(subject, permView, server4); d["decision"] != false || code(d) != "outside_token_scope" {
		t.Errorf("scoped token, view: %v", d)
	}
	// properties.scope cannot widen the token's own scope.
	subject["properties"] = map[string]any{"scope": "svc.servers.*"}
	if d := eval(subject, permView, server4); d["decision"] != false || code(d) != "outside_token_scope" {
		t.Errorf("scoped token with a wider properties.scope: %v", d)
	}
}
