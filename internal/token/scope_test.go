package token

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/scope"
)

func mustScope(t testing.TB, v string) *scope.Set {
	t.Helper()
	s, err := scope.Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGrantScope: the token's scope is the request's within the credential's allowed scopes,
// all of them when the request has none, and unrestricted when neither says anything.
func TestGrantScope(t *testing.T) {
	known := func(item string) bool {
		return strings.HasPrefix(item, "glp.workspace.") || item == "glp.identity.view"
	}
	s := &Server{KnownScope: known}
	allowed := &credential.Entry{Scopes: mustScope(t, "glp.workspace.view glp.identity.view")}
	open := &credential.Entry{}
	for _, tc := range []struct {
		name string
		req  string
		e    *credential.Entry
		want string // "!" for invalid_scope
	}{
		{"neither", "", open, ""},
		{"allowed only", "", allowed, "glp.identity.view glp.workspace.view"},
		{"narrower", "glp.workspace.view", allowed, "glp.workspace.view"},
		{"outside the allowed", "glp.workspace.edit", allowed, "!"},
		{"wildcard wider than the allowed", "glp.workspace.*", allowed, "!"},
		{"request without allowed", "glp.workspace.*", open, "glp.workspace.*"},
		{"unknown permission", "glp.identity.edit", open, "!"},
		{"unreadable allowed scopes", "", &credential.Entry{ScopesUnreadable: true}, "!"},
	} {
		var req *scope.Set
		if tc.req != "" {
			req = mustScope(t, tc.req)
		}
		got, oe := s.grantScope(req, tc.e)
		switch {
		case tc.want == "!" && (oe == nil || oe.code != errInvalidScope):
			t.Errorf("%s: %q, %v; want invalid_scope", tc.name, got, oe)
		case tc.want != "!" && (oe != nil || got.String() != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.name, got, oe, tc.want)
		}
		if tc.want == "!" && oe != nil && tc.req != "" && !strings.Contains(oe.description, `"`) {
			t.Errorf("%s: %q does not name the scope", tc.name, oe.description)
		}
	}
}

// TestTokenEndpointScope: a requested scope is granted, echoed in the response and carried
// in the token, whose verified caller holds it parsed.
func TestTokenEndpointScope(t *testing.T) {
	ts := newTestServer(t)
	form := "application/x-www-form-urlencoded"
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {ts.clientID}, "client_secret": {ts.secret},
		"scope": {"glp.workspace.view glp.identity.*"}}.Encode()
	rec := ts.do(ts.fresh(), ts.ws, "", form, "", body)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var resp tokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Scope != "glp.identity.* glp.workspace.view" {
		t.Fatalf("scope %q", resp.Scope)
	}
	caller, c, err := ts.srv.Verifier.Verify(resp.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if c.Scope != resp.Scope || caller.Scope.String() != resp.Scope || !caller.Scope.Permits("glp.identity.edit") ||
		caller.Scope.Permits("glp.workspace.edit") {
		t.Fatalf("claims scope %q, caller scope %q", c.Scope, caller.Scope)
	}
	// The cached path gives the same parsed scope.
	if caller, _, err := ts.srv.Verifier.Verify(resp.AccessToken); err != nil || caller.Scope.String() != resp.Scope {
		t.Fatalf("cached: %v %v", caller, err)
	}
}

// TestVerifyMalformedScopeClaim: a signed token whose scope claim does not parse is refused,
// not read as unrestricted.
func TestVerifyMalformedScopeClaim(t *testing.T) {
	e := newTokenEnv(t, jose.ES256)
	for _, bad := range []string{"glp.workspace.view  glp.identity.view", "openid", "glp.*.*"} {
		c := e.claims()
		c.Scope = bad
		raw, err := e.iss.Mint(c)
		tmust(t, err)
		if _, _, err := e.v.Verify(raw); err == nil {
			t.Errorf("scope %q: accepted", bad)
		}
	}
	c := e.claims()
	c.Scope = "glp.workspace.view"
	raw, err := e.iss.Mint(c)
	tmust(t, err)
	caller, _, err := e.v.Verify(raw)
	if err != nil || caller.Scope.String() != "glp.workspace.view" {
		t.Fatalf("%v %v", caller, err)
	}
	unscoped, _ := e.mint(t)
	if caller, _, err := e.v.Verify(unscoped); err != nil || caller.Scope != nil {
		t.Fatalf("unscoped: %v %v", caller, err)
	}
}

func BenchmarkVerifyCachedScoped(b *testing.B) {
	e := newTokenEnv(b, jose.ES256)
	c := e.claims()
	c.Scope = "glp.workspace.view glp.identity.view acme.todo.*"
	raw, err := e.iss.Mint(c)
	tmust(b, err)
	benchVerifyCached(b, e.v, raw)
}

// TestLongestScopeFits: a token with the longest scope a credential may hold, and every
// optional claim, is still within MaxTokenLen and verifies.
func TestLongestScopeFits(t *testing.T) {
	e := newTokenEnv(t, jose.ES256)
	var items []string
	for i := 0; len(strings.Join(items, " "))+101 <= scope.MaxLen; i++ {
		items = append(items, "prov.type."+string(rune('a'+i))+strings.Repeat("x", 89))
	}
	sc := mustScope(t, strings.Join(items, " "))
	c := e.claims()
	c.Scope = sc.String()
	c.ProvisionID = "0192a8b0-0000-7000-8000-000000000000"
	c.Cnf = &Confirmation{X5T: strings.Repeat("A", 43)}
	raw, err := e.iss.Mint(c)
	tmust(t, err)
	if len(raw) > MaxTokenLen {
		t.Fatalf("%d-byte scope makes a %d-byte token, over %d", len(c.Scope), len(raw), MaxTokenLen)
	}
	if _, _, err := e.v.Verify(raw); err != nil {
		t.Fatal(err)
	}
}
