package app_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
)

// hostileCase is one request that must be refused with a 4xx in the right error format and
// leave the store as it was.
type hostileCase struct {
	name   string
	method string
	// path, auth and body may hold the placeholders of hostileFixture.replacer.
	path   string
	auth   string // the Authorization header; "" sends none
	ctype  string // the Content-Type header; "" sends none
	body   string // "" sends no body
	status int
	// subject, for a 400 of the JSON API, is the input the error must name.
	subject string
	// oauth marks the token endpoint: RFC 6749 §5.2 errors, with oauthCode as the error code.
	oauth     bool
	oauthCode string
}

// Placeholders replaced in a hostileCase.
const (
	phAdmin  = "{admin}"  // the administrator's access token
	phCred   = "{cred}"   // the administrator's credential id
	phSecret = "{secret}" // its secret
	phWS     = "{ws}"     // the workspace id, 32 hex digits
	phNone   = "{none}"   // an alg=none token carrying the administrator's claims
	phForged = "{forged}" // the administrator's token re-signed with another key, same kid
	phTamper = "{tamper}" // the administrator's token with its payload altered
)

const hostileJSONType = "application/json"
const hostileFormType = "application/x-www-form-urlencoded"

func hostileCases() []hostileCase {
	const bearer = "Bearer " + phAdmin
	const tokenPath = "/authorization/v2/oauth2/" + phWS + "/token"
	post := func(name, body string, status int, subject string) hostileCase {
		return hostileCase{name: name, method: http.MethodPost, path: credsPath, auth: bearer, ctype: hostileJSONType,
			body: body, status: status, subject: subject}
	}
	get := func(name, path, auth string, status int, subject string) hostileCase {
		return hostileCase{name: name, method: http.MethodGet, path: path, auth: auth, status: status, subject: subject}
	}
	tok := func(name, ctype, body, auth string, status int, code string) hostileCase {
		return hostileCase{name: name, method: http.MethodPost, path: tokenPath, auth: auth, ctype: ctype, body: body,
			status: status, oauth: true, oauthCode: code}
	}
	big := strings.Repeat("a", 70<<10)
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	return []hostileCase{
		// Bodies of POST /workspaces/v1/credentials.
		post("invalid JSON", `{"credentialName": x}`, 400, "body"),
		post("truncated JSON", `{"credentialName": "abc"`, 400, "body"),
		post("truncated inside a string", `{"credentialName": "ab`, 400, "body"),
		post("JSON array", `[{"credentialName": "x"}]`, 400, "body"),
		post("JSON string", `"x"`, 400, "body"),
		post("JSON number", `42`, 400, "body"),
		post("JSON null", `null`, 400, "credentialName"),
		post("empty object", `{}`, 400, "credentialName"),
		post("two objects", `{"credentialName": "a"}{"credentialName": "b"}`, 400, "body"),
		post("trailing garbage", `{"credentialName": "a"} x`, 400, "body"),
		post("byte order mark", "\ufeff{\"credentialName\": \"a\"}", 400, "body"),
		post("name is a number", `{"credentialName": 5}`, 400, "credentialName"),
		post("name is a huge number", `{"credentialName": 1e999}`, 400, "credentialName"),
		post("name is an object", `{"credentialName": {"a": 1}}`, 400, "credentialName"),
		post("name is null", `{"credentialName": null}`, 400, "credentialName"),
		post("name is an array", `{"credentialName": ["a"]}`, 400, "credentialName"),
		post("name is a boolean", `{"credentialName": true}`, 400, "credentialName"),
		post("unknown field", `{"credentialName": "a", "isAdmin": true}`, 400, "isAdmin"),
		post("unknown field, case variant", `{"credentialname": "a"}`, 400, "credentialname"),
		post("unknown field, Unicode case folding", `{"credentialName": "a", "aſsociatedTenant": {"resourceUri": "/workspaces/v1/workspaces/`+ids.New()+`"}}`, 400, "aſsociatedTenant"),
		post("nested unknown field, case variant", `{"credentialName": "a", "associatedTenant": {"RESOURCEURI": "/workspaces/v1/workspaces/x"}}`, 400, "RESOURCEURI"),
		post("nested unknown field", `{"credentialName": "a", "associatedTenant": {"resourceUri": "/workspaces/v1/workspaces/`+ids.New()+`", "owner": "x"}}`, 400, "owner"),
		post("associatedTenant is a string", `{"credentialName": "a", "associatedTenant": "/workspaces/v1/workspaces/x"}`, 400, "associatedTenant"),
		post("resourceUri is a number", `{"credentialName": "a", "associatedTenant": {"resourceUri": 7}}`, 400, "associatedTenant.resourceUri"),
		post("ownerId is a number", `{"credentialName": "a", "ownerId": 7}`, 400, "ownerId"),
		post("70 KB body", `{"credentialName": "`+big+`"}`, 413, ""),
		post("deeply nested", `{"credentialName": "a", "ownerId": `+deep+`}`, 400, ""),
		post("invalid UTF-8", "{\"credentialName\": \"a\xff\xfeb\"}", 400, "body"),
		post("overlong UTF-8 encoding", "{\"credentialName\": \"\xc0\xaf\"}", 400, "body"),
		post("escaped NUL in the name", `{"credentialName": "a\u0000b"}`, 400, "credentialName"),
		// encoding/json stored an unpaired surrogate escape as U+FFFD (issue 9 item 11).
		post("lone high surrogate escape in the name", `{"credentialName": "\ud800"}`, 400, "credentialName"),
		post("lone low surrogate escape in the name", `{"credentialName": "a\udc00b"}`, 400, "credentialName"),
		post("lone surrogate escape in a nested field", `{"credentialName": "a", "associatedTenant": {"resourceUri": "/workspaces/v1/workspaces/\udbff"}}`, 400, "associatedTenant.resourceUri"),
		post("raw NUL byte in the name", "{\"credentialName\": \"a\x00b\"}", 400, "body"),
		post("escape character in the name", `{"credentialName": "a\u001b[31mb"}`, 400, "credentialName"),
		post("DEL in the name", `{"credentialName": "a\u007fb"}`, 400, "credentialName"),
		post("C1 control in the name", `{"credentialName": "a\u0085b"}`, 400, "credentialName"),
		post("empty body", ``, 400, "body"),
		post("whitespace body", " \n\t ", 400, "body"),
		{name: "text/plain", method: http.MethodPost, path: credsPath, auth: bearer, ctype: "text/plain",
			body: `{"credentialName": "a"}`, status: 415},
		{name: "form content type", method: http.MethodPost, path: credsPath, auth: bearer, ctype: hostileFormType,
			body: `credentialName=a`, status: 415},
		{name: "malformed content type", method: http.MethodPost, path: credsPath, auth: bearer, ctype: "application/json; ===",
			body: `{"credentialName": "a"}`, status: 415},

		// Ids in the path.
		{name: "id not a UUID", method: http.MethodDelete, path: credsPath + "/not-a-uuid", auth: bearer, status: 400, subject: "credentialId"},
		{name: "id dot-dot, escaped", method: http.MethodDelete, path: credsPath + "/..%2F..%2Fetc", auth: bearer, status: 400, subject: "credentialId"},
		{name: "id dot-dot", method: http.MethodDelete, path: credsPath + "/../../etc", auth: bearer, status: 404},
		{name: "id of 37 characters", method: http.MethodDelete, path: credsPath + "/" + ids.New() + "0", auth: bearer, status: 400, subject: "credentialId"},
		{name: "id NUL", method: http.MethodDelete, path: credsPath + "/%00", auth: bearer, status: 400, subject: "credentialId"},
		{name: "id with NUL suffix", method: http.MethodDelete, path: credsPath + "/" + phCred + "%00", auth: bearer, status: 400, subject: "credentialId"},
		{name: "id braced", method: http.MethodPost, path: credsPath + "/%7B" + phCred + "%7D/reset", auth: bearer, status: 400, subject: "credentialId"},
		{name: "id urn", method: http.MethodDelete, path: credsPath + "/urn:uuid:" + phCred, auth: bearer, status: 400, subject: "credentialId"},
		{name: "body on reset", method: http.MethodPost, path: credsPath + "/" + phCred + "/reset", auth: bearer, ctype: hostileJSONType,
			body: `{"credentialName": "renamed"}`, status: 400, subject: "body"},

		// Query parameters of the list.
		get("unknown query parameter", credsPath+"?limit=5", bearer, 400, "limit"),
		get("filter twice", credsPath+"?filter=credentialName%20eq%20%27a%27&filter=tenantId%20eq%20%27b%27", bearer, 400, "filter"),
		get("filter of 3000 characters", credsPath+"?filter=credentialName%20eq%20%27"+strings.Repeat("x", 3000)+"%27", bearer, 400, "filter"),
		get("filter with SQL injection", credsPath+"?filter=tenantId%20eq%20%27%27%20or%201%3D1%20--%27", bearer, 400, "filter"),
		get("filter with SQL in a string", credsPath+"?filter=tenantId%20eq%20%27%27%27%3B%20DROP%20TABLE%20credentials%3B%20--%27", bearer, 400, "filter"),
		get("filter with NUL", credsPath+"?filter=credentialName%20eq%20%27a%00%27", bearer, 400, "filter"),
		get("filter with a bad escape", credsPath+"?filter=tenantId%20eq%20%27%zz%27", bearer, 400, "query"),
		get("filter with a raw semicolon", credsPath+"?filter=credentialName%20eq%20%27a;b%27", bearer, 400, "query"),
		get("filter on the secret", credsPath+"?filter=secretHash%20ne%20null", bearer, 400, "filter"),

		// Authentication.
		get("no Authorization", credsPath, "", 401, ""),
		get("Bearer without a token", credsPath, "Bearer ", 401, ""),
		get("Bearer and spaces", credsPath, "Bearer    ", 401, ""),
		get("10 KB bearer token", credsPath, "Bearer "+strings.Repeat("A", 10<<10), 401, ""),
		get("alg=none token", credsPath, "Bearer "+phNone, 401, ""),
		get("token signed by another key", credsPath, "Bearer "+phForged, 401, ""),
		get("token with an altered payload", credsPath, "Bearer "+phTamper, 401, ""),
		get("expired-looking garbage", credsPath, "Bearer eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJleHAiOjF9.c2lnbmF0dXJl", 401, ""),
		get("Basic instead of Bearer", credsPath, "Basic "+base64.StdEncoding.EncodeToString([]byte(phCred+":"+phSecret)), 401, ""),
		get("token without a scheme", credsPath, phAdmin, 401, ""),

		// Routing.
		{name: "PUT on the collection", method: http.MethodPut, path: credsPath, auth: bearer, ctype: hostileJSONType, body: `{"credentialName": "a"}`, status: 405},
		{name: "PATCH on a credential", method: http.MethodPatch, path: credsPath + "/" + phCred, auth: bearer, ctype: hostileJSONType, body: `{}`, status: 405},
		{name: "GET on reset", method: http.MethodGet, path: credsPath + "/" + phCred + "/reset", auth: bearer, status: 405},
		get("unknown path", "/workspaces/v1/credentialz", bearer, 404, ""),
		get("unknown path without a token", "/workspaces/v2/anything", "", 404, ""),

		// The token endpoint.
		tok("token: no grant_type", hostileFormType, "client_id="+phCred+"&client_secret="+phSecret, "", 400, "invalid_request"),
		tok("token: unsupported grant", hostileFormType, "grant_type=password&username=a&password=b", "", 400, "unsupported_grant_type"),
		tok("token: JSON body", hostileJSONType, `{"grant_type":"client_credentials"}`, "", 400, "invalid_request"),
		tok("token: no content type", "", "grant_type=client_credentials", "", 400, "invalid_request"),
		tok("token: no client authentication", hostileFormType, "grant_type=client_credentials", "", 401, "invalid_client"),
		tok("token: wrong secret", hostileFormType, "grant_type=client_credentials&client_id="+phCred+"&client_secret=wrong", "", 401, "invalid_client"),
		tok("token: unknown client", hostileFormType, "grant_type=client_credentials&client_id="+ids.New()+"&client_secret="+phSecret, "", 401, "invalid_client"),
		tok("token: repeated parameter", hostileFormType, "grant_type=client_credentials&grant_type=client_credentials&client_id="+phCred+"&client_secret="+phSecret, "", 400, "invalid_request"),
		tok("token: invalid UTF-8", hostileFormType, "grant_type=client_credentials&client_id=%ff%fe&client_secret=x", "", 400, "invalid_request"),
		tok("token: client_id of 600 bytes", hostileFormType, "grant_type=client_credentials&client_id="+strings.Repeat("a", 600)+"&client_secret=x", "", 400, "invalid_request"),
		tok("token: 20 KB body", hostileFormType, "grant_type=client_credentials&pad="+strings.Repeat("a", 20<<10), "", 400, "invalid_request"),
		tok("token: malformed scope", hostileFormType, "grant_type=client_credentials&scope=a%20%20b&client_id="+phCred+"&client_secret="+phSecret, "", 400, "invalid_scope"),
		tok("token: Basic and post together", hostileFormType, "grant_type=client_credentials&client_secret="+phSecret,
			"Basic "+base64.StdEncoding.EncodeToString([]byte(phCred+":"+phSecret)), 400, "invalid_request"),
		tok("token: malformed Basic", hostileFormType, "grant_type=client_credentials", "Basic !!!notbase64", 401, "invalid_client"),
		tok("token: Bearer instead of client authentication", hostileFormType, "grant_type=client_credentials", "Bearer "+phAdmin, 401, "invalid_client"),
		{name: "token: parameters in the URL", method: http.MethodPost, path: tokenPath + "?grant_type=client_credentials&client_id=" + phCred + "&client_secret=" + phSecret,
			ctype: hostileFormType, body: "", status: 400, oauth: true, oauthCode: "invalid_request"},
		{name: "token: unknown issuer", method: http.MethodPost, path: "/authorization/v2/oauth2/" + ids.Hex(ids.New()) + "/token",
			ctype: hostileFormType, body: "grant_type=client_credentials", status: 404, oauth: true, oauthCode: "invalid_request"},
		{name: "token: malformed issuer", method: http.MethodPost, path: "/authorization/v2/oauth2/not-a-workspace/token",
			ctype: hostileFormType, body: "grant_type=client_credentials", status: 404, oauth: true, oauthCode: "invalid_request"},
	}
}

