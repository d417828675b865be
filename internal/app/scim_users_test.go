package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
)

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// newUser is a SCIM user create as identity providers send it.
func newUser(email, given, family string, active bool) map[string]any {
	return map[string]any{
		"schemas":  []string{userURN, userExt},
		"userName": email,
		"name":     map[string]any{"givenName": given, "familyName": family},
		"emails":   []map[string]any{{"value": email, "primary": true, "type": "work"}},
		"active":   active,
		userExt:    map[string]any{"countryCode": "US"},
	}
}

func userNames(m map[string]any) []string {
	var out []string
	for _, r := range m["Resources"].([]any) {
		out = append(out, r.(map[string]any)["userName"].(string))
	}
	return out
}

// TestSCIMUsers is RFC 7643/7644 behaviour of SCIM users: create, read, filters, paging and
// sorting, PATCH in its forms (path, value path, no path, extensions), ETags and If-Match,
// and the error format with its scimType.
func TestSCIMUsers(t *testing.T) { testSCIMUsers(t, newSCIMWorld(t)) }

// TestSCIMUsersPostgres runs the same on PostgreSQL (filters, sorting and paging compile to
// its SQL too) with the provisioning scenario.
func TestSCIMUsersPostgres(t *testing.T) {
	cfg := app.Config{Database: pgtest.Database(t)}
	t.Run("conformance", func(t *testing.T) { testSCIMUsers(t, newSCIMWorldWith(t, cfg)) })
	cfg = app.Config{Database: pgtest.Database(t)}
	t.Run("provisioning", func(t *testing.T) { testSCIMProvisioning(t, newSCIMWorldWith(t, cfg)) })
}

