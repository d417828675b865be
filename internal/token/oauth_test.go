package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/ids"
)

// Token requests through handleToken, including the inputs FuzzTokenEndpoint found
// interesting (marked "fuzz:").
func TestTokenEndpointRequests(t *testing.T) {
	ts := newTestServer(t)
	hex := ids.Hex(ts.ws)
	const form = "application/x-www-form-urlencoded"
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {ts.clientID}, "client_secret": {ts.secret}}
	enc := func(kv ...string) string {
		v := url.Values{}
		for k, vs := range good {
			v[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v.Encode()
	}
	basic := basicAuth(ts.clientID, ts.secret)
	grantOnly := "grant_type=client_credentials"
	b64 := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }

	// A body of exactly the size limit, made of valid parameters.
	atLimit := good.Encode()
	for i := 0; len(atLimit) < maxFormBytes; i++ {
		p := fmt.Sprintf("&p%d=", i)
		n := min(maxParamLen, maxFormBytes-len(atLimit)-len(p))
		if n < 0 {
			atLimit += strings.Repeat("a", maxFormBytes-len(atLimit))
			break
		}
		atLimit += p + strings.Repeat("a", n)
	}
	if len(atLimit) != maxFormBytes {
		t.Fatalf("body of %d bytes", len(atLimit))
	}

	cases := []struct {
		name                 string
		ws, query, ct, authz string
		body                 string
		status               int
		code                 string
	}{
		{name: "post", ws: hex, ct: form, body: good.Encode(), status: 200},
		{name: "post, charset parameter", ws: hex, ct: form + "; charset=UTF-8", body: good.Encode(), status: 200},
		{name: "post, hyphenated workspace in the path", ws: ts.ws, ct: form, body: good.Encode(), status: 200},
		{name: "post, upper-case workspace in the path", ws: strings.ToUpper(hex), ct: form, body: good.Encode(), status: 200},
		{name: "basic", ws: hex, ct: form, authz: basic, body: grantOnly, status: 200},
		{name: "basic and the same client_id in the body", ws: hex, ct: form, authz: basic, body: enc("client_secret", ""), status: 200},
		{name: "empty scope, as none", ws: hex, ct: form, body: enc("scope", ""), status: 200},
		{name: "scope that is no permission", ws: hex, ct: form, body: enc("scope", "read write:x"), status: 400, code: errInvalidScope},
		{name: "body of exactly the limit", ws: hex, ct: form, body: atLimit, status: 200},
		{name: "body one byte over the limit", ws: hex, ct: form, body: atLimit + "a", status: 400, code: errInvalidRequest},

		{name: "wrong secret", ws: hex, ct: form, body: enc("client_secret", "nope"), status: 401, code: errInvalidClient},
		{name: "unknown client", ws: hex, ct: form, body: enc("client_id", ids.New()), status: 401, code: errInvalidClient},
		{name: "no client", ws: hex, ct: form, body: grantOnly, status: 401, code: errInvalidClient},
		{name: "basic, wrong secret", ws: hex, ct: form, authz: basicAuth(ts.clientID, "x"), body: grantOnly, status: 401, code: errInvalidClient},
		{name: "basic, empty user", ws: hex, ct: form, authz: b64(":" + ts.secret), body: grantOnly, status: 401, code: errInvalidClient},
		{name: "basic, not base64", ws: hex, ct: form, authz: "Basic !!!", body: grantOnly, status: 401, code: errInvalidClient},
		{name: "basic, no colon", ws: hex, ct: form, authz: b64("foobar"), body: grantOnly, status: 401, code: errInvalidClient},
		{name: "basic, bad percent-encoding", ws: hex, ct: form, authz: b64("%zz:%"), body: grantOnly, status: 401, code: errInvalidClient},
		{name: "basic, over-long id", ws: hex, ct: form, authz: b64(strings.Repeat("a", maxParamLen+1) + ":x"), body: grantOnly, status: 401, code: errInvalidClient},
		{name: "bearer scheme", ws: hex, ct: form, authz: "Bearer x", body: good.Encode(), status: 401, code: errInvalidClient},
		{name: "basic and client_secret in the body", ws: hex, ct: form, authz: basic, body: good.Encode(), status: 400, code: errInvalidRequest},
		{name: "basic and another client_id in the body", ws: hex, ct: form, authz: basic, body: enc("client_secret", "", "client_id", ids.New()), status: 400, code: errInvalidRequest},

		{name: "no grant_type", ws: hex, ct: form, body: enc("grant_type", ""), status: 400, code: errInvalidRequest},
		{name: "password grant", ws: hex, ct: form, body: enc("grant_type", "password"), status: 400, code: errUnsupportedGrantType},
		{name: "repeated parameter", ws: hex, ct: form, body: good.Encode() + "&client_id=" + ts.clientID, status: 400, code: errInvalidRequest},
		{name: "parameter too long", ws: hex, ct: form, body: enc("x", strings.Repeat("a", maxParamLen+1)), status: 400, code: errInvalidRequest},
		{name: "invalid UTF-8 value", ws: hex, ct: form, body: good.Encode() + "&x=%ff", status: 400, code: errInvalidRequest},
		{name: "invalid UTF-8 name", ws: hex, ct: form, body: good.Encode() + "&%ff=x", status: 400, code: errInvalidRequest},
		{name: "semicolon separator", ws: hex, ct: form, body: "a=1;b=2", status: 400, code: errInvalidRequest},
		{name: "query string", ws: hex, query: "client_secret=" + ts.secret, ct: form, body: good.Encode(), status: 400, code: errInvalidRequest},
		{name: "JSON", ws: hex, ct: "application/json", body: `{"grant_type":"client_credentials"}`, status: 400, code: errInvalidRequest},
		{name: "no content type", ws: hex, body: good.Encode(), status: 400, code: errInvalidRequest},
		{name: "malformed scope", ws: hex, ct: form, body: enc("scope", "a  b"), status: 400, code: errInvalidScope},
		{name: "malformed scope and a wrong secret", ws: hex, ct: form, body: enc("scope", `"`, "client_secret", "x"), status: 400, code: errInvalidScope},

		{name: "unknown workspace", ws: ids.Hex(ids.New()), ct: form, body: good.Encode(), status: 404, code: errInvalidRequest},
		{name: "nil UUID workspace", ws: "00000000-0000-0000-0000-000000000000", ct: form, body: good.Encode(), status: 404, code: errInvalidRequest},
		{name: "empty workspace", ws: "", ct: form, body: good.Encode(), status: 404, code: errInvalidRequest},

		// fuzz: a content type that is not a form, with valid Basic credentials.
		{name: "fuzz: scrambled form content type, valid basic", ws: hex, ct: "application/ormww-fx-w-urlencoded", authz: basic, body: grantOnly, status: 400, code: errInvalidRequest},
		// fuzz: an unparseable content type.
		{name: "fuzz: content type 0", ws: hex, ct: "0", authz: "0", body: "0", status: 400, code: errInvalidRequest},
		// fuzz: workspace path segments of the right lengths that are not UUIDs.
		{name: "fuzz: 32 characters, not hex", ws: "00X00000000000000000000000000000", ct: "0", body: "0", status: 404, code: errInvalidRequest},
		{name: "fuzz: nil UUID, 32 hex", ws: "00000000000000000000000000000000", ct: "0", authz: "0", body: "0", status: 404, code: errInvalidRequest},
		{name: "fuzz: 36 characters without hyphens", ws: "000000000000000000000000000000000000", ct: "0", body: "0", status: 404, code: errInvalidRequest},
		{name: "fuzz: hyphenated, not hex", ws: "00000000-X000-0000-0000-000000000000", ct: "0", body: "0", status: 404, code: errInvalidRequest},
		{name: "fuzz: hyphenated, misplaced hyphens", ws: "0X000000-0000-0000-0000-000000000000", ct: "0", body: "0", status: 404, code: errInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(ts.fresh(), tc.ws, tc.query, tc.ct, tc.authz, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			checkTokenAnswer(t, ts, tc.authz, rec)
			if tc.status == 200 {
				var raw map[string]any
				_ = json.Unmarshal(rec.Body.Bytes(), &raw)
				if _, ok := raw["scope"]; ok {
					t.Errorf("a scope was echoed though none was asked for: %s", rec.Body)
				}
				return
			}
			var oe struct{ Error string }
			_ = json.Unmarshal(rec.Body.Bytes(), &oe)
			if oe.Error != tc.code {
				t.Errorf("error %q, want %q", oe.Error, tc.code)
			}
		})
	}
}

