package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/rbac"
)

// TestConditionalAssignmentAPI checks conditions through the role-assignment API: a bad
// condition is a 400 on the field condition naming the position (syntax, names, types,
// non-boolean, cost, size), nothing is stored; a good one reads back; an update must repeat
// it; an unconditional assignment keeps GreenLake's shape (no condition member).
func TestConditionalAssignmentAPI(t *testing.T) {
	w := newInteropWorld(t)
	user := w.member(t, w.admin, "cond-api@example.test")
	role := w.customRole(t, w.admin, "cond api", "todo.todo.can_update_todo")
	bad := []struct{ cond, want string }{
		{`resource.properties.ownerID ==`, "line 1, column 31"},
		{`owner == "x"`, "line 1, column 1: undeclared reference to 'owner'"},
		{`1 + "a" == "x"`, "line 1, column 3"},
		{`resource.id + "x"`, "boolean"},
		{`context.a.all(x, context.b.all(y, context.c.all(z, x + y + z == "")))`, "limit"},
		{strings.Repeat("true && ", 300) + "true", "at most"},
		{``, "must not be empty"},
	}
	for _, c := range bad {
		for _, base := range []string{assignmentsV2, assignmentsV1} {
			field := "subject"
			if base == assignmentsV1 {
				field = "principal"
			}
			resp, raw := w.e.Do(t, http.MethodPost, base, w.admin, map[string]any{field: "user:" + user, "role": role,
				"scope": []string{wsGRN(w.ws)}, "condition": c.cond})
			wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "condition")
			if !strings.Contains(string(raw), c.want) {
				t.Errorf("condition %q: %s does not say %q", c.cond, raw, c.want)
			}
		}
	}
	list := object(t, w.call(t, http.MethodGet, assignmentsV2+"?filter=subject%20in%20('user:"+user+"')", w.admin, nil, http.StatusOK))
	if list["count"] != float64(0) {
		t.Fatalf("refused conditions stored assignments: %v", list)
	}
	id := w.assignIf(t, w.admin, "user:"+user, role, ownerCondition, wsGRN(w.ws))
	got := object(t, w.call(t, http.MethodGet, assignmentsV1+"/"+id, w.admin, nil, http.StatusOK))
	if got["condition"] != ownerCondition {
		t.Fatalf("read back: %v", got)
	}
	// The same role and scope unconditionally is another assignment; it has no condition member.
	plain := object(t, w.call(t, http.MethodGet, assignmentsV2+"/"+w.assign(t, w.admin, "user:"+user, role, wsGRN(w.ws)), w.admin, nil, http.StatusOK))
	if _, ok := plain["condition"]; ok {
		t.Fatalf("an unconditional assignment shows a condition: %v", plain)
	}
	body := map[string]any{"id": id, "subject": "user:" + user, "role": role, "scope": []string{wsGRN(w.ws)}}
	resp, raw := w.e.Do(t, http.MethodPut, assignmentsV2+"/"+id, w.admin, body)
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "condition") // leaving it out would widen it
	body["condition"] = ownerCondition + " || true"
	resp, raw = w.e.Do(t, http.MethodPut, assignmentsV2+"/"+id, w.admin, body)
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "condition")
	body["condition"] = ownerCondition
	if up := object(t, w.call(t, http.MethodPut, assignmentsV2+"/"+id, w.admin, body, http.StatusOK)); up["condition"] != ownerCondition {
		t.Fatalf("update: %v", up)
	}
}