func testSCIMUsers(t *testing.T, w *scimWorld) {
	ada := w.call(t, "POST", scimUsers, w.admin, newUser("Ada@Example.test", "Ada", "Lovelace", true), http.StatusCreated)
	id := ada["id"].(string)
	ext := ada[userExt].(map[string]any)
	if ada["userName"] != "ada@example.test" || ada["active"] != true || ada["displayName"] != "ada@example.test" ||
		ada["name"].(map[string]any)["givenName"] != "Ada" || ext["source"] != "SCIM" || ext["sourceInstance"] != w.ws ||
		ext["countryCode"] != "US" || ext["hpe_principal"] != "user:"+id || ada["meta"].(map[string]any)["version"] != `W/"1"` {
		t.Fatalf("created %v", ada)
	}
	resp, _ := w.do(t, "GET", scimUsers+"/"+id, w.admin, nil)
	if resp.Header.Get("ETag") != `W/"1"` {
		t.Fatalf("ETag %q", resp.Header.Get("ETag"))
	}
	// The document's default for active is false: a user created without it is staged.
	staged := w.call(t, "POST", scimUsers, w.admin, map[string]any{"schemas": []string{userURN},
		"userName": "grace@example.test", "displayName": "Grace Hopper", "externalId": "okta-grace"}, http.StatusCreated)
	if staged["active"] != false || staged[userExt].(map[string]any)["status"] != "STAGED" {
		t.Fatalf("staged %v", staged)
	}
	w.call(t, "POST", scimUsers, w.admin, newUser("alan@example.test", "Alan", "Turing", true), http.StatusCreated)

	// Errors: uniqueness, missing and bad values, a body that is not JSON, schemas.
	w.scimErr(t, "POST", scimUsers, w.admin, newUser("ada@example.test", "A", "L", true), http.StatusConflict, "uniqueness")
	w.scimErr(t, "POST", scimUsers, w.admin, map[string]any{"schemas": []string{userURN}}, http.StatusBadRequest, "invalidValue")
	w.scimErr(t, "POST", scimUsers, w.admin, newUser("not an email", "A", "B", true), http.StatusBadRequest, "invalidValue")
	w.scimErr(t, "POST", scimUsers, w.admin, `{"schemas": [`, http.StatusBadRequest, "invalidSyntax")
	w.scimErr(t, "POST", scimUsers, w.admin, map[string]any{"userName": "x@example.test"}, http.StatusBadRequest, "invalidValue")
	w.scimErr(t, "POST", scimUsers, w.admin, map[string]any{"schemas": []string{groupURN}, "userName": "x@example.test"}, http.StatusBadRequest, "invalidValue")
	bad := newUser("mismatch@example.test", "A", "B", true)
	bad["emails"] = []map[string]any{{"value": "other@example.test", "primary": true}}
	w.scimErr(t, "POST", scimUsers, w.admin, bad, http.StatusBadRequest, "invalidValue")
	bad = newUser("country@example.test", "A", "B", true)
	bad[userExt] = map[string]any{"countryCode": "usa"}
	w.scimErr(t, "POST", scimUsers, w.admin, bad, http.StatusBadRequest, "invalidValue")
	bad = newUser("posix@example.test", "A", "B", true)
	bad["urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:posix:User"] = map[string]any{"uid": 1001}
	w.scimErr(t, "POST", scimUsers, w.admin, bad, http.StatusBadRequest, "invalidValue")
	long := newUser("long@example.test", string(make([]byte, 51)), "B", true)
	w.scimErr(t, "POST", scimUsers, w.admin, long, http.StatusBadRequest, "invalidValue")
	if m := w.call(t, "GET", scimUsers+filterQ(`userName sw "mismatch" or userName sw "country" or userName sw "posix"`), w.admin, nil, http.StatusOK); m["totalResults"] != 0.0 {
		t.Fatalf("refused creates left users: %v", m)
	}

	// Filters: the document's (userName, displayName with eq, sw, co) and identity providers'.
	for f, want := range map[string][]string{
		`userName eq "ADA@example.test"`:                          {"ada@example.test"},
		`userName sw "a"`:                                         {"admin@localhost", "ada@example.test", "alan@example.test"},
		`displayName co "hopper"`:                                 {"grace@example.test"},
		`displayName sw "sample" or userName sw "grace"`:          {"grace@example.test"},
		`externalId eq "okta-grace"`:                              {"grace@example.test"},
		`emails[type eq "work" and value eq "alan@example.test"]`: {"alan@example.test"},
		`emails.value co "lan@"`:                                  {"alan@example.test"},
		`name.familyName eq "lovelace" and active eq true`:        {"ada@example.test"},
		`active eq false`:                                         {"grace@example.test"},
		`id eq "` + ids.Hex(id) + `"`:                             {"ada@example.test"},
		`not (userName ew "example.test")`:                        {"admin@localhost"},
	} {
		m := w.call(t, "GET", scimUsers+filterQ(f), w.admin, nil, http.StatusOK)
		got := userNames(m)
		if !slices.Equal(got, want) || int(m["totalResults"].(float64)) != len(want) {
			t.Errorf("filter %s: %v (total %v), want %v", f, got, m["totalResults"], want)
		}
	}
	w.scimErr(t, "GET", scimUsers+filterQ(`userName eq`), w.admin, nil, http.StatusBadRequest, "invalidFilter")
	w.scimErr(t, "GET", scimUsers+filterQ(`password eq "x"`), w.admin, nil, http.StatusBadRequest, "invalidFilter")
	w.scimErr(t, "GET", scimUsers+filterQ(`active co "t"`), w.admin, nil, http.StatusBadRequest, "invalidFilter")
	w.scimErr(t, "GET", scimUsers+"?sortBy=userName", w.admin, nil, http.StatusBadRequest, "invalidValue")
	w.scimErr(t, "GET", scimUsers+"?startIndex=x", w.admin, nil, http.StatusBadRequest, "invalidValue")

	// Paging and sorting: 4 members (the administrator and the three made here).
	all := w.call(t, "GET", scimUsers+"?sortBy=displayName", w.admin, nil, http.StatusOK)
	if all["totalResults"] != 4.0 || all["itemsPerPage"] != 4.0 {
		t.Fatalf("all: %v", all)
	}
	byName := userNames(all)
	if len(byName) != 4 || byName[len(byName)-1] != "grace@example.test" { // "Grace Hopper" sorts last
		t.Fatalf("sorted by displayName: %v", byName)
	}
	desc := userNames(w.call(t, "GET", scimUsers+"?sortBy=displayName&sortOrder=descending", w.admin, nil, http.StatusOK))
	if slices.Reverse(desc); !slices.Equal(desc, byName) {
		t.Fatalf("descending %v, ascending %v", desc, byName)
	}
	page := w.call(t, "GET", scimUsers+"?sortBy=displayName&startIndex=2&count=2", w.admin, nil, http.StatusOK)
	if page["startIndex"] != 2.0 || page["itemsPerPage"] != 2.0 || !slices.Equal(userNames(page), byName[1:3]) {
		t.Fatalf("page 2: %v, all %v", page, byName)
	}
	if m := w.call(t, "GET", scimUsers+"?count=0", w.admin, nil, http.StatusOK); m["totalResults"] != 4.0 || len(m["Resources"].([]any)) != 0 {
		t.Fatalf("count=0: %v", m)
	}
	if m := w.call(t, "GET", scimUsers+"?startIndex=9", w.admin, nil, http.StatusOK); m["totalResults"] != 4.0 || m["itemsPerPage"] != 0.0 {
		t.Fatalf("past the end: %v", m)
	}

	// PATCH: path, no path, value paths, extensions, case-insensitive names and ops.
	one := scimUsers + "/" + id
	got := w.call(t, "PATCH", one, w.admin, patch(
		op("replace", "name.givenName", "Augusta Ada"),
		op("Add", "displayName", "Ada Lovelace"),
		op("replace", "", map[string]any{"externalId": "entra-1", "NAME": map[string]any{"familyName": "King"}}),
		op("replace", userExt+":countryCode", "GB"),
		op("add", enterpriseURN+":department", "Analytical Engines"),
		op("replace", enterpriseURN, map[string]any{"manager": map[string]any{"value": "boss-1"}, "employeeNumber": "7"}),
		op("replace", `emails[type eq "work"].value`, "ada@example.test"),
		op("replace", "userName", "ADA@example.test"),
	), http.StatusOK)
	if got["displayName"] != "Ada Lovelace" || got["externalId"] != "entra-1" || got["name"].(map[string]any)["givenName"] != "Augusta Ada" ||
		got["name"].(map[string]any)["familyName"] != "King" || got[userExt].(map[string]any)["countryCode"] != "GB" ||
		got["meta"].(map[string]any)["version"] != `W/"2"` {
		t.Fatalf("patched %v", got)
	}
	if m := w.call(t, "GET", scimUsers+filterQ(`displayName eq "ada lovelace"`), w.admin, nil, http.StatusOK); !slices.Equal(userNames(m), []string{"ada@example.test"}) {
		t.Fatalf("displayName filter after PATCH: %v", m)
	}
	// A PATCH that changes nothing keeps the version.
	same := w.call(t, "PATCH", one, w.admin, patch(op("replace", "displayName", "Ada Lovelace")), http.StatusOK)
	if same["meta"].(map[string]any)["version"] != `W/"2"` {
		t.Fatalf("no-op PATCH moved the version: %v", same)
	}
	w.call(t, "PATCH", one, w.admin, patch(op("remove", "externalId", nil), op("remove", enterpriseURN, nil)), http.StatusOK)
	if m := w.call(t, "GET", one, w.admin, nil, http.StatusOK); m["externalId"] != nil {
		t.Fatalf("externalId after remove: %v", m)
	}

	// ETags: If-Match must name the current version (412 otherwise); * matches any.
	resp, _ = w.do(t, "GET", one, w.admin, nil)
	tag := resp.Header.Get("ETag")
	w.call(t, "PATCH", one, w.admin, patch(op("replace", "displayName", "Countess")), http.StatusOK, "If-Match", tag)
	w.scimErr(t, "PATCH", one, w.admin, patch(op("replace", "displayName", "Stale")), http.StatusPreconditionFailed, "", "If-Match", tag)
	w.scimErr(t, "DELETE", one, w.admin, nil, http.StatusPreconditionFailed, "", "If-Match", tag)
	w.call(t, "PATCH", one, w.admin, patch(op("replace", "displayName", "Ada")), http.StatusOK, "If-Match", "*")

	// PATCH errors, each leaving the user as it was (all or nothing).
	before := w.call(t, "GET", one, w.admin, nil, http.StatusOK)
	for _, c := range []struct {
		body     any
		scimType string
	}{
		{patch(op("replace", "displayName", "Changed"), op("replace", "id", "x")), "mutability"},
		{patch(op("replace", "displayName", "Changed"), op("replace", "userName", "new@example.test")), "mutability"},
		{patch(op("replace", "emails", []map[string]any{{"value": "new@example.test", "primary": true}})), "invalidValue"},
		{patch(op("replace", "meta.created", "2020-01-01T00:00:00Z")), "mutability"},
		{patch(op("replace", userExt+":source", "Local")), "mutability"},
		{patch(op("replace", "groups", []any{})), "mutability"},
		{patch(op("remove", "", nil)), "noTarget"},
		{patch(op("remove", `emails[type eq "home"]`, nil)), "noTarget"},
		{patch(op("replace", "name[", "x")), "invalidPath"},
		{patch(op("replace", "nickName", "x")), "invalidPath"},
		{patch(op("replace", "active", "maybe")), "invalidValue"},
		{patch(op("remove", "active", nil)), "invalidPath"},
		{patch(op("move", "displayName", "x")), "invalidValue"},
		{patch(op("replace", "displayName", 7)), "invalidValue"},
		{patch(op("replace", userExt+":countryCode", "gb")), "invalidValue"},
		{map[string]any{"schemas": []string{patchURN}}, "invalidValue"},
		{map[string]any{"Operations": []any{op("replace", "displayName", "x")}}, "invalidValue"},
		{`{"schemas":["` + patchURN + `"],"Operations":[`, "invalidSyntax"},
	} {
		w.scimErr(t, "PATCH", one, w.admin, c.body, http.StatusBadRequest, c.scimType)
	}
	if after := w.call(t, "GET", one, w.admin, nil, http.StatusOK); after["meta"].(map[string]any)["version"] != before["meta"].(map[string]any)["version"] {
		t.Fatalf("refused PATCHes changed the user: %v, was %v", after, before)
	}

	// Unknown ids are 404, whatever their form; a deleted user is gone.
	w.scimErr(t, "GET", scimUsers+"/"+ids.New(), w.admin, nil, http.StatusNotFound, "")
	w.scimErr(t, "GET", scimUsers+"/not-a-uuid", w.admin, nil, http.StatusNotFound, "")
	w.scimErr(t, "PATCH", scimUsers+"/"+ids.New(), w.admin, patch(op("replace", "displayName", "x")), http.StatusNotFound, "")
	w.call(t, "DELETE", one, w.admin, nil, http.StatusNoContent)
	w.scimErr(t, "GET", one, w.admin, nil, http.StatusNotFound, "")
	w.scimErr(t, "DELETE", one, w.admin, nil, http.StatusNotFound, "")
	// The same address can be provisioned again, as a new user.
	again := w.call(t, "POST", scimUsers, w.admin, newUser("ada@example.test", "Ada", "Lovelace", true), http.StatusCreated)
	if again["id"] == id {
		t.Fatalf("re-created user kept its id")
	}
}