// Failures are budgeted per source, never per client id: a source that sends wrong secrets
// for a client is refused after the burst (and stays refused while it keeps trying, even
// with the right secret), while the client itself, from any other source, gets its token.
// IPv6 sources are budgeted by /64.
func TestTokenEndpointFailuresBudgetedPerSource(t *testing.T) {
	ts := newTestServer(t)
	hex := ids.Hex(ts.ws)
	bad := url.Values{"grant_type": {"client_credentials"}, "client_id": {ts.clientID}, "client_secret": {"x"}}.Encode()
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {ts.clientID}, "client_secret": {ts.secret}}.Encode()
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct{ name, attacker, neighbour, other string }{
		{"IPv4", "192.0.2.66:4000", "", "192.0.2.67:4000"},
		{"IPv6", "[2001:db8:0:1::66]:4000", "[2001:db8:0:1:ffff::1]:4000", "[2001:db8:0:2::1]:4000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ts.fresh()
			// 50 failures, then (a few more if the test runs slowly enough for the budget to
			// refill) only 429s: refused attempts count, so the attacker never gets back in.
			blockedAt := -1
			for i := range 80 {
				rec := ts.doFrom(s, tc.attacker, hex, "", form, "", bad)
				switch {
				case rec.Code == 429 && blockedAt < 0:
					blockedAt = i
				case rec.Code != 429 && blockedAt >= 0:
					t.Fatalf("wrong secret %d from the blocked attacker: %d, want 429", i+1, rec.Code)
				case rec.Code != 429 && rec.Code != 401:
					t.Fatalf("wrong secret %d from the attacker: %d", i+1, rec.Code)
				}
				// The real client, from elsewhere, is never refused.
				if rec := ts.doFrom(s, tc.other, hex, "", form, basicAuth(ts.clientID, ts.secret), "grant_type=client_credentials"); rec.Code != 200 {
					t.Fatalf("after %d wrong secrets from the attacker, the client got %d: %s", i+1, rec.Code, rec.Body)
				}
			}
			if blockedAt < 50 || blockedAt > 60 {
				t.Fatalf("the attacker was blocked after %d failures, want 50 (and a few refilled)", blockedAt)
			}
			rec := ts.doFrom(s, tc.attacker, hex, "", form, "", good)
			if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("the right secret from the blocked source: %d %v %s", rec.Code, rec.Header(), rec.Body)
			}
			checkTokenAnswer(t, ts, "x", rec)
			if tc.neighbour != "" {
				if rec := ts.doFrom(s, tc.neighbour, hex, "", form, "", good); rec.Code != 429 {
					t.Fatalf("another address of the attacker's /64: %d, want 429", rec.Code)
				}
			}
		})
	}
}

