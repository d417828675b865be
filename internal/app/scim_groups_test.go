package app_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

// TestSCIMGroups is RFC 7644 behaviour of SCIM groups: create, filters, paging, PATCH of
// members and attributes, ETags and If-Match, errors, and that they are keyhold's user
// groups (the v1 endpoint and role assignments see them).
func TestSCIMGroups(t *testing.T) {
	w := newSCIMWorld(t)
	e := w.e
	alice := e.UserWithRole(t, w.ws, "")
	bob := e.UserWithRole(t, w.ws, "")
	carol := e.UserWithRole(t, w.ws, "")
	stranger := e.UserWithRole(t, w.other, "")

	g := w.call(t, "POST", scimGroups, w.admin, newGroup("Engineering", alice.UserID), http.StatusCreated)
	gid := g["id"].(string)
	if g["displayName"] != "Engineering" || g["meta"].(map[string]any)["version"] != `W/"1"` ||
		g[groupExt].(map[string]any)["hpe_principal"] != "user-group:"+gid || g[groupExt].(map[string]any)["source"] != "SCIM" {
		t.Fatalf("created %v", g)
	}
	w.call(t, "POST", scimGroups, w.admin, newGroup("Sales"), http.StatusCreated)
	w.call(t, "POST", scimGroups, w.admin, newGroup("Sales Ops"), http.StatusCreated)
	w.scimErr(t, "POST", scimGroups, w.admin, newGroup("Engineering"), http.StatusConflict, "uniqueness")
	w.scimErr(t, "POST", scimGroups, w.admin, newGroup("Strangers", stranger.UserID), http.StatusBadRequest, "invalidValue")
	w.scimErr(t, "POST", scimGroups, w.admin, map[string]any{"schemas": []string{groupURN}}, http.StatusBadRequest, "invalidValue")
	w.scimErr(t, "POST", scimGroups, w.admin, `{"schemas": [`, http.StatusBadRequest, "invalidSyntax")

	// The same group through keyhold's own endpoint.
	v1 := object(t, w.plain(t, "GET", "/identity/v1/user-groups/"+gid, w.admin, nil, http.StatusOK))
	if v1["name"] != "Engineering" {
		t.Fatalf("v1 view %v", v1)
	}

	// Filters (RFC 7644 §3.4.2.2) and paging (§3.4.2.4).
	for f, want := range map[string][]string{
		`displayName eq "engineering"`: {"Engineering"},
		`displayName sw "Sales"`:       {"Sales", "Sales Ops"},
		`displayName co "OP"`:          {"Sales Ops"},
		`urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Group:source eq "SCIM"`: {"Engineering", "Sales", "Sales Ops"},
		`members[value eq "` + alice.UserID + `"]`:                                         {"Engineering"},
		`id eq "` + ids.Hex(gid) + `" and members[value eq "` + bob.UserID + `"]`:          nil,
		`not (displayName sw "Sales")`:                                                     {"Engineering"},
	} {
		m := w.call(t, "GET", scimGroups+filterQ(f), w.admin, nil, http.StatusOK)
		var names []string
		for _, r := range m["Resources"].([]any) {
			names = append(names, r.(map[string]any)["displayName"].(string))
		}
		if !slices.Equal(names, want) || int(m["totalResults"].(float64)) != len(want) {
			t.Errorf("filter %s: %v (total %v), want %v", f, names, m["totalResults"], want)
		}
	}
	page := w.call(t, "GET", scimGroups+"?startIndex=2&count=1", w.admin, nil, http.StatusOK)
	if page["totalResults"] != 3.0 || page["startIndex"] != 2.0 || page["itemsPerPage"] != 1.0 ||
		page["Resources"].([]any)[0].(map[string]any)["displayName"] != "Sales" {
		t.Fatalf("page %v", page)
	}
	if m := w.call(t, "GET", scimGroups+"?count=0", w.admin, nil, http.StatusOK); m["totalResults"] != 3.0 || len(m["Resources"].([]any)) != 0 {
		t.Fatalf("count=0: %v", m)
	}
	if m := w.call(t, "GET", scimGroups+"?startIndex=-4&count=9999", w.admin, nil, http.StatusOK); m["startIndex"] != 1.0 || m["itemsPerPage"] != 3.0 {
		t.Fatalf("out of range paging: %v", m)
	}
	w.scimErr(t, "GET", scimGroups+filterQ(`displayName eq`), w.admin, nil, http.StatusBadRequest, "invalidFilter")
	w.scimErr(t, "GET", scimGroups+filterQ(`title eq "x"`), w.admin, nil, http.StatusBadRequest, "invalidFilter")
	w.scimErr(t, "GET", scimGroups+"?count=x", w.admin, nil, http.StatusBadRequest, "invalidValue")

	// PATCH: add (idempotent), remove by value and by filter, replace, rename, description.
	one := scimGroups + "/" + gid
	w.call(t, "PATCH", one, w.admin, patch(op("add", "members", refs(bob.UserID, alice.UserID))), http.StatusOK)
	w.call(t, "PATCH", one, w.admin, patch(op("Add", "members", refs(bob.UserID))), http.StatusOK)
	members := func() []string {
		m := w.call(t, "GET", scimBase+"/extensions/Groups/"+gid+"/users", w.admin, nil, http.StatusOK)
		got := resources(t, m)
		slices.Sort(got)
		return got
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	if got := members(); !slices.Equal(got, sorted(alice.UserID, bob.UserID)) {
		t.Fatalf("members after add: %v", got)
	}
	w.call(t, "PATCH", one, w.admin, patch(op("remove", `members[value eq "`+alice.UserID+`"]`, nil)), http.StatusOK)
	w.call(t, "PATCH", one, w.admin, patch(op("remove", "members", refs(carol.UserID))), http.StatusOK) // not a member: no change
	if got := members(); !slices.Equal(got, []string{bob.UserID}) {
		t.Fatalf("members after remove: %v", got)
	}
	w.call(t, "PATCH", one, w.admin, patch(op("replace", "members", refs(carol.UserID, alice.UserID))), http.StatusOK)
	if got := members(); !slices.Equal(got, sorted(alice.UserID, carol.UserID)) {
		t.Fatalf("members after replace: %v", got)
	}
	// Atomic: the second operation fails, so the first leaves no trace.
	w.scimErr(t, "PATCH", one, w.admin, patch(op("remove", "members", nil), op("add", "members", refs(stranger.UserID))),
		http.StatusBadRequest, "invalidValue")
	if got := members(); !slices.Equal(got, sorted(alice.UserID, carol.UserID)) {
		t.Fatalf("members after a failed PATCH: %v", got)
	}
	if groups := resources(t, w.call(t, "GET", scimBase+"/extensions/Users/"+carol.UserID+"/groups", w.admin, nil, http.StatusOK)); !slices.Equal(groups, []string{gid}) {
		t.Fatalf("groups of carol: %v", groups)
	}

	// ETags: the version moves with every change; If-Match must name the current one.
	resp, _ := w.do(t, "GET", one, w.admin, nil)
	tag := resp.Header.Get("ETag")
	renamed := w.call(t, "PATCH", one, w.admin, patch(op("replace", "displayName", "Eng"),
		op("replace", groupExt+":groupDescription", "Builders")), http.StatusOK, "If-Match", tag)
	if renamed["displayName"] != "Eng" || renamed[groupExt].(map[string]any)["groupDescription"] != "Builders" ||
		renamed["meta"].(map[string]any)["version"] == tag {
		t.Fatalf("renamed %v (old tag %s)", renamed, tag)
	}
	w.scimErr(t, "PATCH", one, w.admin, patch(op("replace", "displayName", "Stale")), http.StatusPreconditionFailed, "", "If-Match", tag)
	w.call(t, "PATCH", one, w.admin, patch(op("replace", "", map[string]any{"displayName": "Engineering", "externalId": "okta-1"})), http.StatusOK,
		"If-Match", "*")
	if m := w.call(t, "GET", scimGroups+filterQ(`externalId eq "okta-1"`), w.admin, nil, http.StatusOK); len(resources(t, m)) != 1 {
		t.Fatalf("externalId filter: %v", m)
	}
	w.scimErr(t, "PATCH", one, w.admin, patch(op("replace", "id", "x")), http.StatusBadRequest, "mutability")
	w.scimErr(t, "PATCH", one, w.admin, patch(op("remove", "", nil)), http.StatusBadRequest, "noTarget")
	w.scimErr(t, "PATCH", one, w.admin, patch(op("replace", "members[value eq", nil)), http.StatusBadRequest, "invalidPath")
	w.scimErr(t, "PATCH", one, w.admin, patch(op("move", "displayName", "x")), http.StatusBadRequest, "invalidValue")
	w.scimErr(t, "PATCH", one, w.admin, map[string]any{"Operations": []any{}}, http.StatusBadRequest, "invalidValue")

	// A SCIM group is a role-assignment subject: its members get what it is granted.
	tok := e.TokenFor(t, carol)
	w.scimErr(t, "GET", scimGroups, tok, nil, http.StatusForbidden, "")
	object(t, w.plain(t, "POST", "/authorization/v2alpha2/role-assignments", w.admin, map[string]any{
		"subject": "user-group:" + gid, "role": predefined(rbac.RoleWorkspaceObserver), "scope": []string{wsGRN(w.ws)}}, http.StatusCreated))
	w.call(t, "GET", scimGroups, tok, nil, http.StatusOK)
	// Deleting the group takes its assignment with it.
	w.call(t, "DELETE", one, w.admin, nil, http.StatusNoContent)
	w.scimErr(t, "GET", scimGroups, tok, nil, http.StatusForbidden, "")
	w.scimErr(t, "GET", one, w.admin, nil, http.StatusNotFound, "")
	w.scimErr(t, "DELETE", one, w.admin, nil, http.StatusNotFound, "")
	w.scimErr(t, "GET", scimGroups+"/not-a-uuid", w.admin, nil, http.StatusNotFound, "")
	w.scimErr(t, "GET", scimBase+"/Nope", w.admin, nil, http.StatusNotFound, "")
}

// TestSCIMGroupsCrossWorkspace: a workspace's SCIM sees and changes only its own groups and
// members, and learns nothing of another's.
func TestSCIMGroupsCrossWorkspace(t *testing.T) {
	w := newSCIMWorld(t)
	mine := w.e.UserWithRole(t, w.ws, "")
	theirs := w.e.UserWithRole(t, w.other, "")
	g := w.call(t, "POST", scimGroups, w.admin, newGroup("Mine", mine.UserID), http.StatusCreated)["id"].(string)
	og := w.call(t, "POST", scimGroups, w.otherAdmin, newGroup("Mine", theirs.UserID), http.StatusCreated)["id"].(string)
	if ids := resources(t, w.call(t, "GET", scimGroups, w.otherAdmin, nil, http.StatusOK)); !slices.Equal(ids, []string{og}) {
		t.Fatalf("the other workspace lists %v", ids)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", scimGroups + "/" + g}, {"DELETE", scimGroups + "/" + g},
		{"GET", scimBase + "/extensions/Groups/" + g + "/users"},
		{"GET", scimBase + "/extensions/Users/" + mine.UserID + "/groups"},
	} {
		w.scimErr(t, c.method, c.path, w.otherAdmin, nil, http.StatusNotFound, "")
	}
	w.scimErr(t, "PATCH", scimGroups+"/"+g, w.otherAdmin, patch(op("add", "members", refs(theirs.UserID))), http.StatusNotFound, "")
	// Members of another workspace cannot be added, nor probed by filter.
	w.scimErr(t, "PATCH", scimGroups+"/"+og, w.otherAdmin, patch(op("add", "members", refs(mine.UserID))), http.StatusBadRequest, "invalidValue")
	if ids := resources(t, w.call(t, "GET", scimGroups+filterQ(`members[value eq "`+mine.UserID+`"]`), w.otherAdmin, nil, http.StatusOK)); len(ids) != 0 {
		t.Fatalf("filter across workspaces: %v", ids)
	}
	w.call(t, "GET", scimGroups+"/"+g, w.admin, nil, http.StatusOK)
	w.scimErr(t, "GET", scimGroups, "", nil, http.StatusUnauthorized, "")
}
