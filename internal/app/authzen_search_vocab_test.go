package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
)

// searchIDs runs a search at path and returns its results' ids, sorted, and their types.
func searchIDs(t *testing.T, w *decisionWorld, path string, body map[string]any) ([]string, []string, searchResult) {
	t.Helper()
	raw := w.call(t, http.MethodPost, path, w.admin, body, http.StatusOK)
	var out searchResult
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	var ids, types []string
	for _, r := range out.Results {
		ids, types = append(ids, r.ID), append(types, r.Type)
	}
	slices.Sort(ids)
	return ids, slices.Compact(types), out
}

// TestSearchVocabulary checks that the searches answer in the vocabulary they are asked in:
// bare resource types give the ids a PEP uses (the GRN encoding undone; a GRN where the
// resource is not a (type, id) one) and short action names, users
// are named by their external id when it names them alone; and that every answer reads
// back as an evaluation that allows it.
func TestSearchVocabulary(t *testing.T) {
	w := newDecisionWorld(t)
	odd := "disk/a b" // an id the GRN encoding escapes
	w.assign(t, w.admin, "user:"+w.wild, w.role, res(w.ws, "servers/"+grn.EscapeID(odd)))
	w.assign(t, w.admin, "user:"+w.direct, w.role, res(w.ws, "servers/1/nics/2"))
	pdp := "/authzen/workspaces/" + w.ws

	// Resource search, bare type: ids as the PEP knows them, on the root PDP and the workspace's.
	for _, path := range []string{"/access/v1/search/resource", pdp + "/access/v1/search/resource"} {
		ids, types, out := searchIDs(t, w, path, map[string]any{"subject": user(w.wild), "action": map[string]string{"name": "view"},
			"resource": map[string]string{"type": "servers"}})
		if want := []string{"1", "2", "3", "4", "5", odd}; !slices.Equal(ids, want) || !slices.Equal(types, []string{"servers"}) {
			t.Errorf("%s: ids %v types %v, want %v", path, ids, types, want)
		}
		if !slices.Equal(out.Context.WildcardScopes, []string{res(w.ws, "servers/*")}) {
			t.Errorf("%s: wildcard scopes %v", path, out.Context.WildcardScopes)
		}
		for _, id := range ids { // each reads back as an allowed evaluation
			raw := w.call(t, http.MethodPost, path[:len(path)-len("/search/resource")]+"/evaluation", w.admin, map[string]any{
				"subject": user(w.wild), "action": map[string]string{"name": "view"}, "resource": map[string]string{"type": "servers", "id": id}}, http.StatusOK)
			if object(t, raw)["decision"] != true {
				t.Errorf("%s: %s answered but denied", path, id)
			}
		}
	}
	// A resource nested under another is no (type, id) resource: its GRN is its id. (The role's
	// permissions apply to nics under their full names.)
	ids, _, _ := searchIDs(t, w, "/access/v1/search/resource", map[string]any{"subject": user(w.direct),
		"action": map[string]string{"name": permView}, "resource": map[string]string{"type": "nics"}})
	if !slices.Equal(ids, []string{res(w.ws, "servers/1/nics/2")}) {
		t.Errorf("nested: %v", ids)
	}
	// Asked with keyhold's type key, GRNs as before.
	ids, _, _ = searchIDs(t, w, "/access/v1/search/resource", resourceSearch(user(w.wild), permView, "svc/servers"))
	if len(ids) != 6 || !strings.HasPrefix(ids[0], "grn:") {
		t.Errorf("type key: %v", ids)
	}

	// Subject search with a (type, id) resource and a short action name finds what the GRN form
	// finds; the subject type is answered as asked.
	body := map[string]any{"subject": map[string]string{"type": "identity"}, "action": map[string]string{"name": "view"},
		"resource": map[string]string{"type": "servers", "id": "1"}}
	short, types, _ := searchIDs(t, w, pdp+"/access/v1/search/subject", body)
	long := resultIDs(w.search(t, "subject", w.admin, subjectSearch("user", permView, res(w.ws, "servers/1")), http.StatusOK))
	slices.Sort(long)
	if !slices.Equal(short, long) || !slices.Contains(short, w.direct) || !slices.Equal(types, []string{"identity"}) {
		t.Errorf("subject search: %v (%v), GRN form %v", short, types, long)
	}
	// A user with an external id is answered by it, unless another user of the workspace shares it.
	setExternalID(t, w.e, w.direct, "idp|direct")
	setExternalID(t, w.e, w.wild, "idp|shared")
	setExternalID(t, w.e, w.whole, "idp|shared")
	got, _, _ := searchIDs(t, w, pdp+"/access/v1/search/subject", body)
	if !slices.Contains(got, "idp|direct") || slices.Contains(got, w.direct) || !slices.Contains(got, w.wild) ||
		!slices.Contains(got, w.whole) || slices.Contains(got, "idp|shared") {
		t.Errorf("external ids: %v", got)
	}
	raw := w.call(t, http.MethodPost, pdp+"/access/v1/evaluation", w.admin, map[string]any{"subject": map[string]string{"type": "identity", "id": "idp|direct"},
		"action": map[string]string{"name": "view"}, "resource": map[string]string{"type": "servers", "id": "1"}}, http.StatusOK)
	if object(t, raw)["decision"] != true {
		t.Errorf("the answered external id does not decide: %s", raw)
	}

	// Action search: short names about a (type, id) resource, full names about a GRN.
	names := func(resource map[string]string) []string {
		r := w.search(t, "action", w.admin, map[string]any{"subject": user(w.whole), "resource": resource}, http.StatusOK)
		var out []string
		for _, x := range r.Results {
			out = append(out, x.Name)
		}
		return out
	}
	full := names(map[string]string{"type": "svc/servers", "id": res(w.ws, "servers/1")})
	var trimmed []string
	for _, n := range full {
		trimmed = append(trimmed, strings.TrimPrefix(n, "svc.servers."))
	}
	if got := names(map[string]string{"type": "servers", "id": "1"}); len(full) == 0 || !slices.Equal(got, trimmed) || slices.Equal(got, full) {
		t.Errorf("action names %v, full %v", got, full)
	}
	// keyhold's type key asks in keyhold's vocabulary: full names (as the CLI's can-i type:id).
	if got := names(map[string]string{"type": "svc/servers", "id": "1"}); !slices.Equal(got, full) {
		t.Errorf("action names with a type key %v, want %v", got, full)
	}
}

