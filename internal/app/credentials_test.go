package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

var credHexSecret = regexp.MustCompile(`^[0-9a-f]{64,}$`)

// credWantUTC checks an RFC 3339 timestamp in UTC and returns it.
func credWantUTC(t testing.TB, field, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%s %q is not RFC 3339: %v", field, s, err)
	}
	if !strings.HasSuffix(s, "Z") || ts.Location() != time.UTC {
		t.Errorf("%s %q is not in UTC (Z)", field, s)
	}
	return ts
}

func TestCreateCredential(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	resp, raw := e.Do(t, http.MethodPost, credsPath, tok, map[string]string{"credentialName": "ci pipeline"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, raw)
	}
	var c credResp
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if got, want := resp.Header.Get("Location"), e.Base+credsPath+"/"+c.ID; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if id, err := ids.Parse(c.ID); err != nil || id != c.ID {
		t.Errorf("id %q is not a canonical UUID", c.ID)
	}
	if c.ClientID != c.ID {
		t.Errorf("clientId %q != id %q", c.ClientID, c.ID)
	}
	if !credHexSecret.MatchString(c.ClientSecret) {
		t.Errorf("clientSecret %q: want at least 64 hex digits (256 bits)", c.ClientSecret)
	}
	if c.Type != "credentials" || c.Generation != 1 || c.CredentialName != "ci pipeline" || c.OwnerID != e.Admin.UserID {
		t.Errorf("type %q generation %d name %q owner %q", c.Type, c.Generation, c.CredentialName, c.OwnerID)
	}
	created, updated := credWantUTC(t, "createdAt", c.CreatedAt), credWantUTC(t, "updatedAt", c.UpdatedAt)
	if !created.Equal(updated) || time.Since(created) > time.Minute || time.Until(created) > time.Minute {
		t.Errorf("createdAt %s updatedAt %s: want equal and now", c.CreatedAt, c.UpdatedAt)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on a response carrying a secret, want no-store", cc)
	}

	// The secret works, and is never shown again.
	e.Token(t, e.Admin.WorkspaceID, c.ClientID, c.ClientSecret)
	l, listRaw := listCreds(t, e, tok, "")
	if strings.Contains(string(listRaw), c.ClientSecret) || strings.Contains(string(listRaw), "clientSecret") {
		t.Errorf("the list shows a secret: %s", listRaw)
	}
	if !l.ids()[c.ID] || !l.ids()[e.Admin.ClientID] || l.Count != 2 {
		t.Errorf("list %s: want the bootstrap credential and the new one", listRaw)
	}
}

func TestListShowsOnlyOwnCredentials(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	adminTok := e.AdminToken(t)
	op := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceOperator)
	opTok := e.TokenFor(t, op)
	mine := createCred(t, e, adminTok, map[string]string{"credentialName": "admin's"})
	theirs := createCred(t, e, opTok, map[string]string{"credentialName": "operator's"})

	for _, tc := range []struct {
		who          string
		tok          string
		want, notWnt []string
	}{
		{"admin", adminTok, []string{e.Admin.ClientID, mine.ID}, []string{op.ClientID, theirs.ID}},
		{"operator", opTok, []string{op.ClientID, theirs.ID}, []string{e.Admin.ClientID, mine.ID}},
	} {
		t.Run(tc.who, func(t *testing.T) {
			l, raw := listCreds(t, e, tc.tok, "")
			if l.Count != len(tc.want) {
				t.Errorf("count %d, want %d: %s", l.Count, len(tc.want), raw)
			}
			for _, id := range tc.want {
				if !l.ids()[id] {
					t.Errorf("own credential %s missing: %s", id, raw)
				}
			}
			for _, id := range tc.notWnt {
				if strings.Contains(string(raw), id) {
					t.Errorf("another owner's credential %s listed: %s", id, raw)
				}
			}
		})
	}
}