// expires_in is the token's lifetime, whatever the sub-second part of the clock.
func TestExpiresInIsTheLifetime(t *testing.T) {
	ts := newTestServer(t)
	for _, frac := range []time.Duration{0, 300 * time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond} {
		s := ts.fresh()
		iss := *s.Issuer
		at := time.Now().Truncate(time.Second).Add(frac)
		iss.Now = func() time.Time { return at }
		s.Issuer = &iss
		resp, oe := s.respond(&Claims{Subject: "api-client:" + ts.clientID, ClientID: ts.clientID, WorkspaceID: ts.ws,
			PrincipalType: "api-client", Generation: 1}, GrantClientCredentials)
		if oe != nil {
			t.Fatal(oe)
		}
		if resp.ExpiresIn != int64(iss.TTL/time.Second) {
			t.Errorf("clock at +%s: expires_in %d, want %d", frac, resp.ExpiresIn, int64(iss.TTL/time.Second))
		}
	}
}

// A token verified (and cached) before its key was retired is refused once the key is.
func TestVerifierRefusesCachedTokenOfRetiredKey(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	s := ts.srv
	tok, err := s.Issuer.Mint(&Claims{Subject: "api-client:" + ts.clientID, ClientID: ts.clientID, WorkspaceID: ts.ws,
		PrincipalType: "api-client", Generation: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Verifier.Verify(tok); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if _, err := Rotate(ctx, s.Store, jose.ES256, -time.Second, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Issuer.Keys.Load(ctx, s.Store); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Verifier.Verify(tok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("token of a retired key: %v, want ErrInvalid", err)
	}
	fresh, err := s.Issuer.Mint(&Claims{Subject: "api-client:" + ts.clientID, ClientID: ts.clientID, WorkspaceID: ts.ws,
		PrincipalType: "api-client", Generation: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Verifier.Verify(fresh); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
}

// FuzzFormParse holds form.parse to url.ParseQuery: the same bodies refused, the same
// pairs in the same order otherwise.
func FuzzFormParse(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "a=1;b=2", "&&a&=x&b=%41+c", "a=%zz", "%=1", "a=1&a=2", "x=%ff&%ff=x", "a==b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var fm form
		ok := fm.parse(body)
		want, err := url.ParseQuery(body)
		if ok != (err == nil) {
			t.Fatalf("%q: parse %v, url.ParseQuery error %v", body, ok, err)
		}
		if !ok {
			return
		}
		got := url.Values{}
		for _, p := range fm.params {
			got.Add(p.name, p.value)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: parsed %v, url.ParseQuery %v", body, got, want)
		}
	})
}