// TestSCIMUsersCrossWorkspace: another workspace's SCIM neither sees nor changes a
// workspace's users; a user who is a member of both is controlled by the workspace that
// provisioned it, and the other learns only that it is managed elsewhere.
func TestSCIMUsersCrossWorkspace(t *testing.T) {
	w := newSCIMWorld(t)
	mine := w.call(t, "POST", scimUsers, w.admin, newUser("mine@example.test", "M", "Ine", true), http.StatusCreated)["id"].(string)
	one := scimUsers + "/" + mine
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", one, nil}, {"DELETE", one, nil},
		{"PATCH", one, patch(op("replace", "active", false))},
		{"GET", scimBase + "/extensions/Users/" + mine + "/groups", nil},
	} {
		w.scimErr(t, c.method, c.path, w.otherAdmin, c.body, http.StatusNotFound, "")
	}
	if m := w.call(t, "GET", scimUsers+filterQ(`userName eq "mine@example.test" or id eq "`+mine+`"`), w.otherAdmin, nil, http.StatusOK); m["totalResults"] != 0.0 {
		t.Fatalf("the other workspace finds %v", m)
	}
	// The other workspace provisions the same address: the user joins it, unchanged, and
	// stays controlled by the first.
	shared := w.call(t, "POST", scimUsers, w.otherAdmin, newUser("mine@example.test", "Evil", "Rename", false), http.StatusCreated)
	if shared["id"] != mine || shared["active"] != true || shared["name"].(map[string]any)["givenName"] != "M" {
		t.Fatalf("the other workspace's create changed the user: %v", shared)
	}
	ext := shared[userExt].(map[string]any)
	if ext["source"] != "External" || ext["sourceInstance"] != nil {
		t.Fatalf("the other workspace sees source %v", ext)
	}
	w.scimErr(t, "POST", scimUsers, w.otherAdmin, newUser("mine@example.test", "E", "R", true), http.StatusConflict, "uniqueness")
	for _, body := range []any{
		patch(op("replace", "active", false)),
		patch(op("replace", "displayName", "Owned")),
	} {
		w.scimErr(t, "PATCH", one, w.otherAdmin, body, http.StatusForbidden, "")
	}
	if m := w.call(t, "GET", one, w.admin, nil, http.StatusOK); m["active"] != true || m["displayName"] != "mine@example.test" {
		t.Fatalf("the user after the other workspace's attempts: %v", m)
	}
	// Leaving the other workspace leaves the user to the first; the first deleting it hands
	// it back to keyhold's API, and the other workspace may then manage it (its only one).
	w.call(t, "DELETE", one, w.otherAdmin, nil, http.StatusNoContent)
	w.call(t, "GET", one, w.admin, nil, http.StatusOK)
	w.call(t, "POST", scimUsers, w.otherAdmin, newUser("mine@example.test", "E", "R", true), http.StatusCreated)
	w.call(t, "DELETE", one, w.admin, nil, http.StatusNoContent)
	got := w.call(t, "PATCH", one, w.otherAdmin, patch(op("replace", "displayName", "Theirs now")), http.StatusOK)
	if got[userExt].(map[string]any)["source"] != "SCIM" || got[userExt].(map[string]any)["sourceInstance"] != w.other {
		t.Fatalf("after the hand-over: %v", got)
	}
	w.scimErr(t, "GET", scimUsers, "", nil, http.StatusUnauthorized, "")
}

