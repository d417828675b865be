package token

import (
	"encoding/json"
	"errors"
	"github.com/keyhold/keyhold/internal/clientauth"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxFormBytes bounds a token, introspection or revocation request body.
const maxFormBytes = 16 << 10

// maxParamLen bounds any single form value other than a token.
const maxParamLen = 512

// RFC 6749 §5.2 and RFC 8693 error codes.
const (
	errInvalidRequest       = "invalid_request"
	errInvalidClient        = "invalid_client"
	errInvalidGrant         = "invalid_grant"
	errUnauthorizedClient   = "unauthorized_client"
	errUnsupportedGrantType = "unsupported_grant_type"
	errInvalidScope         = "invalid_scope"
	errInvalidTarget        = "invalid_target" // RFC 8707 §2
	errUnavailable          = "temporarily_unavailable"
	errServer               = "server_error"
)

// oauthError is an OAuth error response, returned as a value and written by one function.
type oauthError struct {
	status      int
	code        string
	description string
	retryAfter  int
	basic       bool // the client tried HTTP Basic: answer with a Basic challenge
	// failure, set on an invalid_client answer, is why client authentication failed: for
	// the log line and the metric (Server.clientFailed), never for the client.
	failure string
	// dpopNonce, when set, is sent in DPoP-Nonce (RFC 9449 §8: with use_dpop_nonce).
	dpopNonce string
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func badRequest(code, desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, description: desc}
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	h := w.Header()
	if e.status == http.StatusUnauthorized && e.basic {
		h.Set("WWW-Authenticate", `Basic realm="keyhold", charset="UTF-8"`)
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.dpopNonce != "" {
		h.Set(DPoPNonceHeader, e.dpopNonce)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

// Header values of every OAuth response. Header slices are only read once set, so one slice
// serves every response.
var (
	contentTypeJSON = []string{"application/json"}
	noStore         = []string{"no-store"}
	noCache         = []string{"no-cache"}
)

// writeJSON writes an OAuth response; every one of them is uncacheable (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, body any) {
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Cache-Control"] = noStore
	h["Pragma"] = noCache
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// form is a parsed request body of the token, introspection or revocation endpoint.
type form struct {
	params []param // in body order; each name once
	// Client authentication, by whichever single method the client used.
	clientID     string
	clientSecret string
	basic        bool
	// assertion is a private_key_jwt client assertion (parsed, not verified); nil otherwise.
	assertion *clientauth.Parsed
	// certThumb is the thumbprint of the TLS client certificate the client authenticated
	// with (mutual TLS); its token is bound to it.
	certThumb string
	// w is the request's response writer, where the request id is (read only on failures).
	w http.ResponseWriter
	// room holds the params of an ordinary request, saving their slice an allocation.
	room [6]param
}

// param is one name=value pair of a form, unescaped.
type param struct{ name, value string }

// has reports whether the form has the parameter name (even empty).
func (f *form) has(name string) bool {
	for _, p := range f.params {
		if p.name == name {
			return true
		}
	}
	return false
}

// get returns the value of the parameter name, or "" if the form has none.
func (f *form) get(name string) string {
	for _, p := range f.params {
		if p.name == name {
			return p.value
		}
	}
	return ""
}

// parseForm reads a form-encoded POST body with limits and the rules RFC 6749 sets on it:
// form encoding only, no parameter twice, credentials never in the URL, one authentication
// method at most.
func parseForm(w http.ResponseWriter, r *http.Request) (*form, *oauthError) {
	if !isForm(r.Header.Get("Content-Type")) {
		return nil, badRequest(errInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	if r.URL.RawQuery != "" {
		return nil, badRequest(errInvalidRequest, "parameters must be sent in the body, not the URL")
	}
	// The body is parsed here rather than by r.ParseForm, which would parse the content type
	// again, build two maps of slices (r.PostForm and its copy r.Form) and leave repeated
	// names to be found by a third pass.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, badRequest(errInvalidRequest, "the request body is too large")
		}
		return nil, badRequest(errInvalidRequest, "the request body is not a valid form")
	}
	f := &form{w: w}
	f.params = f.room[:0]
	if !f.parse(string(body)) {
		return nil, badRequest(errInvalidRequest, "the request body is not a valid form")
	}
	if oe := f.check(); oe != nil {
		return nil, oe
	}
	return f, f.clientAuth(r)
}

// parse splits a form-encoded body into f.params as url.ParseQuery does (pairs separated by
// '&', empty pairs skipped, a pair without '=' has an empty value, names and values
// unescaped) and reports false where url.ParseQuery would fail: a raw ';' or a bad escape.
func (f *form) parse(body string) bool {
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if strings.Contains(pair, ";") {
			return false
		}
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(name)
		value, err2 := url.QueryUnescape(value)
		if err1 != nil || err2 != nil {
			return false
		}
		f.params = append(f.params, param{name, value})
	}
	return true
}

// check applies RFC 6749's rules to the parameters: none repeated, bounded lengths, UTF-8.
// The token of introspection and revocation is bounded by the body alone: RFC 7662 and
// RFC 7009 answer a token the server cannot have issued with {"active":false} and 200, not
// an error, and the verifier refuses anything over MaxTokenLen before parsing it.
func (f *form) check() *oauthError {
	if name, ok := repeatedName(f.params); ok {
		return badRequest(errInvalidRequest, "parameter "+quoteName(name)+" is repeated")
	}
	for _, p := range f.params {
		limit := maxParamLen
		switch p.name {
		case "subject_token", "actor_token", "client_assertion":
			limit = MaxTokenLen
		case "token":
			limit = maxFormBytes
		}
		if len(p.value) > limit {
			return badRequest(errInvalidRequest, "parameter "+quoteName(p.name)+" is too long")
		}
		if !utf8.ValidString(p.value) || !utf8.ValidString(p.name) {
			return badRequest(errInvalidRequest, "parameters must be valid UTF-8")
		}
	}
	return nil
}

// repeatedName returns a name that ps holds twice. Small forms are compared pair by pair;
// a large one (a body may hold thousands of pairs) goes through a set, so that no body costs
// quadratic time.
func repeatedName(ps []param) (string, bool) {
	if len(ps) <= 8 {
		for i := range ps {
			for _, q := range ps[:i] {
				if q.name == ps[i].name {
					return q.name, true
				}
			}
		}
		return "", false
	}
	seen := make(map[string]struct{}, len(ps))
	for _, p := range ps {
		if _, ok := seen[p.name]; ok {
			return p.name, true
		}
		seen[p.name] = struct{}{}
	}
	return "", false
}

func quoteName(name string) string {
	if len(name) > 40 || !utf8.ValidString(name) {
		return "(unnamed)"
	}
	return strconv.Quote(name)
}

// clientAuth extracts client credentials from HTTP Basic (RFC 6749 §2.3.1: both parts
// form-url-encoded) or from the body, refusing a request that uses both.
func (f *form) clientAuth(r *http.Request) *oauthError {
	postID, postSecret := f.get("client_id"), f.get("client_secret")
	authz := r.Header.Get("Authorization")
	if typ, raw := f.get("client_assertion_type"), f.get("client_assertion"); typ != "" || raw != "" {
		return f.assertionAuth(postID, postSecret, authz, typ, raw)
	}
	if authz == "" {
		f.clientID, f.clientSecret = postID, postSecret
		return nil
	}
	f.basic = true
	user, pass, ok := r.BasicAuth()
	if !ok {
		return &oauthError{status: http.StatusUnauthorized, code: errInvalidClient, basic: true, failure: FailMalformed,
			description: "the Authorization header is not valid HTTP Basic authentication"}
	}
	if postSecret != "" || (postID != "" && postID != user) {
		return badRequest(errInvalidRequest, "use one client authentication method, not both")
	}
	id, err1 := url.QueryUnescape(user)
	secret, err2 := url.QueryUnescape(pass)
	if err1 != nil || err2 != nil || len(id) > maxParamLen || len(secret) > maxParamLen {
		return &oauthError{status: http.StatusUnauthorized, code: errInvalidClient, basic: true, failure: FailMalformed,
			description: "the Basic credentials are not form-url-encoded"}
	}
	f.clientID, f.clientSecret = id, secret
	return nil
}

// assertionAuth reads private_key_jwt client authentication (RFC 7523 §2.2): the client is
// the assertion's subject; a client_id sent with it must be the same.
func (f *form) assertionAuth(postID, postSecret, authz, typ, raw string) *oauthError {
	switch {
	case postSecret != "" || authz != "":
		return badRequest(errInvalidRequest, "use one client authentication method, not both")
	case typ != clientauth.AssertionType:
		return badRequest(errInvalidRequest, "client_assertion_type must be "+clientauth.AssertionType)
	case raw == "":
		return badRequest(errInvalidRequest, "client_assertion is required with client_assertion_type")
	}
	p, err := clientauth.Parse(raw)
	if err != nil {
		return &oauthError{status: http.StatusUnauthorized, code: errInvalidClient, failure: clientauth.Reason(err),
			description: "the client assertion is not a signed JWT with an allowed algorithm"}
	}
	if postID != "" && postID != p.ClientID {
		return &oauthError{status: http.StatusUnauthorized, code: errInvalidClient, failure: clientauth.FailClaims,
			description: "client_id is not the client assertion's subject"}
	}
	f.clientID, f.assertion = p.ClientID, p
	return nil
}

func jsonEncode(w http.ResponseWriter, body any) error {
	return json.NewEncoder(w).Encode(body)
}

// isForm reports a form-encoded content type; the exact common spelling skips the parser.
func isForm(ct string) bool {
	const form = "application/x-www-form-urlencoded"
	if ct == form {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == form
}
