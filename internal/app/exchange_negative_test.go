package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/token"
)

// Token exchange (RFC 8693) refusals, each with its status and RFC 6749 §5.2 / RFC 8693
// §2.2.2 error code.
//
// xnBadSubject is the code for a subject token that is invalid (malformed, expired, revoked,
// of a reset or deleted credential) or unacceptable (an exchanged or tenant-scoped token, a
// target that is not one of the MSP's tenants). RFC 8693 §2.2.2 says such a request MUST be
// answered invalid_request, and keyhold does (docs/api.md, "Token exchange").
const xnBadSubject = "invalid_request"

// xnClock is a node's clock, moved by the test.
type xnClock struct{ ns atomic.Int64 }

func (c *xnClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *xnClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *xnClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }

func newXNClock() *xnClock {
	c := &xnClock{}
	c.Set(time.Now().Truncate(time.Second))
	return c
}

// xnWorld: MSP M1 with tenants T1 and T2, a credential M1 made for T1 (T1's client here), an
// administrator of T1 who is a member of it; MSP M2 with tenant U1; the standard workspace S.
type xnWorld struct {
	e                *apptest.Env
	clock            *xnClock
	s, m1, m2        string
	t1, t2, u1       string
	m1Admin, m2Admin isoClient
	tenantCred       isoClient // M1's credential for T1: a client of T1's issuer
	tenantAdmin      apptest.Principal
	names            []string // every workspace's name but S's ("default")
}

func newXNWorld(t *testing.T) *xnWorld {
	t.Helper()
	clock := newXNClock()
	e := apptest.Start(t, app.Config{TokenTTL: time.Minute, Now: clock.Now})
	w := &xnWorld{e: e, clock: clock, s: e.Admin.WorkspaceID}
	m1 := e.CreateWorkspace(t, "Exchange MSP Larch", storage.WorkspaceMSP, "larch-admin@example.test")
	m2 := e.CreateWorkspace(t, "Exchange MSP Rowan", storage.WorkspaceMSP, "rowan-admin@example.test")
	w.m1, w.m2 = m1.WorkspaceID, m2.WorkspaceID
	w.m1Admin, w.m2Admin = isoClient{m1.ClientID, m1.ClientSecret}, isoClient{m2.ClientID, m2.ClientSecret}
	m1Tok, m2Tok := w.token(t, w.m1, w.m1Admin), w.token(t, w.m2, w.m2Admin)
	w.t1 = e.CreateTenant(t, m1Tok, "Tenant Oak")
	w.t2 = e.CreateTenant(t, m1Tok, "Tenant Pine")
	w.u1 = e.CreateTenant(t, m2Tok, "Tenant Elm")
	w.names = []string{m1.WorkspaceName, m2.WorkspaceName, "Tenant Oak", "Tenant Pine", "Tenant Elm"}
	resp, body := e.Do(t, http.MethodPost, "/workspaces/v1/credentials", m1Tok, map[string]any{"credentialName": "for oak",
		"associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + w.t1}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("tenant credential: %d %s", resp.StatusCode, body)
	}
	var cr struct{ ID, ClientSecret string }
	_ = json.Unmarshal(body, &cr)
	w.tenantCred = isoClient{cr.ID, cr.ClientSecret}
	w.tenantAdmin = e.UserWithRole(t, w.t1, rbac.RoleWorkspaceAdmin)
	return w
}

func (w *xnWorld) token(t *testing.T, ws string, c isoClient) string {
	t.Helper()
	return w.e.Token(t, ws, c.id, c.secret)
}

// mspToken is a fresh token of M1's administrator.
func (w *xnWorld) mspToken(t *testing.T) string { return w.token(t, w.m1, w.m1Admin) }

func (w *xnWorld) exchangeForm(subject string) url.Values {
	return url.Values{"grant_type": {token.GrantTokenExchange}, "subject_token": {subject},
		"subject_token_type": {token.TokenTypeAccessToken}}
}

// post sends a form to an issuer endpoint of a workspace; edit may change the request.
func (w *xnWorld) post(t *testing.T, ws, endpoint string, v url.Values, edit func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.e.Base+token.IssuerPrefix+ids.Hex(ws)+"/"+endpoint, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if edit != nil {
		edit(req)
	}
	return w.e.Send(t, req)
}

// exchanged exchanges subject into ws and returns the new token.
func (w *xnWorld) exchanged(t *testing.T, ws, subject string) string {
	t.Helper()
	resp, body := w.post(t, ws, "token", w.exchangeForm(subject), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %s", resp.StatusCode, body)
	}
	return accessToken(t, body)
}

// wantOAuthError checks an OAuth error answer: status, code, exactly the two RFC 6749 §5.2
// fields, uncacheable, and a description that names none of the workspaces.
func (w *xnWorld) wantOAuthError(t *testing.T, resp *http.Response, body []byte, status int, code string) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil || resp.StatusCode != status || m["error"] != code || len(m) != 2 || m["error_description"] == "" {
		t.Fatalf("got %d %s, want %d with error %q and error_description only", resp.StatusCode, body, status, code)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("error answer is cacheable: %v", resp.Header)
	}
	for _, s := range append([]string{w.m1, w.m2, w.t1, w.t2, w.u1, w.s, ids.Hex(w.m2), ids.Hex(w.u1), ids.Hex(w.t2)}, w.names...) {
		if strings.Contains(string(body), s) {
			t.Errorf("error answer names %q: %s", s, body)
		}
	}
	return m["error_description"]
}