func TestCredentialName(t *testing.T) {
	e := apptest.Start(t, app.Config{MaxCredentialsPerOwner: 50})
	tok := e.AdminToken(t)
	for _, tc := range []struct {
		name    string
		body    any
		want    string // stored name; "" means a 400 naming credentialName
		comment string
	}{
		{"trimmed", map[string]string{"credentialName": "  \t padded \n "}, "padded", ""},
		{"100 ascii", map[string]string{"credentialName": strings.Repeat("a", 100)}, strings.Repeat("a", 100), ""},
		{"100 runes", map[string]string{"credentialName": strings.Repeat("é", 100)}, strings.Repeat("é", 100), "counted in characters, not bytes"},
		{"100 after trim", map[string]string{"credentialName": " " + strings.Repeat("b", 100) + " "}, strings.Repeat("b", 100), ""},
		{"unicode", map[string]string{"credentialName": "日本語 ✓"}, "日本語 ✓", ""},
		{"101", map[string]string{"credentialName": strings.Repeat("c", 101)}, "", ""},
		{"101 runes", map[string]string{"credentialName": strings.Repeat("é", 101)}, "", ""},
		{"empty", map[string]string{"credentialName": ""}, "", ""},
		{"blank", map[string]string{"credentialName": "   \t "}, "", ""},
		{"missing", map[string]string{}, "", ""},
		{"null", map[string]any{"credentialName": nil}, "", ""},
		{"newline inside", map[string]string{"credentialName": "a\nb"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := e.Do(t, http.MethodPost, credsPath, tok, tc.body)
			if tc.want == "" {
				wantCredBadField(t, resp, raw, "credentialName")
				return
			}
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, raw)
			}
			var c credResp
			_ = json.Unmarshal(raw, &c)
			if c.CredentialName != tc.want {
				t.Errorf("name %q, want %q", c.CredentialName, tc.want)
			}
		})
	}
}

func TestDuplicateCredentialName(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	other := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceOperator)
	createCred(t, e, tok, map[string]string{"credentialName": "deploy"})
	for _, name := range []string{"deploy", "  deploy  ", credBootstrapName} {
		resp, raw := e.Do(t, http.MethodPost, credsPath, tok, map[string]string{"credentialName": name})
		g := wantCredErr(t, resp, raw, http.StatusConflict)
		if !strings.Contains(g.Message, "already exists") {
			t.Errorf("conflict message %q", g.Message)
		}
	}
	// Names are unique per owner: another user may use the same one.
	createCred(t, e, e.TokenFor(t, other), map[string]string{"credentialName": "deploy"})
}

// credBootstrapName is the name of the credential made with a workspace.
const credBootstrapName = "bootstrap"

func TestCredentialLimitPerOwner(t *testing.T) {
	e := apptest.Start(t, app.Config{MaxCredentialsPerOwner: 3})
	tok := e.AdminToken(t)
	// The bootstrap credential counts: two more reach the limit.
	a := createCred(t, e, tok, map[string]string{"credentialName": "one"})
	createCred(t, e, tok, map[string]string{"credentialName": "two"})
	resp, raw := e.Do(t, http.MethodPost, credsPath, tok, map[string]string{"credentialName": "three"})
	g := wantCredErr(t, resp, raw, http.StatusConflict)
	if !strings.Contains(g.Message, "limit") || !strings.Contains(g.Message, "3") {
		t.Errorf("limit message %q should say a limit of 3 was reached", g.Message)
	}
	if l, _ := listCreds(t, e, tok, ""); l.Count != 3 {
		t.Errorf("after the refused create the admin holds %d credentials, want 3", l.Count)
	}

	// Another owner is not affected (it holds one credential from UserWithRole).
	op := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceOperator)
	opTok := e.TokenFor(t, op)
	createCred(t, e, opTok, map[string]string{"credentialName": "one"})
	createCred(t, e, opTok, map[string]string{"credentialName": "two"})

	// Deleting one makes room again.
	if resp, raw := e.Do(t, http.MethodDelete, credsPath+"/"+a.ID, tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, raw)
	}
	createCred(t, e, tok, map[string]string{"credentialName": "three"})
}

