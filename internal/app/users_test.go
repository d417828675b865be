package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

const usersAPI = "/identity/v1/users"

func TestUsersInviteGetList(t *testing.T) {
	w := newIAMWorld(t)
	resp, raw := w.e.Do(t, http.MethodPost, usersAPI, w.admin, map[string]any{"email": " Mona@Example.test ", "sendWelcomeEmail": false})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("invite: %d %s", resp.StatusCode, raw)
	}
	id := object(t, raw)["id"].(string)
	if resp.Header.Get("Location") != w.e.Base+usersAPI+"/"+id || object(t, raw)["message"] == "" {
		t.Fatalf("invite answer %s, Location %s", raw, resp.Header.Get("Location"))
	}
	u := object(t, w.call(t, http.MethodGet, usersAPI+"/"+id, w.admin, nil, http.StatusOK))
	if u["username"] != "mona@example.test" || u["type"] != "user" || u["userStatus"] != "VERIFIED" || u["resourceUri"] != usersAPI+"/"+id {
		t.Fatalf("user %v", u)
	}
	w.call(t, http.MethodPost, usersAPI, w.admin, map[string]any{"email": "mona@example.test"}, http.StatusConflict)
	// The same person joins another workspace as the same user.
	again := object(t, w.call(t, http.MethodPost, usersAPI, w.otherTok, map[string]any{"email": "mona@example.test"}, http.StatusCreated))
	if again["id"] != id {
		t.Fatalf("a second workspace made another user: %v", again)
	}
	for _, body := range []any{map[string]any{}, map[string]any{"email": "not an email"}, map[string]any{"email": "a@b.c", "role": "x"},
		map[string]any{"email": 5}, map[string]any{"email": "Name <a@example.test>"}} {
		resp, raw := w.e.Do(t, http.MethodPost, usersAPI, w.admin, body)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "")
	}
	for _, e := range []string{"nina@example.test", "otto@example.test"} {
		w.member(t, w.admin, e)
	}
	list := func(query string) map[string]any {
		t.Helper()
		return object(t, w.call(t, http.MethodGet, usersAPI+"?"+query, w.admin, nil, http.StatusOK))
	}
	q := func(f string) string { return "filter=" + url.QueryEscape(f) }
	for _, tc := range []struct {
		query        string
		total, count int
	}{
		{"", 4, 4}, {"limit=2", 4, 2}, {"limit=2&offset=3", 4, 1},
		{q("username eq 'nina@example.test'"), 1, 1},
		{q("id in ('" + id + "', '" + w.e.Admin.UserID + "')"), 2, 2},
		{q("userStatus eq 'VERIFIED'"), 4, 4}, {q("userStatus ne 'VERIFIED'"), 0, 0},
		{q("createdAt gt 2000-01-01T00:00:00Z and username ne 'otto@example.test'"), 3, 3},
	} {
		l := list(tc.query)
		if l["total"] != float64(tc.total) || l["count"] != float64(tc.count) {
			t.Errorf("?%s: %v of %v, want %d of %d", tc.query, l["count"], l["total"], tc.count, tc.total)
		}
	}
	for _, query := range []string{"limit=601", "limit=0", "offset=x", q("firstName gt 'a'"), q("lastLogin eq 'x'"), q("username gt 1"), "page=2"} {
		resp, raw := w.e.Do(t, http.MethodGet, usersAPI+"?"+query, w.admin, nil)
		wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "")
	}
	w.call(t, http.MethodGet, usersAPI+"?limit=600", w.admin, nil, http.StatusOK)
	resp, raw = w.e.Do(t, http.MethodGet, usersAPI+"/not-a-uuid", w.admin, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "id")
}

