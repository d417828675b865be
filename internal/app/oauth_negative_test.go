package app_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
)

// Every malformed or unauthenticated token request gets an RFC 6749 §5.2 error with the
// right status, and none of them issues a token.
func TestOAuthTokenEndpointNegatives(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	a := e.Admin
	b := e.CreateWorkspace(t, "other", "", "b-admin@example.test")
	e.AdminToken(t) // the issued-tokens series now exists
	unknownID := ids.New()

	post := func(u string, v url.Values) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request { return oaFormRequest(t, u, v, nil) }
	}
	raw := func(u, contentType, body string, header ...string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			return req
		}
	}
	good := oaClientForm(a.ClientID, a.ClientSecret)
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = append([]string(nil), vs...)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(out, kv[i])
			} else {
				out.Set(kv[i], kv[i+1])
			}
		}
		return out
	}
	tokenURL := a.TokenURL

	cases := []struct {
		name      string
		req       func(t *testing.T) *http.Request
		status    int
		code      string
		challenge bool // a Basic challenge is required
	}{
		{"wrong secret", post(tokenURL, with(good, "client_secret", strings.Repeat("0", 64))), 401, "invalid_client", false},
		{"unknown client id", post(tokenURL, oaClientForm(unknownID, strings.Repeat("0", 64))), 401, "invalid_client", false},
		{"another workspace's credential", post(tokenURL, oaClientForm(b.ClientID, b.ClientSecret)), 401, "invalid_client", false},
		{"missing client authentication", post(tokenURL, url.Values{"grant_type": {"client_credentials"}}), 401, "invalid_client", false},
		{"client id without secret", post(tokenURL, with(good, "client_secret", "")), 401, "invalid_client", false},
		{"Basic with a wrong secret", func(t *testing.T) *http.Request {
			return oaFormRequest(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, &[2]string{a.ClientID, "wrong"})
		}, 401, "invalid_client", true},
		{"Basic and client_secret in the body", func(t *testing.T) *http.Request {
			return oaFormRequest(t, tokenURL, good, &[2]string{a.ClientID, a.ClientSecret})
		}, 400, "invalid_request", false},
		{"Basic naming another client than the body", func(t *testing.T) *http.Request {
			return oaFormRequest(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {b.ClientID}},
				&[2]string{a.ClientID, a.ClientSecret})
		}, 400, "invalid_request", false},
		{"malformed Basic header", raw(tokenURL, "application/x-www-form-urlencoded", "grant_type=client_credentials",
			"Authorization", "Basic !!!not-base64"), 401, "invalid_client", true},
		{"Basic without a colon", raw(tokenURL, "application/x-www-form-urlencoded", "grant_type=client_credentials",
			"Authorization", "Basic "+"Zm9vYmFy"), 401, "invalid_client", true},
		{"Bearer at the token endpoint", raw(tokenURL, "application/x-www-form-urlencoded", "grant_type=client_credentials",
			"Authorization", "Bearer abc"), 401, "invalid_client", true},
		{"missing grant_type", post(tokenURL, with(good, "grant_type", "")), 400, "invalid_request", false},
		{"grant_type password", post(tokenURL, with(good, "grant_type", "password")), 400, "unsupported_grant_type", false},
		{"grant_type authorization_code", post(tokenURL, with(good, "grant_type", "authorization_code")), 400, "unsupported_grant_type", false},
		{"repeated grant_type", raw(tokenURL, "application/x-www-form-urlencoded",
			good.Encode()+"&grant_type=client_credentials"), 400, "invalid_request", false},
		{"repeated client_secret", raw(tokenURL, "application/x-www-form-urlencoded",
			good.Encode()+"&client_secret=x"), 400, "invalid_request", false},
		{"credentials in the URL query", raw(tokenURL+"?"+good.Encode(), "application/x-www-form-urlencoded", ""), 400, "invalid_request", false},
		{"query string beside a good body", raw(tokenURL+"?x=1", "application/x-www-form-urlencoded", good.Encode()), 400, "invalid_request", false},
		{"JSON body", raw(tokenURL, "application/json", `{"grant_type":"client_credentials","client_id":"`+a.ClientID+
			`","client_secret":"`+a.ClientSecret+`"}`), 400, "invalid_request", false},
		{"no content type", raw(tokenURL, "", good.Encode()), 400, "invalid_request", false},
		{"multipart body", raw(tokenURL, "multipart/form-data; boundary=x", "--x--"), 400, "invalid_request", false},
		{"body over 16 KiB", raw(tokenURL, "application/x-www-form-urlencoded",
			good.Encode()+"&pad="+strings.Repeat("a", 16<<10)), 400, "invalid_request", false},
		{"parameter over the length bound", post(tokenURL, with(good, "pad", strings.Repeat("a", 600))), 400, "invalid_request", false},
		{"invalid UTF-8 value", raw(tokenURL, "application/x-www-form-urlencoded", good.Encode()+"&x=%ff%fe"), 400, "invalid_request", false},
		{"undecodable form", raw(tokenURL, "application/x-www-form-urlencoded", good.Encode()+"&x=%zz"), 400, "invalid_request", false},
		{"malformed scope: double space", post(tokenURL, with(good, "scope", "a  b")), 400, "invalid_scope", false},
		{"malformed scope: quote", post(tokenURL, with(good, "scope", `a"b`)), 400, "invalid_scope", false},
		{"malformed scope: leading space", post(tokenURL, with(good, "scope", " a")), 400, "invalid_scope", false},
		{"malformed scope: non-ASCII", post(tokenURL, with(good, "scope", "é")), 400, "invalid_scope", false},
		{"unknown workspace", post(e.TokenURL(ids.New()), good), 404, "invalid_request", false},
		{"non-UUID workspace", post(e.Base+"/authorization/v2/oauth2/not-a-workspace/token", good), 404, "invalid_request", false},
		{"braced UUID workspace", post(e.Base+"/authorization/v2/oauth2/%7B"+a.WorkspaceID+"%7D/token", good), 404, "invalid_request", false},
	}
	bodies := map[string][]byte{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := oaMetric(t, e, oaTokensIssued)
			resp, body := e.Send(t, tc.req(t))
			oaWantError(t, resp, body, tc.status, tc.code)
			if ch := resp.Header.Get("WWW-Authenticate"); tc.challenge && !strings.HasPrefix(ch, "Basic") {
				t.Errorf("WWW-Authenticate %q, want a Basic challenge", ch)
			}
			if after := oaMetric(t, e, oaTokensIssued); after != before {
				t.Errorf("tokens issued went from %v to %v", before, after)
			}
			if strings.Contains(string(body), a.ClientSecret) || strings.Contains(string(body), b.ClientSecret) {
				t.Errorf("the error body echoes a secret: %s", body)
			}
			bodies[tc.name] = body
		})
	}
	// An unknown client id and a known one with a wrong secret (or one of another workspace)
	// are indistinguishable.
	ref := bodies["wrong secret"]
	for _, name := range []string{"unknown client id", "another workspace's credential"} {
		if !bytes.Equal(bodies[name], ref) {
			t.Errorf("%s answers %q, wrong secret answers %q", name, bodies[name], ref)
		}
	}
	// The good request still works: none of the above broke the client.
	if resp, body := e.Send(t, oaFormRequest(t, tokenURL, good, nil)); resp.StatusCode != http.StatusOK {
		t.Errorf("good request after the negatives: %d %s", resp.StatusCode, body)
	}
}