// apiStatus is the status of reading the token's own workspace with it.
func (w *xnWorld) apiStatus(t *testing.T, tok string) int {
	t.Helper()
	return status(t, w.e, http.MethodGet, "/workspaces/v1/credentials", tok, nil)
}

func (w *xnWorld) introspect(t *testing.T, ws string, c isoClient, tok string) map[string]any {
	t.Helper()
	resp, body := w.post(t, ws, "introspect", url.Values{"token": {tok}, "client_id": {c.id}, "client_secret": {c.secret}}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: %d %s", resp.StatusCode, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func xnB64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func xnSegments(t *testing.T, tok string) (header, payload map[string]any, parts []string) {
	t.Helper()
	parts = strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", tok)
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, dst) != nil {
			t.Fatalf("token segment %d", i)
		}
	}
	return header, payload, parts
}

// xnForeignSigned signs the claims of tok again, under tok's header (kid included), with a
// key keyhold never had.
func xnForeignSigned(t *testing.T, tok string) string {
	t.Helper()
	header, payload, _ := xnSegments(t, tok)
	header["alg"] = "ES256"
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	input := xnB64(header) + "." + xnB64(payload)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestExchangeRefusesInvalidSubjectTokens(t *testing.T) {
	w := newXNWorld(t)
	e := w.e

	t.Run("expired", func(t *testing.T) {
		sub := w.mspToken(t)
		exp := int64(claimsOf(t, sub)["exp"].(float64))
		// One second past exp: inside the 30 s leeway the signature check allows for clock
		// skew between nodes, so it is the live expiry check that refuses it.
		w.clock.Set(time.Unix(exp+1, 0))
		resp, body := w.post(t, w.t1, "token", w.exchangeForm(sub), nil)
		w.wantOAuthError(t, resp, body, http.StatusBadRequest, xnBadSubject)
		w.clock.Add(10 * time.Minute)
		resp, body = w.post(t, w.t1, "token", w.exchangeForm(sub), nil)
		w.wantOAuthError(t, resp, body, http.StatusBadRequest, xnBadSubject)
	})

	t.Run("expiring at this very second", func(t *testing.T) {
		sub := w.mspToken(t)
		w.clock.Set(time.Unix(int64(claimsOf(t, sub)["exp"].(float64)), 0))
		resp, body := w.post(t, w.t1, "token", w.exchangeForm(sub), nil)
		w.wantOAuthError(t, resp, body, http.StatusBadRequest, xnBadSubject)
	})

	t.Run("revoked", func(t *testing.T) {
		sub := w.mspToken(t)
		resp, body := w.post(t, w.m1, "revoke", url.Values{"token": {sub}, "client_id": {w.m1Admin.id}, "client_secret": {w.m1Admin.secret}}, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", resp.StatusCode, body)
		}
		resp, body = w.post(t, w.t1, "token", w.exchangeForm(sub), nil)
		w.wantOAuthError(t, resp, body, http.StatusBadRequest, xnBadSubject)
	})

	t.Run("of a reset credential", func(t *testing.T) {
		u := e.UserWithRole(t, w.m1, rbac.RoleWorkspaceAdmin)
		sub := e.TokenFor(t, u)
		if got := w.exchanged(t, w.t1, sub); got == "" {
			t.Fatal("no token before the reset")
		}
		if got := status(t, e, http.MethodPost, "/workspaces/v1/credentials/"+u.ClientID+"/reset", w.mspToken(t), nil); got != http.StatusOK {
			t.Fatalf("reset: %d", got)
		}
		resp, body := w.post(t, w.t1, "token", w.exchangeForm(sub), nil)
		w.wantOAuthError(t, resp, body, http.StatusBadRequest, xnBadSubject)
	})

	t.Run("of a deleted credential", func(t *testing.T) {
		u := e.UserWithRole(t, w.m1, rbac.RoleWorkspaceAdmin)
		sub := e.TokenFor(t, u)
		if got := status(t, e, http.MethodDelete, "/workspaces/v1/credentials/"+u.ClientID, w.mspToken(t), nil); got != http.StatusNoContent {
			t.Fatalf("delete: %d", got)
		}
		resp, body := w.post(t, w.t1, "token", w.exchangeForm(sub), nil)
		w.wantOAuthError(t, resp, body, http.StatusBadRequest, xnBadSubject)
	})

	good := w.mspToken(t)
	header, payload, parts := xnSegments(t, good)
	noneHeader := map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}
	otherWS := map[string]any{}
	for k, v := range payload {
		otherWS[k] = v
	}
	otherWS["hpe_workspace_id"] = ids.Hex(w.m2)
	otherWS["iss"] = e.Base + token.IssuerPrefix + ids.Hex(w.m2)
	sig := []byte(parts[2])
	sig[10] ^= 1
	for _, tc := range []struct{ name, subject string }{
		{"malformed: not a JWT", "not-a-token"},
		{"malformed: three junk segments", "a.b.c"},
		{"malformed: two segments", parts[0] + "." + parts[1]},
		{"malformed: JSON, not a JWS", `{"sub":"api-client:x"}`},
		{"unsigned (alg none)", xnB64(noneHeader) + "." + parts[1] + "."},
		{"signature altered", parts[0] + "." + parts[1] + "." + string(sig)},
		{"claims altered to another MSP", parts[0] + "." + xnB64(otherWS) + "." + parts[2]},
		{"signed by a key keyhold never had", xnForeignSigned(t, good)},
		{"4096 bytes: the longest accepted, and not a token", strings.Repeat("a", token.MaxTokenLen)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := w.post(t, w.t1, "token", w.exchangeForm(tc.subject), nil)
			w.wantOAuthError(t, resp, body, http.StatusBadRequest, xnBadSubject)
		})
	}
	t.Run("oversized: 4097 bytes", func(t *testing.T) {
		resp, body := w.post(t, w.t1, "token", w.exchangeForm(good+strings.Repeat("A", token.MaxTokenLen+1-len(good))), nil)
		if d := w.wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request"); !strings.Contains(d, "too long") {
			t.Errorf("description %q", d)
		}
	})
	// The refusals above were about the subject: the good token still exchanges.
	if w.exchanged(t, w.t1, good) == "" {
		t.Fatal("the untouched token does not exchange")
	}
}