func TestResetCredential(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "to reset"})
	oldTok := e.Token(t, e.Admin.WorkspaceID, c.ID, c.ClientSecret)
	time.Sleep(5 * time.Millisecond) // timestamps have microsecond precision

	resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+c.ID+"/reset", tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d %s", resp.StatusCode, raw)
	}
	var r credResp
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != c.ID || r.ClientID != c.ID || r.CredentialName != c.CredentialName || r.Type != "credentials" {
		t.Errorf("reset answered another credential: %s", raw)
	}
	if !credHexSecret.MatchString(r.ClientSecret) || r.ClientSecret == c.ClientSecret {
		t.Errorf("reset secret %q: want a new 256-bit secret", r.ClientSecret)
	}
	if r.Generation != 2 {
		t.Errorf("generation %d, want 2", r.Generation)
	}
	if r.CreatedAt != c.CreatedAt {
		t.Errorf("createdAt changed from %s to %s", c.CreatedAt, r.CreatedAt)
	}
	if !credWantUTC(t, "updatedAt", r.UpdatedAt).After(credWantUTC(t, "updatedAt", c.UpdatedAt)) {
		t.Errorf("updatedAt %s not after %s", r.UpdatedAt, c.UpdatedAt)
	}

	// From now on the old secret and the old generation's tokens are refused.
	if st, code := credTokenStatus(t, e, e.Admin.WorkspaceID, c.ID, c.ClientSecret); st != http.StatusUnauthorized || code != "invalid_client" {
		t.Errorf("old secret: %d %s, want 401 invalid_client", st, code)
	}
	resp, raw = e.Do(t, http.MethodGet, credsPath, oldTok, nil)
	wantCredErr(t, resp, raw, http.StatusUnauthorized)
	newTok := e.Token(t, e.Admin.WorkspaceID, c.ID, r.ClientSecret)
	l, listRaw := listCreds(t, e, newTok, "")
	if strings.Contains(string(listRaw), r.ClientSecret) {
		t.Errorf("list shows the new secret")
	}
	for _, it := range l.Items {
		if it.ID == c.ID && (it.Generation != 2 || it.UpdatedAt != r.UpdatedAt) {
			t.Errorf("list shows generation %d updatedAt %s after reset", it.Generation, it.UpdatedAt)
		}
	}
}

func TestDeleteCredential(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "to delete"})
	itsTok := e.Token(t, e.Admin.WorkspaceID, c.ID, c.ClientSecret)

	resp, raw := e.Do(t, http.MethodDelete, credsPath+"/"+c.ID, tok, nil)
	if resp.StatusCode != http.StatusNoContent || len(raw) != 0 {
		t.Fatalf("delete: %d %q, want 204 with no body", resp.StatusCode, raw)
	}
	resp, raw = e.Do(t, http.MethodDelete, credsPath+"/"+c.ID, tok, nil)
	wantCredErr(t, resp, raw, http.StatusNotFound)
	resp, raw = e.Do(t, http.MethodPost, credsPath+"/"+c.ID+"/reset", tok, nil)
	wantCredErr(t, resp, raw, http.StatusNotFound)

	if l, _ := listCreds(t, e, tok, ""); l.ids()[c.ID] {
		t.Errorf("deleted credential still listed")
	}
	if st, code := credTokenStatus(t, e, e.Admin.WorkspaceID, c.ID, c.ClientSecret); st != http.StatusUnauthorized || code != "invalid_client" {
		t.Errorf("deleted credential's secret: %d %s", st, code)
	}
	resp, raw = e.Do(t, http.MethodGet, credsPath, itsTok, nil)
	wantCredErr(t, resp, raw, http.StatusUnauthorized)
}

func TestListFilter(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	c := createCred(t, e, tok, map[string]string{"credentialName": "it's filtered"})

	for _, tc := range []struct {
		filter string
		want   []string // ids expected; nil means a 400 naming filter
	}{
		{"tenantId eq '" + ids.New() + "'", []string{}},
		{"tenantId eq '" + ids.Hex(ids.New()) + "'", []string{}},
		{"credentialName eq 'it''s filtered'", []string{c.ID}},
		{"credentialName ne 'it''s filtered'", []string{e.Admin.ClientID}},
		{"credentialName in ('bootstrap', 'it''s filtered')", []string{e.Admin.ClientID, c.ID}},
		{"createdAt ge 2000-01-01T00:00:00Z and createdAt lt 2100-01-01T00:00:00Z", []string{e.Admin.ClientID, c.ID}},
		{"nope eq 1", nil},
		{"tenantId gt 'x'", nil},
		{"tenantId eq 'unterminated", nil},
		{"tenantId eq 'not-a-uuid'", nil},
		{"credentialName eq", nil},
		{"(credentialName eq 'a'", nil},
		{"ownerId gt '" + e.Admin.UserID + "'", nil},
		{"clientSecret eq 'x'", nil},
		{"credentialName eq 'a' or", nil},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			if tc.want == nil {
				resp, raw := e.Do(t, http.MethodGet, credsPath+"?filter="+url.QueryEscape(tc.filter), tok, nil)
				g := wantCredBadField(t, resp, raw, "filter")
				if g.ErrorDetails[0].Issues[0].Source != "query.parameter" {
					t.Errorf("source %q, want query.parameter", g.ErrorDetails[0].Issues[0].Source)
				}
				return
			}
			l, raw := listCreds(t, e, tok, tc.filter)
			if l.Count != len(tc.want) {
				t.Fatalf("count %d, want %d: %s", l.Count, len(tc.want), raw)
			}
			for _, id := range tc.want {
				if !l.ids()[id] {
					t.Errorf("%s missing: %s", id, raw)
				}
			}
		})
	}
}