// TestSCIMUsersPermissions: reading needs identity view, writing identity edit, deleting
// identity delete; deactivating or deleting needs what the user holds, and nobody
// deactivates itself.
func TestSCIMUsersPermissions(t *testing.T) {
	w := newSCIMWorld(t)
	observer := w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceObserver)
	obs := w.e.TokenFor(t, observer)
	noRole := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, ""))
	id := w.call(t, "POST", scimUsers, w.admin, newUser("p@example.test", "P", "Q", true), http.StatusCreated)["id"].(string)
	w.call(t, "GET", scimUsers, obs, nil, http.StatusOK)
	w.scimErr(t, "GET", scimUsers, noRole, nil, http.StatusForbidden, "")
	w.scimErr(t, "POST", scimUsers, obs, newUser("q@example.test", "Q", "R", true), http.StatusForbidden, "")
	w.scimErr(t, "PATCH", scimUsers+"/"+id, obs, patch(op("replace", "displayName", "x")), http.StatusForbidden, "")
	w.scimErr(t, "DELETE", scimUsers+"/"+id, obs, nil, http.StatusForbidden, "")
	adminID := w.e.Admin.UserID
	w.scimErr(t, "PATCH", scimUsers+"/"+adminID, w.admin, patch(op("replace", "active", false)), http.StatusPreconditionFailed, "")
	// An operator edits users, but cannot deactivate one holding more than it (the
	// administrator), which would take away what it cannot grant.
	editor := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceOperator))
	w.call(t, "PATCH", scimUsers+"/"+id, editor, patch(op("replace", "active", false)), http.StatusOK)
	m := w.scimErr(t, "PATCH", scimUsers+"/"+adminID, editor, patch(op("replace", "active", false)), http.StatusForbidden, "")
	if d, _ := m["detail"].(string); !strings.Contains(d, "removing this user") {
		t.Fatalf("refusal %v", m)
	}
}