// TestWorkspaceSearchIsolation checks the searches of a workspace's PDP against callers of
// another workspace: refused, naming nothing; and that a page token does not move between
// PDPs.
func TestWorkspaceSearchIsolation(t *testing.T) {
	w := newDecisionWorld(t)
	pdp := "/authzen/workspaces/" + w.ws
	for kind, body := range map[string]map[string]any{
		"subject":  {"subject": map[string]string{"type": "user"}, "action": map[string]string{"name": "view"}, "resource": map[string]string{"type": "servers", "id": "1"}},
		"resource": {"subject": user(w.whole), "action": map[string]string{"name": "view"}, "resource": map[string]string{"type": "servers"}},
		"action":   {"subject": user(w.whole), "resource": map[string]string{"type": "servers", "id": "1"}},
	} {
		resp, raw := w.e.Do(t, http.MethodPost, pdp+"/access/v1/search/"+kind, w.otherTok, body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
		for _, secret := range []string{w.direct, w.whole, w.wild, "servers"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s search refused with %s: %s", kind, secret, raw)
			}
		}
	}
	// A GRN of this workspace at another workspace's PDP is refused too.
	resp, raw := w.e.Do(t, http.MethodPost, "/authzen/workspaces/"+w.other+"/access/v1/search/subject", w.admin,
		subjectSearch("user", permView, res(w.ws, "servers/1")))
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another PDP's GRN: %d %s", resp.StatusCode, raw)
	}
	// A token of the root PDP's search is not one of the workspace PDP's.
	body := map[string]any{"subject": user(w.wild), "action": map[string]string{"name": "view"},
		"resource": map[string]string{"type": "servers"}, "page": map[string]any{"limit": 1}}
	first := w.search(t, "resource", w.admin, body, http.StatusOK)
	if first.Page.NextToken == "" {
		t.Fatalf("no second page: %+v", first)
	}
	body["page"] = map[string]any{"limit": 1, "token": first.Page.NextToken}
	resp, raw = w.e.Do(t, http.MethodPost, pdp+"/access/v1/search/resource", w.admin, body)
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "page.token")
	// Unknown members are ignored in searches, at every level.
	body = map[string]any{"subject": map[string]any{"type": "user", "id": w.wild, "x": 1}, "action": map[string]any{"name": "view", "y": []int{}},
		"resource": map[string]any{"type": "servers", "z": nil}, "page": map[string]any{"limit": 1, "w": true}, "extra": "ignored"}
	if got := w.search(t, "resource", w.admin, body, http.StatusOK); len(got.Results) != 1 {
		t.Errorf("unknown members: %+v", got)
	}
}