func TestAdminManagesMembersCredentials(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	member := e.UserWithRole(t, e.Admin.WorkspaceID, "")
	c := createCred(t, e, tok, map[string]string{"credentialName": "for the member", "ownerId": member.UserID})
	if c.OwnerID != member.UserID || c.ClientSecret == "" {
		t.Fatalf("created for %q (secret %q), want owner %s", c.OwnerID, c.ClientSecret, member.UserID)
	}
	// The member can use it (a member without roles may not list, though: see below).
	memberTok := e.Token(t, e.Admin.WorkspaceID, c.ID, c.ClientSecret)

	if l, _ := listCreds(t, e, tok, ""); l.ids()[c.ID] {
		t.Errorf("the admin's own list shows the member's credential")
	}
	l, raw := listCreds(t, e, tok, "ownerId eq '"+member.UserID+"'")
	if !l.ids()[c.ID] || !l.ids()[member.ClientID] || l.Count != 2 {
		t.Errorf("admin filtering on the member: %s", raw)
	}
	// The admin may reset and delete them too.
	if resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+member.ClientID+"/reset", tok, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("admin reset of a member's credential: %d %s", resp.StatusCode, raw)
	}

	for _, tc := range []struct {
		name, ownerID string
	}{
		{"not a user", ids.New()},
		{"user of another workspace", e.CreateWorkspace(t, "other", storage.WorkspaceStandard, "other@example.test").UserID},
		{"malformed", "not-a-uuid"},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := e.Do(t, http.MethodPost, credsPath, tok, map[string]string{"credentialName": "x", "ownerId": tc.ownerID})
			wantCredBadField(t, resp, raw, "ownerId")
		})
	}

	// A member without any role can do nothing with the credentials API.
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, credsPath},
		{http.MethodPost, credsPath},
		{http.MethodDelete, credsPath + "/" + c.ID},
		{http.MethodPost, credsPath + "/" + c.ID + "/reset"},
	} {
		var body any
		if tc.method == http.MethodPost && tc.path == credsPath {
			body = map[string]string{"credentialName": "mine"}
		}
		resp, raw := e.Do(t, tc.method, tc.path, memberTok, body)
		wantCredErr(t, resp, raw, http.StatusForbidden)
	}
}

func TestObserverCannotCreate(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	obs := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceObserver)
	tok := e.TokenFor(t, obs)
	for _, body := range []any{
		map[string]string{"credentialName": "x"},
		map[string]string{"credentialName": "x", "ownerId": obs.UserID},
	} {
		resp, raw := e.Do(t, http.MethodPost, credsPath, tok, body)
		wantCredErr(t, resp, raw, http.StatusForbidden)
	}
	if l, _ := listCreds(t, e, tok, ""); l.Count != 1 {
		t.Errorf("observer holds %d credentials, want 1", l.Count)
	}
}

func TestOperatorCannotCreateForNonMember(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	op := e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceOperator)
	resp, raw := e.Do(t, http.MethodPost, credsPath, e.TokenFor(t, op), map[string]string{"credentialName": "x", "ownerId": ids.New()})
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	wantCredErr(t, resp, raw, resp.StatusCode)
}