// TestConditionalAssignmentEscalation: a condition narrows, never widens. Creating a
// conditional assignment follows the rule of unconditional ones (an operator cannot give
// itself the administrator role under any condition), and a conditional assignment grants
// nothing on keyhold's own API, where no request carries what a condition reads: an operator
// holding the administrator role under a condition that always holds still cannot act as one.
func TestConditionalAssignmentEscalation(t *testing.T) {
	w := newIAMWorld(t)
	ws := wsGRN(w.ws)
	op := w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceOperator)
	opTok := w.e.TokenFor(t, op)
	resp, raw := w.e.Do(t, http.MethodPost, assignmentsV2, opTok, map[string]any{"subject": "user:" + op.UserID,
		"role": predefined(rbac.RoleWorkspaceAdmin), "scope": []string{ws}, "condition": `false`})
	wantDenied(t, resp, raw, ".delete", ws)
	w.assignIf(t, w.admin, "user:"+op.UserID, predefined(rbac.RoleWorkspaceAdmin), `true`, ws)
	resp, raw = w.e.Do(t, http.MethodPost, "/authorization/v2alpha2/resource-providers", opTok, map[string]any{"id": "evil", "name": "Evil"})
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	resp, raw = w.e.Do(t, http.MethodPost, assignmentsV2, opTok, map[string]any{"subject": "user:" + op.UserID,
		"role": predefined(rbac.RoleWorkspaceAdmin), "scope": []string{ws}})
	wantDenied(t, resp, raw, ".delete", ws)
}

// TestConditionExplained checks the explanations of decisions through conditional
// assignments: the condition that held, or each one that did not and why (a property the
// request does not carry fails closed).
func TestConditionExplained(t *testing.T) {
	w := newInteropWorld(t)
	morty := interopUsers[1]
	ask := func(owner any) map[string]any {
		res := map[string]any{"type": "todo", "id": "t1"}
		if owner != nil {
			res["properties"] = map[string]any{"ownerID": owner}
		}
		body := map[string]any{"subject": map[string]any{"type": "user", "id": morty.sub},
			"action": map[string]any{"name": "can_update_todo"}, "resource": res}
		return object(t, w.callExplained(t, http.MethodPost, w.pdp+"/access/v1/evaluation", w.admin, body, http.StatusOK))
	}
	held := ask(morty.email)
	reason := held["context"].(map[string]any)["reason"].(map[string]any)
	if held["decision"] != true || reason["condition"].(map[string]any)["expression"] != ownerCondition ||
		reason["condition"].(map[string]any)["held"] != true {
		t.Fatalf("owner: %v", held)
	}
	for _, c := range []struct {
		owner any
		err   string
	}{{"rick@the-citadel.com", ""}, {nil, "no such key"}, {42.0, ""}} {
		d := ask(c.owner)
		reason := d["context"].(map[string]any)["reason"].(map[string]any)
		conds, _ := reason["conditions"].([]any)
		if d["decision"] != false || reason["code"] != string(rbac.DenyConditionNotMet) || len(conds) != 1 {
			t.Fatalf("owner %v: %v", c.owner, d)
		}
		cond := conds[0].(map[string]any)
		if cond["expression"] != ownerCondition || cond["held"] != false || cond["assignmentId"] == "" {
			t.Fatalf("owner %v: %v", c.owner, cond)
		}
		if msg, _ := cond["error"].(string); (c.err == "") != (msg == "") || !strings.Contains(msg, c.err) {
			t.Fatalf("owner %v: error %q, want %q", c.owner, msg, c.err)
		}
	}
}