// hostileFixture fills in the placeholders of the hostile cases.
func hostileFixture(t *testing.T, e *apptest.Env, adminTok string) *strings.Replacer {
	t.Helper()
	parts := strings.Split(adminTok, ".")
	if len(parts) != 3 {
		t.Fatalf("admin token %q is not a compact JWS", adminTok)
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	// alg=none with the real claims.
	none := enc(map[string]any{"alg": "none", "typ": h["typ"], "kid": h["kid"]}) + "." + parts[1] + "."
	// The real header and claims, signed with a key of our own.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forgedHeader := enc(map[string]any{"alg": "ES256", "typ": h["typ"], "kid": h["kid"]})
	digest := sha256.Sum256([]byte(forgedHeader + "." + parts[1]))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	forged := forgedHeader + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	// The real signature over altered claims.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = "user:" + ids.New()
	tamper := parts[0] + "." + enc(claims) + "." + parts[2]

	return strings.NewReplacer(phAdmin, adminTok, phCred, e.Admin.ClientID, phSecret, e.Admin.ClientSecret,
		phWS, ids.Hex(e.Admin.WorkspaceID), phNone, none, phForged, forged, phTamper, tamper)
}

func TestHostileRequests(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	ctx := t.Context()
	adminTok := e.AdminToken(t)
	ph := hostileFixture(t, e, adminTok)
	cases := hostileCases()
	if len(cases) < 30 {
		t.Fatalf("%d cases; the table must hold at least 30", len(cases))
	}

	before, _ := listCreds(t, e, adminTok, "")
	seqBefore, err := e.Node.Store.LatestSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body *bytes.Reader
			if tc.body != "" {
				body = bytes.NewReader([]byte(ph.Replace(tc.body)))
			} else {
				body = bytes.NewReader(nil)
			}
			req, err := http.NewRequestWithContext(ctx, tc.method, e.Base+ph.Replace(tc.path), body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header["Authorization"] = []string{ph.Replace(tc.auth)}
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, raw := hostileSend(t, req)
			if resp.StatusCode >= 500 {
				t.Fatalf("server error %d: %s", resp.StatusCode, raw)
			}
			if tc.oauth {
				hostileWantOAuth(t, resp, raw, tc.status, tc.oauthCode)
				return
			}
			g := wantCredErr(t, resp, raw, tc.status)
			if tc.subject != "" && !g.names(tc.subject) {
				t.Errorf("400 names %v, want %q: %s", g.subjects(), tc.subject, raw)
			}
			if tc.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
			if strings.Contains(string(raw), e.Admin.ClientSecret) || strings.Contains(string(raw), adminTok) {
				t.Errorf("the error echoes a secret: %s", raw)
			}
		})
	}

	after, _ := listCreds(t, e, adminTok, "")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the hostile requests changed the credentials:\nbefore %+v\nafter  %+v", before, after)
	}
	seqAfter, err := e.Node.Store.LatestSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if seqAfter != seqBefore {
		t.Errorf("the hostile requests wrote %d change-log entries", seqAfter-seqBefore)
	}
	// The administrator's credential still works.
	e.AdminToken(t)
}

// hostileWantOAuth checks an RFC 6749 §5.2 error response.
func hostileWantOAuth(t testing.TB, resp *http.Response, raw []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, raw)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	var oe struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&oe); err != nil {
		t.Fatalf("body %s is not an RFC 6749 error: %v", raw, err)
	}
	if oe.Error != code || oe.ErrorDescription == "" {
		t.Errorf("error %q (%q), want %q with a description", oe.Error, oe.ErrorDescription, code)
	}
}

// hostileSend sends a request without following redirects, so that the test sees what the
// server itself answers.
func hostileSend(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var reqBody []byte
	if req.GetBody != nil {
		if rd, err := req.GetBody(); err == nil {
			reqBody, _ = io.ReadAll(rd)
		}
	}
	apptest.CheckDocumented(t, req, reqBody, resp, raw)
	return resp, raw
}
