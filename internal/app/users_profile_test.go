package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

const identityDoc = "identity__identity-v1-nb-openapi-identity.json"

// userUpdateUndocumented are the statuses PUT /identity/v1/users/{id} answers that the
// identity document does not list for it (docs/api.md, "Differences"): 403 (the caller may
// not change this user) and 404 (no such member). Their bodies are validated against the
// document's StandardErrorResponse.
var userUpdateUndocumented = map[int]bool{http.StatusForbidden: true, http.StatusNotFound: true}

// validateIdentity validates one answer of op against the identity document.
func validateIdentity(t *testing.T, e *apptest.Env, doc *openapi3.T, method, op, path string, resp *http.Response, body []byte) {
	t.Helper()
	if userUpdateUndocumented[resp.StatusCode] && method == http.MethodPut {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("error body is not JSON: %s", body)
		}
		if err := doc.Components.Schemas["StandardErrorResponse"].Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
			t.Errorf("%s %s %d: %v\n%s", method, path, resp.StatusCode, err, body)
		}
		return
	}
	req, err := http.NewRequest(method, e.Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: openapiRoute(t, doc, method, op)},
		Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)), Options: openapiOptions(),
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s: does not match the identity document: %v\nbody: %s", method, path, err, body)
	}
}

// userView reads a user as the administrator sees it.
func userView(t *testing.T, w *iamWorld, id string) map[string]any {
	t.Helper()
	return object(t, w.call(t, http.MethodGet, usersAPI+"/"+id, w.admin, nil, http.StatusOK))
}