func TestAssociationsAreChecked(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	other := e.CreateWorkspace(t, "Other Corp", storage.WorkspaceMSP, "msp@example.test")
	const tenantField, provField = "associatedTenant.resourceUri", "associatedServiceManagerProvision.resourceUri"
	tenant := func(uri string) map[string]any {
		return map[string]any{"credentialName": "t", "associatedTenant": map[string]string{"resourceUri": uri}}
	}
	prov := func(uri string) map[string]any {
		return map[string]any{"credentialName": "p", "associatedServiceManagerProvision": map[string]string{"resourceUri": uri}}
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"made-up tenant", tenant("/workspaces/v1/workspaces/" + ids.New()), tenantField},
		{"another workspace", tenant("/workspaces/v1/workspaces/" + other.WorkspaceID), tenantField},
		{"another workspace, hex", tenant("/workspaces/v1/workspaces/" + ids.Hex(other.WorkspaceID)), tenantField},
		{"own workspace", tenant("/workspaces/v1/workspaces/" + e.Admin.WorkspaceID), tenantField},
		{"malformed id", tenant("/workspaces/v1/workspaces/not-a-uuid"), tenantField},
		{"wrong path", tenant("/identity/v1/users/" + ids.New()), tenantField},
		{"absolute URL", tenant("https://evil.example/workspaces/v1/workspaces/" + ids.New()), tenantField},
		{"trailing junk", tenant("/workspaces/v1/workspaces/" + ids.New() + "/x"), tenantField},
		{"empty uri", tenant(""), tenantField},
		{"tenantName given", map[string]any{"credentialName": "t", "associatedTenant": map[string]string{
			"resourceUri": "/workspaces/v1/workspaces/" + ids.New(), "tenantName": "x"}}, tenantField},
		{"unknown provision", prov("/service-catalog/v1/service-manager-provisions/" + ids.New()), provField},
		{"unknown provision, v1beta1", prov("/service-catalog/v1beta1/service-manager-provisions/" + ids.New()), provField},
		{"malformed provision", prov("/service-catalog/v1/service-manager-provisions/42"), provField},
		{"empty provision", prov(""), provField},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := e.Do(t, http.MethodPost, credsPath, tok, tc.body)
			wantCredBadField(t, resp, raw, tc.field)
			if strings.Contains(string(raw), "Other Corp") {
				t.Errorf("answer names the other workspace: %s", raw)
			}
		})
	}

	// "Exists but is not your tenant" answers exactly like "does not exist".
	_, missing := e.Do(t, http.MethodPost, credsPath, tok, tenant("/workspaces/v1/workspaces/"+ids.New()))
	_, foreign := e.Do(t, http.MethodPost, credsPath, tok, tenant("/workspaces/v1/workspaces/"+other.WorkspaceID))
	if a, b := credWithoutDebugID(t, missing), credWithoutDebugID(t, foreign); a != b {
		t.Errorf("a foreign workspace is told apart from a missing one:\n%s\n%s", a, b)
	}
	if l, _ := listCreds(t, e, tok, ""); l.Count != 1 {
		t.Errorf("refused creates left %d credentials, want 1", l.Count)
	}
}

func TestTenantCredential(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	msp, tenant := mspWithTenant(t, e, "Managed Services Ltd", "Acme Tenant")
	tok := e.Token(t, msp.WorkspaceID, msp.ClientID, msp.ClientSecret)
	for i, uri := range []string{"/workspaces/v1/workspaces/" + tenant.ID, "/workspaces/v1/workspaces/" + ids.Hex(tenant.ID)} {
		c := createCred(t, e, tok, map[string]any{"credentialName": fmt.Sprintf("tenant %d", i),
			"associatedTenant": map[string]string{"resourceUri": uri}})
		if c.AssociatedTenant == nil || c.AssociatedTenant.ResourceURI != "/workspaces/v1/workspaces/"+tenant.ID ||
			c.AssociatedTenant.TenantName != "Acme Tenant" {
			t.Errorf("associatedTenant %+v, want the tenant's canonical URI and name", c.AssociatedTenant)
		}
	}
	l, raw := listCreds(t, e, tok, "tenantId eq '"+tenant.ID+"'")
	if l.Count != 2 {
		t.Errorf("tenantId filter: %s", raw)
	}
	if l, raw := listCreds(t, e, tok, "tenantId eq '"+ids.New()+"'"); l.Count != 0 {
		t.Errorf("tenantId filter on another id: %s", raw)
	}
	// The standard workspace may not name the MSP's tenant, and is told the same as for a
	// tenant that does not exist.
	adminTok := e.AdminToken(t)
	_, foreign := e.Do(t, http.MethodPost, credsPath, adminTok, map[string]any{"credentialName": "x",
		"associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + tenant.ID}})
	_, missing := e.Do(t, http.MethodPost, credsPath, adminTok, map[string]any{"credentialName": "x",
		"associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + ids.New()}})
	if a, b := credWithoutDebugID(t, foreign), credWithoutDebugID(t, missing); a != b || strings.Contains(a, "Acme") {
		t.Errorf("another MSP's tenant is told apart from a missing one:\n%s\n%s", a, b)
	}
}