func TestSCIMUsersMatchGreenLakeOpenAPI(t *testing.T) {
	doc := loadGreenLakeDoc(t, scimDoc, openapi3.DisableExamplesValidation())
	w := newSCIMWorld(t)
	noRole := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, ""))
	observer := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceObserver))
	id := w.call(t, "POST", scimUsers, w.admin, newUser("doc@example.test", "Doc", "Umented", true), http.StatusCreated)["id"].(string)
	gone := w.call(t, "POST", scimUsers, w.admin, newUser("gone@example.test", "Go", "Ne", true), http.StatusCreated)["id"].(string)
	const (
		list = "/identity/v2beta1/scim/v2/Users"
		one  = "/identity/v2beta1/scim/v2/Users/{userId}"
	)
	u := scimUsers + "/" + id
	validateSCIM(t, w, doc, []docCall{
		{"list", list, "GET", scimUsers, observer, nil, 200},
		{"list filtered", list, "GET", scimUsers + filterQ(`displayName sw "sample" or userName sw "doc"`) + "&count=1&startIndex=1&sortBy=displayName&sortOrder=descending", w.admin, nil, 200},
		{"list, bad filter", list, "GET", scimUsers + filterQ(`userName zz "x"`), w.admin, nil, 400},
		{"list, no token", list, "GET", scimUsers, "", nil, 401},
		{"list, no role", list, "GET", scimUsers, noRole, nil, 403},
		{"create", list, "POST", scimUsers, w.admin, newUser("new@example.test", "N", "Ew", true), 201},
		{"create, no userName", list, "POST", scimUsers, w.admin, map[string]any{"schemas": []string{userURN, userExt}}, 400},
		{"create, observer", list, "POST", scimUsers, observer, newUser("nope@example.test", "N", "O", true), 403},
		{"create, taken", list, "POST", scimUsers, w.admin, newUser("doc@example.test", "D", "U", true), 409},
		{"get", one, "GET", u, observer, nil, 200},
		{"get, bad id", one, "GET", scimUsers + "/x", w.admin, nil, 404},
		{"get, unknown", one, "GET", scimUsers + "/" + ids.New(), w.admin, nil, 404},
		{"get, another workspace", one, "GET", u, w.otherAdmin, nil, 404},
		{"patch", one, "PATCH", u, w.admin, patch(op("replace", "name", map[string]any{"givenName": "D", "familyName": "U"}), op("replace", "active", false)), 200},
		{"patch, bad path", one, "PATCH", u, w.admin, patch(op("replace", "nope", "x")), 400},
		{"patch, observer", one, "PATCH", u, observer, patch(op("replace", "displayName", "x")), 403},
		{"patch, unknown", one, "PATCH", scimUsers + "/" + ids.New(), w.admin, patch(op("replace", "displayName", "x")), 404},
		{"delete", one, "DELETE", scimUsers + "/" + gone, w.admin, nil, 204},
		{"delete, deleted", one, "DELETE", scimUsers + "/" + gone, w.admin, nil, 404},
		{"delete, observer", one, "DELETE", u, observer, nil, 403},
		{"delete, no token", one, "DELETE", u, "", nil, 401},
	})
}