// TestUserUpdate: PUT /identity/v1/users/{id} as the identity document defines it (the
// preferences idleTimeout and language) plus keyhold's firstName and lastName, who may do
// what, If-Match, bad input naming the field with nothing changed, one audit record per
// change, and every answer validated against the document.
func TestUserUpdate(t *testing.T) {
	doc := loadGreenLakeDoc(t, identityDoc)
	w := newIAMWorld(t)
	e := w.e
	observer := e.TokenFor(t, e.UserWithRole(t, w.ws, rbac.RoleWorkspaceObserver))
	plainP := e.UserWithRole(t, w.ws, "")
	plain := e.TokenFor(t, plainP)
	member := w.member(t, w.admin, "profile@example.test")
	shared := w.member(t, w.admin, "shared@example.test")
	w.call(t, http.MethodPost, usersAPI, w.otherTok, map[string]any{"email": "shared@example.test"}, http.StatusCreated)
	otherMember := w.member(t, w.otherTok, "elsewhere@example.test")
	const one = "/identity/v1/users/{id}"
	long := strings.Repeat("n", 101)
	type call struct {
		name, path, tok string
		body            any
		header          http.Header
		status          int
		field           string // the field a 400 names
	}
	calls := []call{
		{"own preferences, no role needed", usersAPI + "/" + plainP.UserID, plain, map[string]any{"idleTimeout": 900, "language": "fr"}, nil, 200, ""},
		{"own preferences by 32 hex digits", usersAPI + "/" + ids.Hex(plainP.UserID), plain, map[string]any{"language": "de"}, nil, 200, ""},
		{"a member's names and preferences", usersAPI + "/" + member, w.admin, map[string]any{"firstName": " Ada ", "lastName": "Lovelace", "idleTimeout": 3600, "language": "jp"}, nil, 200, ""},
		{"an empty update", usersAPI + "/" + member, w.admin, map[string]any{}, nil, 200, ""},
		{"If-Match, stale", usersAPI + "/" + member, w.admin, map[string]any{"language": "ko"}, http.Header{"If-Match": {`"1"`}}, 412, ""},
		{"If-Match, not a generation", usersAPI + "/" + member, w.admin, map[string]any{"language": "ko"}, http.Header{"If-Match": {`"x"`}}, 400, "If-Match"},
		{"idleTimeout too short", usersAPI + "/" + member, w.admin, map[string]any{"idleTimeout": 10}, nil, 400, "idleTimeout"},
		{"idleTimeout not a number", usersAPI + "/" + member, w.admin, map[string]any{"idleTimeout": "x"}, nil, 400, "idleTimeout"},
		{"unknown language", usersAPI + "/" + member, w.admin, map[string]any{"language": "xx"}, nil, 400, "language"},
		{"firstName too long", usersAPI + "/" + member, w.admin, map[string]any{"firstName": long}, nil, 400, "firstName"},
		{"lastName with a control character", usersAPI + "/" + member, w.admin, map[string]any{"lastName": "a\u0007b"}, nil, 400, "lastName"},
		{"unknown member", usersAPI + "/" + member, w.admin, map[string]any{"email": "x@example.test"}, nil, 400, "email"},
		{"not JSON", usersAPI + "/" + member, w.admin, `{"language":`, nil, 400, ""},
		{"bad id", usersAPI + "/nope", w.admin, map[string]any{"language": "en"}, nil, 400, "id"},
		{"no token", usersAPI + "/" + member, "", map[string]any{"language": "en"}, nil, 401, ""},
		{"observer, another user", usersAPI + "/" + member, observer, map[string]any{"language": "en"}, nil, 403, ""},
		{"no role, another user", usersAPI + "/" + member, plain, map[string]any{"language": "en"}, nil, 403, ""},
		{"own names without glp.identity.edit", usersAPI + "/" + plainP.UserID, plain, map[string]any{"firstName": "Me"}, nil, 403, ""},
		{"a user of other workspaces too", usersAPI + "/" + shared, w.admin, map[string]any{"language": "it"}, nil, 403, ""},
		{"not a member", usersAPI + "/" + ids.New(), w.admin, map[string]any{"language": "en"}, nil, 404, ""},
		{"another workspace's user", usersAPI + "/" + otherMember, w.admin, map[string]any{"language": "en"}, nil, 404, ""},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			target := strings.TrimPrefix(c.path, usersAPI+"/")
			var before map[string]any
			if c.status != 200 && target == member {
				before = userView(t, w, member)
			}
			audits := auditTotal(t, e)
			resp, body := e.DoWith(t, http.MethodPut, c.path, c.tok, c.body, c.header)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			checkAudited(t, e, http.MethodPut, c.path, resp, body, audits)
			validateIdentity(t, e, doc, http.MethodPut, one, c.path, resp, body)
			if c.field != "" {
				wantIAMError(t, resp.StatusCode, body, http.StatusBadRequest, c.field)
			}
			if before != nil {
				if after := userView(t, w, member); !equalJSON(before, after) {
					t.Errorf("a refused update changed the user:\n%v\n%v", before, after)
				}
			}
		})
	}
	got := userView(t, w, member)
	if got["firstName"] != "Ada" || got["lastName"] != "Lovelace" || got["idleTimeout"] != float64(3600) || got["language"] != "jp" {
		t.Errorf("after the updates: %v", got)
	}
	resp, body := e.Do(t, http.MethodGet, usersAPI+"/"+member, w.admin, nil)
	validateIdentity(t, e, doc, http.MethodGet, one, usersAPI+"/"+member, resp, body)
	own := userView(t, w, plainP.UserID)
	if own["idleTimeout"] != float64(900) || own["language"] != "de" || own["firstName"] != "" {
		t.Errorf("own preferences: %v", own)
	}
	if fresh := userView(t, w, shared); fresh["idleTimeout"] != float64(1800) || fresh["language"] != "en" {
		t.Errorf("defaults of a user who set nothing: %v", fresh)
	}
	// If-Match with the current generation succeeds, and the answer carries the new one.
	gen := int64(got["generation"].(float64))
	resp, body = e.DoWith(t, http.MethodPut, usersAPI+"/"+member, w.admin, map[string]any{"language": "ko"},
		http.Header{"If-Match": {`"` + jsonNumber(gen) + `"`}})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"`+jsonNumber(gen+1)+`"` {
		t.Fatalf("If-Match current: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	// A user shared with another workspace changes its own preferences itself.
	sharedTok := e.TokenFor(t, credentialOf(t, w, shared))
	w.call(t, http.MethodPut, usersAPI+"/"+shared, sharedTok, map[string]any{"language": "br"}, http.StatusOK)
	if v := object(t, w.call(t, http.MethodGet, usersAPI+"/"+shared, w.otherTok, nil, http.StatusOK)); v["language"] != "br" {
		t.Errorf("the other workspace sees %v", v)
	}
	// The other workspace's administrator learns nothing about this workspace's member: the
	// answer is the one for an id that exists nowhere.
	_, a := e.Do(t, http.MethodPut, usersAPI+"/"+member, w.otherTok, map[string]any{"language": "en"})
	_, b := e.Do(t, http.MethodPut, usersAPI+"/"+ids.New(), w.otherTok, map[string]any{"language": "en"})
	if isoWithoutDebugID(a) != isoWithoutDebugID(b) {
		t.Errorf("another workspace's member answers %s, an unknown id %s", a, b)
	}
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// credentialOf makes a credential for a member (as the administrator, for it) and returns it
// as a principal that can get tokens.
func credentialOf(t *testing.T, w *iamWorld, userID string) apptest.Principal {
	t.Helper()
	c := createCred(t, w.e, w.admin, map[string]any{"credentialName": "own " + userID[:8], "ownerId": userID})
	return apptest.Principal{UserID: userID, ClientID: c.ID, Secret: c.ClientSecret, WorkspaceID: w.ws}
}

// TestLastLoginAndProfileFilters: a user's lastLogin is the last time one of its credentials
// obtained a token (written in batches, here flushed at once), absent before; the user list
// filters on firstName, lastName and lastLogin as the identity document lists.
func TestLastLoginAndProfileFilters(t *testing.T) {
	doc := loadGreenLakeDoc(t, identityDoc)
	w := newIAMWorld(t)
	e := w.e
	start := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	active := w.member(t, w.admin, "active@example.test")
	idle := w.member(t, w.admin, "idle@example.test")
	w.call(t, http.MethodPut, usersAPI+"/"+active, w.admin, map[string]any{"firstName": "Grace", "lastName": "Hopper"}, http.StatusOK)
	w.call(t, http.MethodPut, usersAPI+"/"+idle, w.admin, map[string]any{"firstName": "Idle", "lastName": "Hopper"}, http.StatusOK)
	if v := userView(t, w, active); v["lastLogin"] != nil {
		t.Fatalf("lastLogin before any token: %v", v)
	}
	p := credentialOf(t, w, active)
	for range 3 {
		e.TokenFor(t, p)
	}
	e.Node.FlushLogins(context.Background())
	v := userView(t, w, active)
	last, err := time.Parse(time.RFC3339Nano, v["lastLogin"].(string))
	if err != nil || last.Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("lastLogin after tokens: %v", v)
	}
	q := func(f string) string { return usersAPI + "?filter=" + url.QueryEscape(f) }
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{"firstName eq 'Grace'", []string{active}},
		{"lastName eq 'Hopper'", []string{active, idle}},
		{"lastName eq 'Hopper' and firstName ne 'Grace'", []string{idle}},
		{"firstName in ('Grace', 'Idle')", []string{active, idle}},
		{"lastLogin gt '" + start + "' and lastName eq 'Hopper'", []string{active}},
		{"lastLogin lt '" + start + "' and lastName eq 'Hopper'", nil},
		{"lastLogin eq null and lastName eq 'Hopper'", []string{idle}},
	} {
		resp, body := e.Do(t, http.MethodGet, q(c.filter), w.admin, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.filter, resp.StatusCode, body)
		}
		validateIdentity(t, e, doc, http.MethodGet, "/identity/v1/users", q(c.filter), resp, body)
		var l struct{ Items []struct{ ID string } }
		_ = json.Unmarshal(body, &l)
		var got []string
		for _, it := range l.Items {
			got = append(got, it.ID)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") && !(len(got) == 2 && len(c.want) == 2 && got[0] == c.want[1] && got[1] == c.want[0]) {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}
	// The other workspace filtering by this workspace's names finds nothing.
	resp, body := e.Do(t, http.MethodGet, q("lastName eq 'Hopper'"), w.otherTok, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"total":0`) {
		t.Errorf("another workspace filtering on names: %d %s", resp.StatusCode, body)
	}
}