func TestUsersPermissionsAndIsolation(t *testing.T) {
	w := newIAMWorld(t)
	id := w.member(t, w.admin, "pia@example.test")
	observer := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceObserver))
	operator := w.e.TokenFor(t, w.e.UserWithRole(t, w.ws, rbac.RoleWorkspaceOperator))
	w.call(t, http.MethodGet, usersAPI, observer, nil, http.StatusOK)
	w.call(t, http.MethodGet, usersAPI+"/"+id, observer, nil, http.StatusOK)
	resp, raw := w.e.Do(t, http.MethodPost, usersAPI, observer, map[string]any{"email": "q@example.test"})
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	w.call(t, http.MethodPost, usersAPI, operator, map[string]any{"email": "q@example.test"}, http.StatusCreated)
	resp, raw = w.e.Do(t, http.MethodDelete, usersAPI+"/"+id, operator, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "")
	// Another workspace learns nothing about this one's users.
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		resp, raw := w.e.Do(t, method, usersAPI+"/"+id, w.otherTok, nil)
		wantIAMError(t, resp.StatusCode, raw, http.StatusNotFound, "")
		ref, refRaw := w.e.Do(t, method, usersAPI+"/"+ids.New(), w.otherTok, nil)
		wantIAMError(t, ref.StatusCode, refRaw, http.StatusNotFound, "")
		if object(t, raw)["message"] != object(t, refRaw)["message"] {
			t.Fatalf("differs from a missing user: %s vs %s", raw, refRaw)
		}
	}
	list := w.call(t, http.MethodGet, usersAPI, w.otherTok, nil, http.StatusOK)
	if strings.Contains(string(list), id) || strings.Contains(string(list), "pia@") {
		t.Fatalf("another workspace lists the user: %s", list)
	}
	w.call(t, http.MethodGet, usersAPI+"/"+id, w.admin, nil, http.StatusOK)
	// Nobody removes itself.
	resp, raw = w.e.Do(t, http.MethodDelete, usersAPI+"/"+w.e.Admin.UserID, w.admin, nil)
	wantIAMError(t, resp.StatusCode, raw, http.StatusPreconditionFailed, "")
}

// TestCredentialForInvitedUser: an identity administrator invites a user, gives it a role
// and a personal credential (ownerId); the credential's tokens act with that user's rights.
func TestCredentialForInvitedUser(t *testing.T) {
	w := newIAMWorld(t)
	id := w.member(t, w.admin, "quinn@example.test")
	w.assign(t, w.admin, "user:"+id, predefined(rbac.RoleWorkspaceObserver), wsGRN(w.ws))
	cred := object(t, w.call(t, http.MethodPost, "/workspaces/v1/credentials", w.admin,
		map[string]any{"credentialName": "quinn's", "ownerId": id}, http.StatusCreated))
	if cred["ownerId"] != id {
		t.Fatalf("credential %v", cred)
	}
	tok := w.e.Token(t, w.ws, cred["clientId"].(string), cred["clientSecret"].(string))
	w.call(t, http.MethodGet, "/authorization/v2alpha2/roles", tok, nil, http.StatusOK) // observer: view
	resp, raw := w.e.Do(t, http.MethodPost, "/authorization/v2alpha2/roles", tok, map[string]any{"name": "x", "permissions": []string{permView}})
	wantIAMError(t, resp.StatusCode, raw, http.StatusForbidden, "") // but not edit
	// A user invited elsewhere is not a member here.
	stranger := w.member(t, w.otherTok, "rita@example.test")
	resp, raw = w.e.Do(t, http.MethodPost, "/workspaces/v1/credentials", w.admin, map[string]any{"credentialName": "x", "ownerId": stranger})
	wantIAMError(t, resp.StatusCode, raw, http.StatusBadRequest, "ownerId")
}

// TestRemovedUserKeepsOtherWorkspaces: removing a user from one workspace leaves its
// membership and credentials in another.
func TestRemovedUserKeepsOtherWorkspaces(t *testing.T) {
	w := newIAMWorld(t)
	id := w.member(t, w.admin, "sam@example.test")
	w.member(t, w.otherTok, "sam@example.test")
	w.assign(t, w.otherTok, "user:"+id, predefined(rbac.RoleWorkspaceObserver), wsGRN(w.other))
	there := object(t, w.call(t, http.MethodPost, "/workspaces/v1/credentials", w.otherTok,
		map[string]any{"credentialName": "sam", "ownerId": id}, http.StatusCreated))
	here := object(t, w.call(t, http.MethodPost, "/workspaces/v1/credentials", w.admin,
		map[string]any{"credentialName": "sam", "ownerId": id}, http.StatusCreated))
	w.call(t, http.MethodDelete, usersAPI+"/"+id, w.admin, nil, http.StatusNoContent)
	w.call(t, http.MethodGet, usersAPI+"/"+id, w.otherTok, nil, http.StatusOK)
	tok := w.e.Token(t, w.other, there["clientId"].(string), there["clientSecret"].(string))
	w.call(t, http.MethodGet, usersAPI, tok, nil, http.StatusOK)
	resp, _ := w.e.PostForm(t, w.e.TokenURL(w.ws), url.Values{"grant_type": {"client_credentials"},
		"client_id": {here["clientId"].(string)}, "client_secret": {here["clientSecret"].(string)}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the credential in the workspace the user left still works: %d", resp.StatusCode)
	}
}