func TestExchangeRefusesMalformedRequests(t *testing.T) {
	w := newXNWorld(t)
	sub := w.mspToken(t)
	basic := func(c isoClient) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret)) }
	}
	with := func(k, v string) url.Values {
		f := w.exchangeForm(sub)
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	also := func(kv ...string) url.Values {
		f := w.exchangeForm(sub)
		for i := 0; i < len(kv); i += 2 {
			f.Add(kv[i], kv[i+1])
		}
		return f
	}
	const tt = "urn:ietf:params:oauth:token-type:"
	for _, tc := range []struct {
		name   string
		form   url.Values
		edit   func(*http.Request)
		status int
		code   string
	}{
		{"no subject_token", with("subject_token", ""), nil, 400, "invalid_request"},
		{"subject_token twice", also("subject_token", sub), nil, 400, "invalid_request"},
		{"no subject_token_type", with("subject_token_type", ""), nil, 400, "invalid_request"},
		{"subject_token_type jwt", with("subject_token_type", tt+"jwt"), nil, 400, "invalid_request"},
		{"subject_token_type id_token", with("subject_token_type", tt+"id_token"), nil, 400, "invalid_request"},
		{"subject_token_type refresh_token", with("subject_token_type", tt+"refresh_token"), nil, 400, "invalid_request"},
		{"subject_token_type without its URN prefix", with("subject_token_type", "access_token"), nil, 400, "invalid_request"},
		{"requested_token_type refresh_token", with("requested_token_type", tt+"refresh_token"), nil, 400, "invalid_request"},
		{"requested_token_type id_token", with("requested_token_type", tt+"id_token"), nil, 400, "invalid_request"},
		{"requested_token_type jwt", with("requested_token_type", tt+"jwt"), nil, 400, "invalid_request"},
		{"requested_token_type saml2", with("requested_token_type", tt+"saml2"), nil, 400, "invalid_request"},
		{"actor_token", also("actor_token", sub, "actor_token_type", token.TokenTypeAccessToken), nil, 400, "invalid_request"},
		{"actor_token without its type", also("actor_token", sub), nil, 400, "invalid_request"},
		{"actor_token_type alone", also("actor_token_type", token.TokenTypeAccessToken), nil, 400, "invalid_request"},
		{"audience", also("audience", w.e.Base+token.IssuerPrefix+ids.Hex(w.t1)), nil, 400, "invalid_target"},
		{"resource", also("resource", w.e.Base+"/workspaces/v1/credentials"), nil, 400, "invalid_target"},
		{"audience and resource", also("audience", "keyhold", "resource", w.e.Base), nil, 400, "invalid_target"},
		// Client authentication is accepted only for the subject token's own client (the
		// accepted forms: TestExchangeWithClientAuthentication).
		{"Basic with the tenant's credential", nil, basic(w.tenantCred), 400, "invalid_request"},
		{"Basic with another MSP's credential", nil, basic(w.m2Admin), 400, "invalid_request"},
		{"Basic with an unknown client", nil, basic(isoClient{ids.New(), "nope"}), 401, "invalid_client"},
		{"Basic with the right client and a wrong secret", nil, basic(isoClient{w.m1Admin.id, "wrong"}), 401, "invalid_client"},
		{"client_id and client_secret of the tenant's credential in the body", also("client_id", w.tenantCred.id, "client_secret", w.tenantCred.secret), nil, 400, "invalid_request"},
		{"client_id alone in the body", also("client_id", w.tenantCred.id), nil, 400, "invalid_request"},
		{"client_id alone in the body, not an id", also("client_id", "not-a-client"), nil, 400, "invalid_request"},
		{"client_secret alone in the body", also("client_secret", w.tenantCred.secret), nil, 400, "invalid_request"},
		{"malformed Basic header", nil, func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }, 401, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.form
			if f == nil {
				f = w.exchangeForm(sub)
			}
			resp, body := w.post(t, w.t1, "token", f, tc.edit)
			w.wantOAuthError(t, resp, body, tc.status, tc.code)
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without a Basic challenge: %v", resp.Header)
			}
		})
	}
	// requested_token_type naming an access token is accepted, and nothing above spent the
	// subject: it still exchanges.
	resp, body := w.post(t, w.t1, "token", with("requested_token_type", token.TokenTypeAccessToken), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"issued_token_type":"`+token.TokenTypeAccessToken+`"`) {
		t.Fatalf("requested_token_type access_token: %d %s", resp.StatusCode, body)
	}
}

func TestExchangeRefusesWrongTargetsAndSubjects(t *testing.T) {
	w := newXNWorld(t)
	e := w.e
	msp := w.mspToken(t)
	exchanged := w.exchanged(t, w.t1, msp)
	tenantCredTok := w.token(t, w.t1, w.tenantCred)
	tenantAdminTok := e.TokenFor(t, w.tenantAdmin)
	noRole := e.TokenFor(t, e.UserWithRole(t, w.m1, ""))

	var descs []string
	for _, tc := range []struct{ name, target, subject string }{
		{"the standard workspace", w.s, msp},
		{"the MSP itself", w.m1, msp},
		{"another MSP", w.m2, msp},
		{"a sibling MSP's tenant", w.u1, msp},
	} {
		t.Run("not a tenant of the subject's MSP: "+tc.name, func(t *testing.T) {
			resp, body := w.post(t, tc.target, "token", w.exchangeForm(tc.subject), nil)
			descs = append(descs, w.wantOAuthError(t, resp, body, http.StatusBadRequest, xnBadSubject))
		})
	}
	// A sibling MSP's tenant is refused exactly as a workspace that is nobody's tenant.
	for _, d := range descs[1:] {
		if d != descs[0] {
			t.Errorf("refusals differ by target: %q", descs)
		}
	}
	t.Run("a workspace that does not exist", func(t *testing.T) {
		resp, body := w.post(t, ids.New(), "token", w.exchangeForm(msp), nil)
		w.wantOAuthError(t, resp, body, http.StatusNotFound, "invalid_request")
	})
	for _, tc := range []struct{ name, target, subject string }{
		{"a tenant credential's token back to the MSP", w.m1, tenantCredTok},
		{"a tenant credential's token into a sibling tenant", w.t2, tenantCredTok},
		{"a tenant credential's token into its own tenant", w.t1, tenantCredTok},
		{"a tenant administrator's token back to the MSP", w.m1, tenantAdminTok},
		{"a tenant administrator's token into a sibling tenant", w.t2, tenantAdminTok},
		{"an exchanged token back to the MSP", w.m1, exchanged},
		{"an exchanged token as subject again, same tenant", w.t1, exchanged},
		{"an exchanged token as subject again, sibling tenant", w.t2, exchanged},
		{"an exchanged token into the sibling MSP's tenant", w.u1, exchanged},
		{"an MSP member without any role", w.t1, noRole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := w.post(t, tc.target, "token", w.exchangeForm(tc.subject), nil)
			w.wantOAuthError(t, resp, body, http.StatusBadRequest, xnBadSubject)
		})
	}
	// None of those subjects was spent or changed: each still works where it belongs.
	for name, tok := range map[string]string{"MSP": msp, "exchanged": exchanged, "tenant credential": tenantCredTok, "tenant administrator": tenantAdminTok} {
		if got := w.apiStatus(t, tok); got != http.StatusOK {
			t.Errorf("%s token after the refusals: %d", name, got)
		}
	}
}

func TestExchangedTokenNeverOutlivesItsSubject(t *testing.T) {
	w := newXNWorld(t)
	sub := w.mspToken(t)
	sc := claimsOf(t, sub)
	iat, exp := int64(sc["iat"].(float64)), int64(sc["exp"].(float64))
	if exp-iat != 60 {
		t.Fatalf("subject lifetime %d s, want the configured 60", exp-iat)
	}
	var last string
	for _, after := range []int64{0, 1, 30, 59} {
		w.clock.Set(time.Unix(iat+after, 0))
		resp, body := w.post(t, w.t1, "token", w.exchangeForm(sub), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("exchange %d s after issue: %d %s", after, resp.StatusCode, body)
		}
		var tr struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
		}
		_ = json.Unmarshal(body, &tr)
		xc := claimsOf(t, tr.AccessToken)
		xexp, xiat := int64(xc["exp"].(float64)), int64(xc["iat"].(float64))
		// Never later than the subject's exp; and since the configured lifetime would reach
		// beyond it, exactly the subject's exp, with expires_in counting down to it.
		if xexp > exp {
			t.Errorf("exchanged %d s after the subject's issue: exp %d outlives the subject's %d", after, xexp, exp)
		}
		if xexp != exp || xiat != iat+after || tr.ExpiresIn != exp-(iat+after) {
			t.Errorf("exchanged %d s after the subject's issue: iat %d exp %d expires_in %d; subject exp %d", after, xiat, xexp, tr.ExpiresIn, exp)
		}
		last = tr.AccessToken
	}
	if got := w.apiStatus(t, last); got != http.StatusOK {
		t.Fatalf("exchanged token before its expiry: %d", got)
	}
	// At the subject's expiry the exchanged token ends with it.
	w.clock.Set(time.Unix(exp, 0))
	if got := w.apiStatus(t, last); got != http.StatusUnauthorized {
		t.Errorf("exchanged token at the subject's expiry: %d, want 401", got)
	}
	if m := w.introspect(t, w.t1, w.tenantCred, last); len(m) != 1 || m["active"] != false {
		t.Errorf("introspection of the expired exchanged token: %v", m)
	}
}

func TestExchangedTokenIntrospectionAndRevocation(t *testing.T) {
	w := newXNWorld(t)
	sub := w.mspToken(t)
	x := w.exchanged(t, w.t1, sub)
	sc := claimsOf(t, sub)

	// Active at the tenant's issuer, for any client of the tenant.
	tenantAdminClient := isoClient{w.tenantAdmin.ClientID, w.tenantAdmin.Secret}
	for name, c := range map[string]isoClient{"MSP's credential for the tenant": w.tenantCred, "tenant administrator's credential": tenantAdminClient} {
		m := w.introspect(t, w.t1, c, x)
		act, _ := m["act"].(map[string]any)
		if m["active"] != true || m["hpe_workspace_id"] != ids.Hex(w.t1) || m["iss"] != w.e.Base+token.IssuerPrefix+ids.Hex(w.t1) ||
			m["client_id"] != w.m1Admin.id || m["sub"] != sc["sub"] || m["exp"] != sc["exp"] ||
			act == nil || act["hpe_workspace_id"] != ids.Hex(w.m1) || act["sub"] != sc["sub"] || act["client_id"] != w.m1Admin.id {
			t.Errorf("introspected at the tenant with the %s: %v", name, m)
		}
	}
	// Inactive, and nothing more, everywhere else: the MSP's own issuer included.
	t2Cred := w.tenantCredFor(t, w.t2)
	for name, at := range map[string]struct {
		ws string
		c  isoClient
	}{"the MSP": {w.m1, w.m1Admin}, "a sibling tenant": {w.t2, t2Cred}, "another MSP": {w.m2, w.m2Admin}} {
		if m := w.introspect(t, at.ws, at.c, x); len(m) != 1 || m["active"] != false {
			t.Errorf("introspected at %s: %v, want exactly {\"active\": false}", name, m)
		}
	}

	revoke := func(ws string, c isoClient, tok string) (*http.Response, []byte) {
		return w.post(t, ws, "revoke", url.Values{"token": {tok}, "client_id": {c.id}, "client_secret": {c.secret}}, nil)
	}
	// The tenant's clients did not get the token: they may not revoke it (RFC 7009 §2.1).
	resp, body := revoke(w.t1, w.tenantCred, x)
	w.wantOAuthError(t, resp, body, http.StatusBadRequest, "unauthorized_client")
	// Another MSP's client: not its token, 200 and nothing happens (RFC 7009 §2.2).
	if resp, body = revoke(w.m2, w.m2Admin, x); resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("revocation by another MSP: %d %s", resp.StatusCode, body)
	}
	// Revoking the subject does not reach the token exchanged from it (docs/api.md).
	other := w.mspToken(t)
	x2 := w.exchanged(t, w.t1, other)
	if resp, _ = revoke(w.m1, w.m1Admin, other); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke the second subject: %d", resp.StatusCode)
	}
	if got := w.apiStatus(t, other); got != http.StatusUnauthorized {
		t.Errorf("revoked subject: %d, want 401", got)
	}
	if got := w.apiStatus(t, x2); got != http.StatusOK {
		t.Errorf("token exchanged from a subject revoked later: %d, want 200", got)
	}
	if got := w.apiStatus(t, x); got != http.StatusOK {
		t.Fatalf("exchanged token after the refused revocations: %d", got)
	}
	// "Revoke those themselves": the client the exchanged token was issued to revokes it at
	// its own (the MSP's) issuer; the subject is not touched.
	if resp, body = revoke(w.m1, w.m1Admin, x); resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("revocation by the token's own client: %d %s", resp.StatusCode, body)
	}
	if got := w.apiStatus(t, x); got != http.StatusUnauthorized {
		t.Errorf("exchanged token after its client revoked it: %d, want 401", got)
	}
	if m := w.introspect(t, w.t1, w.tenantCred, x); len(m) != 1 || m["active"] != false {
		t.Errorf("revoked exchanged token introspects %v", m)
	}
	if got := w.apiStatus(t, sub); got != http.StatusOK {
		t.Errorf("the subject after its exchanged token was revoked: %d, want 200", got)
	}
	if resp, body = w.post(t, w.t1, "token", w.exchangeForm(sub), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the subject exchanges again after the exchanged token was revoked: %d %s", resp.StatusCode, body)
	}
}

// tenantCredFor makes M1's credential for one of its tenants.
func (w *xnWorld) tenantCredFor(t *testing.T, tenant string) isoClient {
	t.Helper()
	resp, body := w.e.Do(t, http.MethodPost, "/workspaces/v1/credentials", w.mspToken(t), map[string]any{"credentialName": "for " + tenant,
		"associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + tenant}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("tenant credential: %d %s", resp.StatusCode, body)
	}
	var cr struct{ ID, ClientSecret string }
	_ = json.Unmarshal(body, &cr)
	return isoClient{cr.ID, cr.ClientSecret}
}