// Failed client authentication is budgeted per source address, not per client id: ten wrong
// secrets do not lock the client out, and after the address's 50 failures every attempt from
// it is refused with 429, even with the right secret; an unknown client id is treated exactly
// alike.
func TestOAuthClientFailuresRateLimited(t *testing.T) {
	type outcome struct {
		fail, limited []byte
		retryAfter    string
	}
	results := map[string]outcome{}
	for _, tc := range []struct {
		name  string
		known bool
	}{{"known client", true}, {"unknown client", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := apptest.Start(t, app.Config{})
			a := e.Admin
			other := e.UserWithRole(t, a.WorkspaceID, "")
			clientID, secret := a.ClientID, a.ClientSecret
			if !tc.known {
				clientID, secret = ids.New(), strings.Repeat("ab", 32)
			}
			var o outcome
			for i := 1; i <= 50; i++ {
				resp, body := e.PostForm(t, a.TokenURL, oaClientForm(clientID, strings.Repeat("0", 64)))
				oaWantError(t, resp, body, http.StatusUnauthorized, "invalid_client")
				o.fail = body
				if i == 10 && tc.known {
					// No per-client lockout: the right secret still works.
					if resp, body := e.PostForm(t, a.TokenURL, oaClientForm(clientID, secret)); resp.StatusCode != http.StatusOK {
						t.Fatalf("the right secret after 10 wrong ones: %d %s", resp.StatusCode, body)
					}
				}
			}
			before := oaMetric(t, e, oaTokensIssued)
			for _, attempt := range []struct {
				name string
				req  *http.Request
			}{
				{"post", oaFormRequest(t, a.TokenURL, oaClientForm(clientID, secret), nil)},
				{"basic", oaFormRequest(t, a.TokenURL, url.Values{"grant_type": {"client_credentials"}}, &[2]string{clientID, secret})},
			} {
				resp, body := e.Send(t, attempt.req)
				oaWantError(t, resp, body, http.StatusTooManyRequests, "temporarily_unavailable")
				ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				if err != nil || ra < 1 {
					t.Errorf("%s: Retry-After %q, want a whole number of seconds >= 1", attempt.name, resp.Header.Get("Retry-After"))
				}
				o.limited, o.retryAfter = body, resp.Header.Get("Retry-After")
			}
			if after := oaMetric(t, e, oaTokensIssued); after != before {
				t.Errorf("a rate-limited request issued a token")
			}
			// The limit is the address's: another client from the same address is refused too.
			if resp, body := e.PostForm(t, a.TokenURL, oaClientForm(other.ClientID, other.Secret)); resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("another client from the blocked address: %d %s", resp.StatusCode, body)
			}
			results[tc.name] = o
		})
	}
	k, u := results["known client"], results["unknown client"]
	if !bytes.Equal(k.fail, u.fail) || !bytes.Equal(k.limited, u.limited) {
		t.Errorf("known and unknown clients are told apart:\n401 %s vs %s\n429 %s vs %s", k.fail, u.fail, k.limited, u.limited)
	}
}