// TestConditionalAssignmentCrossWorkspace: another workspace's administrator neither reads
// nor changes a conditional assignment (404, nothing learned), cannot make one for a user of
// this workspace, and its own conditional assignments count for nothing here.
func TestConditionalAssignmentCrossWorkspace(t *testing.T) {
	w := newInteropWorld(t)
	morty := interopUsers[1]
	list := object(t, w.call(t, http.MethodGet, assignmentsV2, w.admin, nil, http.StatusOK))
	var id, subject, role string
	for _, it := range list["items"].([]any) {
		a := it.(map[string]any)
		if a["condition"] == ownerCondition {
			id, subject, role = a["id"].(string), a["subject"].(string), a["role"].(string)
		}
	}
	if id == "" {
		t.Fatalf("no conditional assignment listed: %v", list)
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		resp, raw := w.e.Do(t, m, assignmentsV2+"/"+id, w.otherTok, nil)
		wantIAMError(t, resp.StatusCode, raw, http.StatusNotFound, "")
		if strings.Contains(string(raw), "ownerID") {
			t.Fatalf("%s leaks the condition: %s", m, raw)
		}
	}
	resp, raw := w.e.Do(t, http.MethodPut, assignmentsV2+"/"+id, w.otherTok, map[string]any{"id": id, "subject": subject,
		"role": role, "scope": []string{wsGRN(w.ws)}, "condition": ownerCondition})
	wantIAMError(t, resp.StatusCode, raw, http.StatusNotFound, "")
	resp, raw = w.e.Do(t, http.MethodPost, assignmentsV2, w.otherTok, map[string]any{"subject": subject,
		"role": predefined(rbac.RoleWorkspaceAdmin), "scope": []string{wsGRN(w.other)}, "condition": `true`})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "subject")
	// Asking this workspace's PDP with the other workspace's token: 403, no decision.
	body := map[string]any{"subject": map[string]any{"type": "user", "id": morty.sub},
		"action":   map[string]any{"name": "can_update_todo"},
		"resource": map[string]any{"type": "todo", "id": "t1", "properties": map[string]any{"ownerID": morty.email}}}
	resp, raw = w.e.Do(t, http.MethodPost, w.pdp+"/access/v1/evaluation", w.otherTok, body)
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
}

// TestUserAttributes checks PUT/GET /identity/v1/users/{id}/attributes and a condition that
// reads them: bad bodies are 400s naming the member, a user of another workspace is not
// found, a user shared with another workspace cannot be given attributes (409), and a
// decision sees a change at once.
func TestUserAttributes(t *testing.T) {
	w := newInteropWorld(t)
	path := func(id string) string { return "/identity/v1/users/" + id + "/attributes" }
	ann := w.member(t, w.admin, "ann@example.test")
	if got := object(t, w.call(t, http.MethodGet, path(ann), w.admin, nil, http.StatusOK)); len(got) != 0 {
		t.Fatalf("a new user's attributes: %v", got)
	}
	for _, c := range []struct {
		body  any
		field string
	}{{[]any{1}, "attributes"}, {map[string]any{"email": "x@y"}, "attributes.email"},
		{map[string]any{"": 1}, "attributes"}, {map[string]any{"big": strings.Repeat("x", 17000)}, "attributes"}} {
		resp, raw := w.e.Do(t, http.MethodPut, path(ann), w.admin, c.body)
		if resp.StatusCode == http.StatusRequestEntityTooLarge {
			continue
		}
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, c.field)
	}
	got := object(t, w.call(t, http.MethodPut, path(ann), w.admin, map[string]any{"department": "R&D", "level": 3}, http.StatusOK))
	if got["department"] != "R&D" || got["level"] != float64(3) {
		t.Fatalf("PUT answered %v", got)
	}
	if got := object(t, w.call(t, http.MethodGet, path(ann), w.admin, nil, http.StatusOK)); got["department"] != "R&D" {
		t.Fatalf("GET answered %v", got)
	}
	// Another workspace's administrator neither reads nor writes them.
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		resp, raw := w.e.Do(t, m, path(ann), w.otherTok, map[string]any{"department": "X"})
		wantIAMError(t, resp.StatusCode, raw, http.StatusNotFound, "")
		if strings.Contains(string(raw), "R&D") {
			t.Fatalf("leak: %s", raw)
		}
	}
	// A user of both workspaces shares its attributes: neither may set them.
	w.call(t, http.MethodPost, "/identity/v1/users", w.otherTok, map[string]any{"email": "ann@example.test"}, http.StatusCreated)
	resp, raw := w.e.Do(t, http.MethodPut, path(ann), w.admin, map[string]any{"department": "Sales"})
	wantIAMError(t, resp.StatusCode, raw, http.StatusConflict, "")

	// A condition over a free attribute, evaluated at once after a change.
	bob := w.member(t, w.admin, "bob@example.test")
	role := w.customRole(t, w.admin, "rd reader", "todo.todo.can_read_todos")
	w.assignIf(t, w.admin, "user:"+bob, role, `subject.attributes.department == "R&D"`, wsGRN(w.ws))
	decide := func() any {
		body := map[string]any{"subject": map[string]any{"type": "user", "id": "bob@example.test"},
			"action": map[string]any{"name": "can_read_todos"}, "resource": map[string]any{"type": "todo", "id": "1"}}
		return object(t, w.call(t, http.MethodPost, w.pdp+"/access/v1/evaluation", w.admin, body, http.StatusOK))["decision"]
	}
	if decide() != false {
		t.Fatal("allowed before bob has the attribute")
	}
	w.call(t, http.MethodPut, path(bob), w.admin, map[string]any{"department": "R&D"}, http.StatusOK)
	if decide() != true {
		t.Fatal("denied after bob got the attribute")
	}
	w.call(t, http.MethodPut, path(bob), w.admin, map[string]any{"department": "Sales"}, http.StatusOK)
	if decide() != false {
		t.Fatal("allowed after bob's attribute changed")
	}
}

