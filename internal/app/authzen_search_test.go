package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// searchResult is a search's answer.
type searchResult struct {
	Page struct {
		NextToken string `json:"next_token"`
		Count     int    `json:"count"`
	} `json:"page"`
	Context struct {
		WildcardScopes []string `json:"wildcard_scopes"`
	} `json:"context"`
	Results []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"results"`
}

func (w *decisionWorld) search(t *testing.T, kind, tok string, body map[string]any, status int) searchResult {
	t.Helper()
	raw := w.call(t, http.MethodPost, "/access/v1/search/"+kind, tok, body, status)
	var out searchResult
	if status == http.StatusOK {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	return out
}

func resultIDs(r searchResult) []string {
	var out []string
	for _, x := range r.Results {
		out = append(out, x.ID)
	}
	return out
}

func subjectSearch(typ, action, resource string) map[string]any {
	return map[string]any{"subject": map[string]string{"type": typ}, "action": map[string]string{"name": action},
		"resource": map[string]string{"type": "svc/servers", "id": resource}}
}

func resourceSearch(subject map[string]string, action, rtype string) map[string]any {
	return map[string]any{"subject": subject, "action": map[string]string{"name": action},
		"resource": map[string]string{"type": rtype}}
}

// TestSubjectSearch checks who may act on a resource: directly, through a wildcard, the whole
// workspace, a user group, a scope group, an API client's own assignment and its owner's; and
// that every result is what an evaluation allows.
func TestSubjectSearch(t *testing.T) {
	w := newDecisionWorld(t)
	cases := []struct {
		name, typ, resource string
		in, out             []string
	}{
		{"direct, wildcard, whole", "user", res(w.ws, "servers/1"), []string{w.direct, w.wild, w.whole}, []string{w.nobody, w.inGroup, w.scoped, w.owner}},
		{"through the group", "user", res(w.ws, "servers/2"), []string{w.inGroup, w.wild, w.whole}, []string{w.direct, w.nobody}},
		{"through the scope group", "user", res(w.ws, "servers/3"), []string{w.scoped, w.wild, w.whole}, []string{w.direct, w.inGroup}},
		{"nested under the wildcard", "user", res(w.ws, "servers/9/nics/1"), []string{w.wild, w.whole}, []string{w.direct, w.scoped}},
		{"the scope group's wildcard", "user", res(w.ws, "nics/7"), []string{w.scoped, w.whole}, []string{w.direct, w.wild}},
		{"the group itself", "user-group", res(w.ws, "servers/2"), []string{w.group}, nil},
		{"an API client through its owner", "api-client", res(w.ws, "servers/4"), []string{w.client}, []string{w.clientOwnGrant}},
		{"an API client's own grant", "api-client", res(w.ws, "servers/5"), []string{w.clientOwnGrant}, []string{w.client}},
	}
	for _, tc := range cases {
		got := resultIDs(w.search(t, "subject", w.admin, subjectSearch(tc.typ, permView, tc.resource), http.StatusOK))
		for _, id := range tc.in {
			if !slices.Contains(got, id) {
				t.Errorf("%s: %s missing from %v", tc.name, id, got)
			}
		}
		for _, id := range tc.out {
			if slices.Contains(got, id) {
				t.Errorf("%s: %s should not be in %v", tc.name, id, got)
			}
		}
		for _, id := range got { // each result is an allowed evaluation
			if d := w.decision(t, w.admin, map[string]string{"type": tc.typ, "id": id}, permView, tc.resource); d["decision"] != true {
				t.Errorf("%s: %s reported but denied: %v", tc.name, id, d)
			}
		}
	}
	// The subject's id is ignored; an unknown permission or another type's resource finds nobody.
	body := subjectSearch("user", permView, res(w.ws, "servers/1"))
	body["subject"] = map[string]string{"type": "user", "id": w.nobody}
	if got := resultIDs(w.search(t, "subject", w.admin, body, http.StatusOK)); !slices.Contains(got, w.direct) {
		t.Errorf("subject id not ignored: %v", got)
	}
	if got := w.search(t, "subject", w.admin, subjectSearch("user", "svc.nope", res(w.ws, "servers/1")), http.StatusOK); len(got.Results) != 0 {
		t.Errorf("unknown permission: %v", got.Results)
	}
}

// TestResourceSearch checks which resources a subject may act on: single resources known
// from assignments and scope groups, and wider grants in context.wildcard_scopes.
func TestResourceSearch(t *testing.T) {
	w := newDecisionWorld(t)
	got := w.search(t, "resource", w.admin, resourceSearch(user(w.scoped), permView, "svc/servers"), http.StatusOK)
	if !slices.Equal(resultIDs(got), []string{res(w.ws, "servers/3")}) || len(got.Context.WildcardScopes) != 0 {
		t.Errorf("scope group: %+v", got)
	}
	got = w.search(t, "resource", w.admin, resourceSearch(user(w.scoped), permView, "svc/nics"), http.StatusOK)
	// nics/* covers every top-level nic; servers/3 the nics under it.
	if !slices.Equal(got.Context.WildcardScopes, []string{res(w.ws, "nics/*"), res(w.ws, "servers/3")}) {
		t.Errorf("scope group's wildcard: %+v", got)
	}
	all := []string{res(w.ws, "servers/1"), res(w.ws, "servers/2"), res(w.ws, "servers/3"), res(w.ws, "servers/4"), res(w.ws, "servers/5")}
	got = w.search(t, "resource", w.admin, resourceSearch(user(w.wild), permView, "svc/servers"), http.StatusOK)
	if !slices.Equal(resultIDs(got), all) || !slices.Equal(got.Context.WildcardScopes, []string{res(w.ws, "servers/*")}) {
		t.Errorf("wildcard: %+v", got)
	}
	if got.Results[0].Type != "svc/servers" || got.Page.NextToken != "" || got.Page.Count != len(all) {
		t.Errorf("result shape: %+v", got)
	}
	got = w.search(t, "resource", w.admin, resourceSearch(user(w.whole), permView, "svc/servers"), http.StatusOK)
	if !slices.Equal(resultIDs(got), all) || !slices.Equal(got.Context.WildcardScopes, []string{wsGRN(w.ws)}) {
		t.Errorf("whole workspace: %+v", got)
	}
	// The fixed-scope permission holds on the whole workspace only: the wildcard grants it nowhere.
	got = w.search(t, "resource", w.admin, resourceSearch(user(w.wild), permPower, "svc/servers"), http.StatusOK)
	if len(got.Results) != 0 || len(got.Context.WildcardScopes) != 0 {
		t.Errorf("fixed scope through a wildcard: %+v", got)
	}
	got = w.search(t, "resource", w.admin, resourceSearch(map[string]string{"type": "api-client", "id": w.client}, permView, "svc/servers"), http.StatusOK)
	if !slices.Equal(resultIDs(got), []string{res(w.ws, "servers/4")}) {
		t.Errorf("API client through its owner: %+v", got)
	}
	got = w.search(t, "resource", w.admin, resourceSearch(user(w.nobody), permView, "svc/servers"), http.StatusOK)
	if len(got.Results) != 0 {
		t.Errorf("nobody: %+v", got)
	}
}

// TestSearchPaging pages through a search and checks the token's rules.
func TestSearchPaging(t *testing.T) {
	w := newDecisionWorld(t)
	body := resourceSearch(user(w.wild), permView, "svc/servers")
	full := resultIDs(w.search(t, "resource", w.admin, body, http.StatusOK))
	var paged []string
	body["page"] = map[string]any{"limit": 2}
	var first string
	for i := 0; ; i++ {
		got := w.search(t, "resource", w.admin, body, http.StatusOK)
		if len(got.Results) > 2 || got.Page.Count != len(got.Results) {
			t.Fatalf("page %d: %+v", i, got)
		}
		paged = append(paged, resultIDs(got)...)
		if got.Page.NextToken == "" {
			break
		}
		if i == 0 {
			first = got.Page.NextToken
		}
		body["page"] = map[string]any{"limit": 2, "token": got.Page.NextToken}
	}
	if !slices.Equal(paged, full) || len(full) < 3 {
		t.Fatalf("paged %v, whole %v", paged, full)
	}
	// The token belongs to its query: another limit, action or subject is refused, as is a forgery.
	for _, page := range []map[string]any{
		{"limit": 3, "token": first},                                // another limit
		{"limit": 2, "token": "eyJ2IjoxLCJxIjoiMDAwIiwiYSI6ImEifQ"}, // forged: {"v":1,"q":"000","a":"a"}
		{"limit": 2, "token": "%%%"},
		{"limit": 2, "token": strings.Repeat("A", 5000)},
		{"limit": 2, "token": 7},
	} {
		body["page"] = page
		resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/search/resource", w.admin, body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "page.token")
	}
	other := subjectSearch("user", permView, res(w.ws, "servers/1"))
	other["page"] = map[string]any{"limit": 2, "token": first}
	resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/search/subject", w.admin, other)
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "page.token")
	for _, limit := range []any{-1, 1001, 1.5, "2"} {
		body["page"] = map[string]any{"limit": limit}
		resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/search/resource", w.admin, body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "page.limit")
	}
	// Action search pages too.
	act := map[string]any{"subject": user(w.whole), "resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")},
		"page": map[string]any{"limit": 1}}
	got := w.search(t, "action", w.admin, act, http.StatusOK)
	if len(got.Results) != 1 || got.Page.NextToken == "" {
		t.Fatalf("action search page: %+v", got)
	}
}

// TestSearchAcrossWorkspaces checks that a caller of another workspace learns nothing: a
// subject search about a resource of this workspace is 403, a resource search covers the
// caller's own workspace only (where this workspace's users hold nothing).
func TestSearchAcrossWorkspaces(t *testing.T) {
	w := newDecisionWorld(t)
	resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/search/subject", w.otherTok, subjectSearch("user", permView, res(w.ws, "servers/1")))
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	if strings.Contains(string(raw), w.direct) {
		t.Fatalf("a refused search names a subject: %s", raw)
	}
	for _, subject := range []map[string]string{user(w.whole), user(w.wild), {"type": "api-client", "id": w.client}} {
		got := w.search(t, "resource", w.otherTok, resourceSearch(subject, permView, "svc/servers"), http.StatusOK)
		if len(got.Results) != 0 || len(got.Context.WildcardScopes) != 0 {
			t.Fatalf("another workspace's caller learns %+v", got)
		}
	}
	// Without the right to ask, a member of the workspace is refused too.
	noRole := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, ""))
	resp, raw = w.e.Do(t, http.MethodPost, "/access/v1/search/resource", noRole, resourceSearch(user(w.whole), permView, "svc/servers"))
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	// Bad requests name the member.
	for field, body := range map[string]map[string]any{
		"subject.type":  {"subject": map[string]string{"id": "x"}, "action": map[string]string{"name": permView}, "resource": map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")}},
		"resource.type": resourceSearch(user(w.whole), permView, "svc/servers/x"),
		"action":        {"subject": user(w.whole), "resource": map[string]string{"type": "svc/servers"}},
	} {
		kind := "resource"
		if field == "subject.type" {
			kind = "subject"
		}
		resp, raw := w.e.Do(t, http.MethodPost, "/access/v1/search/"+kind, w.admin, body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, field)
	}
}