// Bearer token failures on the JSON API are limited per source address: after 50, the
// address gets 429 in GreenLake's error format, whatever it presents.
func TestOAuthBearerFailuresRateLimited(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	good := e.AdminToken(t)
	bad := []string{"garbage", "e30.e30.e30", good[:len(good)-4] + "AAAA"}
	for i := 0; i < 50; i++ {
		resp, body := e.Do(t, http.MethodGet, "/workspaces/v1/credentials", bad[i%len(bad)], nil)
		m := oaGLError(t, resp, body, http.StatusUnauthorized)
		if m["errorCode"] != "HPE_GL_ERROR_UNAUTHORIZED" {
			t.Fatalf("bad token %d: %v", i, m)
		}
	}
	for _, tc := range []struct{ name, tok string }{{"bad token", "garbage"}, {"valid token", good}} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.Do(t, http.MethodGet, "/workspaces/v1/credentials", tc.tok, nil)
			m := oaGLError(t, resp, body, http.StatusTooManyRequests)
			if m["errorCode"] != "HPE_GL_ERROR_TOO_MANY_REQUESTS" {
				t.Errorf("errorCode %v", m["errorCode"])
			}
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
			if strings.Contains(string(body), good) {
				t.Errorf("the error echoes the token")
			}
		})
	}
	// The address budget is shared with client authentication at the token endpoint.
	resp, body := e.PostForm(t, e.Admin.TokenURL, oaClientForm(e.Admin.ClientID, e.Admin.ClientSecret))
	oaWantError(t, resp, body, http.StatusTooManyRequests, "temporarily_unavailable")
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("token endpoint 429 without Retry-After")
	}
}