// TestSearchWithConditions: searches evaluate conditions with what the request carries, and
// report as conditional what a condition would decide on a property the request lacks.
func TestSearchWithConditions(t *testing.T) {
	w := newInteropWorld(t)
	ids := map[string]string{}
	users := object(t, w.call(t, http.MethodGet, "/identity/v1/users", w.admin, nil, http.StatusOK))
	for _, it := range users["items"].([]any) {
		u := it.(map[string]any)
		ids[u["id"].(string)] = u["username"].(string)
	}
	for _, u := range interopUsers { // subject search names users by their external id
		ids[u.sub] = u.email
	}
	todo := wsGRN(w.ws) + "/regions/default/providers/todo/todo/t1"
	search := func(res map[string]any) (allowed, conditional []string) {
		body := map[string]any{"subject": map[string]any{"type": "user"}, "action": map[string]any{"name": "todo.todo.can_update_todo"},
			"resource": res}
		out := object(t, w.call(t, http.MethodPost, "/access/v1/search/subject", w.admin, body, http.StatusOK))
		for _, it := range out["results"].([]any) {
			r := it.(map[string]any)
			if p, ok := r["properties"].(map[string]any); ok && p["conditional"] == true {
				conditional = append(conditional, ids[r["id"].(string)])
			} else {
				allowed = append(allowed, ids[r["id"].(string)])
			}
		}
		return allowed, conditional
	}
	allowed, conditional := search(map[string]any{"type": "todo", "id": todo,
		"properties": map[string]any{"ownerID": "summer@the-smiths.com"}})
	if strings.Join(allowed, ",") != "rick@the-citadel.com,summer@the-smiths.com" && strings.Join(allowed, ",") != "summer@the-smiths.com,rick@the-citadel.com" || len(conditional) != 0 {
		t.Fatalf("with the owner: allowed %v, conditional %v", allowed, conditional)
	}
	allowed, conditional = search(map[string]any{"type": "todo", "id": todo})
	if len(allowed) != 1 || allowed[0] != "rick@the-citadel.com" || len(conditional) != 2 {
		t.Fatalf("without the owner: allowed %v, conditional %v", allowed, conditional)
	}
	resources := func(sub string) map[string]any {
		body := map[string]any{"subject": map[string]any{"type": "user", "id": sub},
			"action": map[string]any{"name": "todo.todo.can_update_todo"}, "resource": map[string]any{"type": "todo/todo"}}
		return object(t, w.call(t, http.MethodPost, "/access/v1/search/resource", w.admin, body, http.StatusOK))
	}
	rick, morty, beth := resources("rick@the-citadel.com"), resources("morty@the-citadel.com"), resources("beth@the-smiths.com")
	ctx := func(m map[string]any) map[string]any { c, _ := m["context"].(map[string]any); return c }
	if ctx(rick)["wildcard_scopes"] == nil || ctx(rick)["conditional_wildcard_scopes"] != nil {
		t.Fatalf("rick: %v", rick)
	}
	if ctx(morty)["wildcard_scopes"] != nil || ctx(morty)["conditional_wildcard_scopes"] == nil {
		t.Fatalf("morty: %v", morty)
	}
	if ctx(beth) != nil {
		t.Fatalf("beth: %v", beth)
	}
	testActionSearchWithConditions(t, w, todo)
}

// testActionSearchWithConditions: action search lists what an owner condition allows with the
// todo's owner, leaves it out for another owner, and without the owner reports it as
// conditional (explained with the condition); asked in the PEP's vocabulary, the names are
// short ones.
func testActionSearchWithConditions(t *testing.T, w *interopWorld, todo string) {
	actions := func(path string, res map[string]any, explain bool) (allowed, conditional []string, raw []any) {
		body := map[string]any{"subject": map[string]any{"type": "user", "id": "morty@the-citadel.com"}, "resource": res}
		h := http.Header{}
		if explain {
			h.Set("Keyhold-Explain", "true")
		}
		resp, out := w.e.DoWith(t, http.MethodPost, path, w.admin, body, h)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("action search: %d %s", resp.StatusCode, out)
		}
		raw = object(t, out)["results"].([]any)
		for _, it := range raw {
			r := it.(map[string]any)
			if p, ok := r["properties"].(map[string]any); ok && p["conditional"] == true {
				if c, _ := p["conditions"].([]any); len(c) != 1 || c[0] != ownerCondition {
					t.Fatalf("conditional result %v", r)
				}
				conditional = append(conditional, r["name"].(string))
			} else {
				allowed = append(allowed, r["name"].(string))
			}
		}
		return allowed, conditional, raw
	}
	const update, del = "todo.todo.can_update_todo", "todo.todo.can_delete_todo"
	a, c, _ := actions("/access/v1/search/action", map[string]any{"type": "todo", "id": todo,
		"properties": map[string]any{"ownerID": "morty@the-citadel.com"}}, false)
	if !slices.Contains(a, update) || !slices.Contains(a, del) || !slices.Contains(a, "todo.todo.can_read_todos") || c != nil {
		t.Fatalf("morty's own todo: allowed %v, conditional %v", a, c)
	}
	a, c, _ = actions("/access/v1/search/action", map[string]any{"type": "todo", "id": todo,
		"properties": map[string]any{"ownerID": "rick@the-citadel.com"}}, false)
	if slices.Contains(a, update) || slices.Contains(a, del) || !slices.Contains(a, "todo.todo.can_read_todos") || c != nil {
		t.Fatalf("rick's todo: allowed %v, conditional %v", a, c)
	}
	a, c, raw := actions(w.pdp+"/access/v1/search/action", map[string]any{"type": "todo", "id": "t1"}, true)
	if slices.Contains(a, "can_update_todo") || !slices.Contains(a, "can_read_todos") || !slices.Equal(c, []string{"can_delete_todo", "can_update_todo"}) {
		t.Fatalf("no owner: allowed %v, conditional %v", a, c)
	}
	for _, it := range raw {
		r := it.(map[string]any)
		if r["name"] != "can_update_todo" {
			continue
		}
		p := r["properties"].(map[string]any)
		reason, _ := p["reason"].(map[string]any)
		if p["permission"] != update || reason["code"] != "condition_not_met" || reason["conditions"] == nil {
			t.Fatalf("explained conditional result %v", r)
		}
	}
}
