package client

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// maxBody bounds how much of a response the client reads (keyhold's largest pages are far
// smaller); a longer body is an error rather than unbounded memory.
const maxBody = 32 << 20

// Config says where keyhold is and who the client is.
type Config struct {
	// BaseURL is keyhold's base URL (its --base-url), e.g. "https://iam.example.com".
	BaseURL string
	// WorkspaceID is the workspace whose issuer issues the client's tokens (hyphenated or
	// 32 hex digits). Required unless TokenSource is set.
	WorkspaceID string
	// ClientID and ClientSecret are an API client credential of that workspace.
	ClientID, ClientSecret string
	// PrivateKey, when set, authenticates the client with private_key_jwt (RFC 7523; keyhold's
	// extension) instead of ClientSecret: every token, introspection and revocation request
	// carries a fresh assertion signed with it (ES256 for an ECDSA P-256 key, EdDSA for
	// Ed25519, RS256 for RSA) and KeyID in its header. The credential must have the public key
	// registered (SetCredentialKeys).
	PrivateKey crypto.Signer
	KeyID      string
	// Scopes, when set, asks for tokens narrowed to these OAuth scope items (keyhold's
	// extension: permission names and <provider>.<resource-type>.* wildcards): the client then
	// acts with what its assignments grant and the scope permits. Unset, tokens carry the
	// credential's allowed scopes, or none. An item outside them is an *Error (invalid_scope).
	Scopes []string
	// TokenSource, when set, supplies the bearer tokens instead of client credentials (for
	// example tokens obtained by ExchangeToken). ClientID and ClientSecret are then only used
	// for introspection and revocation.
	TokenSource oauth2.TokenSource
	// HTTPClient sends every request, token requests included; http.DefaultClient when nil.
	// Its Transport must not add an Authorization header of its own.
	HTTPClient *http.Client
}

// Client calls keyhold's API as one API client. It is safe for concurrent use.
type Client struct {
	base        string
	workspaceID string // 32 hex digits, as in issuer URLs
	hc          *http.Client
	cc          *clientcredentials.Config // nil when a TokenSource is given
	ts          oauth2.TokenSource

	assert *asserter // private_key_jwt, when configured

	mu  sync.Mutex
	tok *oauth2.Token // the cached client-credentials token
}

// New returns a client for cfg. It does not contact keyhold: the first call fetches a token.
func New(cfg Config) (*Client, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("keyhold client: BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	c := &Client{base: base, hc: cfg.HTTPClient, ts: cfg.TokenSource}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if cfg.WorkspaceID != "" {
		if c.workspaceID, err = workspaceHex(cfg.WorkspaceID); err != nil {
			return nil, err
		}
	}
	if cfg.ClientID != "" || cfg.ClientSecret != "" || cfg.PrivateKey != nil || c.ts == nil {
		if c.workspaceID == "" || cfg.ClientID == "" || (cfg.ClientSecret == "") == (cfg.PrivateKey == nil) {
			return nil, errors.New("keyhold client: WorkspaceID, ClientID and either ClientSecret or PrivateKey are required without a TokenSource")
		}
		c.cc = &clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			TokenURL: c.IssuerURL() + "/token", AuthStyle: oauth2.AuthStyleInHeader, Scopes: cfg.Scopes}
		if cfg.PrivateKey != nil {
			if c.assert, err = newAsserter(cfg.PrivateKey, cfg.KeyID, cfg.ClientID); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// workspaceHex is a workspace id as issuer URLs write it: 32 lower-case hex digits.
func workspaceHex(id string) (string, error) {
	h := strings.ToLower(strings.ReplaceAll(id, "-", ""))
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("keyhold client: workspace id %q is not a UUID", id)
	}
	return h, nil
}

// BaseURL is keyhold's base URL, without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// IssuerURL is the OAuth issuer of the client's workspace ("" when the client was made from
// a TokenSource alone).
func (c *Client) IssuerURL() string {
	if c.workspaceID == "" {
		return ""
	}
	return IssuerURL(c.base, c.workspaceID)
}

// IssuerURL is the OAuth issuer of a workspace (hyphenated or hex id) at a base URL:
// <base>/authorization/v2/oauth2/<32 hex digits>. It returns "" for an id that is not a UUID.
func IssuerURL(baseURL, workspaceID string) string {
	h, err := workspaceHex(workspaceID)
	if err != nil {
		return ""
	}
	return strings.TrimRight(baseURL, "/") + "/authorization/v2/oauth2/" + h
}

// Token returns the bearer token the client sends, fetching a new one when the cached one
// is missing or expires within ten seconds (oauth2.Token.Valid's margin).
func (c *Client) Token(ctx context.Context) (*oauth2.Token, error) {
	if c.ts != nil {
		t, err := c.ts.Token()
		return t, oauthError(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Valid() {
		return c.tok, nil
	}
	conf := c.cc
	if c.assert != nil {
		params, err := c.assert.params(conf.TokenURL)
		if err != nil {
			return nil, err
		}
		conf = &clientcredentials.Config{ClientID: c.cc.ClientID, TokenURL: c.cc.TokenURL,
			AuthStyle: oauth2.AuthStyleInParams, EndpointParams: params, Scopes: c.cc.Scopes}
	}
	t, err := conf.Token(context.WithValue(ctx, oauth2.HTTPClient, c.hc))
	if err != nil {
		return nil, oauthError(err)
	}
	c.tok = t
	return t, nil
}

// oauthError turns an oauth2 token-endpoint failure into an *Error.
func oauthError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return err
	}
	e := &Error{StatusCode: re.Response.StatusCode, ErrorCode: re.ErrorCode, Message: re.ErrorDescription}
	if e.ErrorCode == "" {
		e = decodeError(re.Response.StatusCode, re.Body)
	}
	return e
}

// request is one call of the JSON API.
type request struct {
	method, path string
	query        url.Values
	body         any // marshalled as JSON when not nil
	header       http.Header
	out          any // the 2xx body is decoded into it when not nil
}

// do sends r with the client's bearer token and decodes the answer. It returns the response
// (body consumed) for callers that need headers. When keyhold refuses a client-credentials
// token it had cached (401: revoked, or signed by a key since retired), do drops it and
// retries once with a fresh one; a 401 then is returned.
func (c *Client) do(ctx context.Context, r request) (*http.Response, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.Token(ctx)
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
		if err != nil {
			return nil, err
		}
		if rd != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		for k, v := range r.header {
			req.Header[k] = v
		}
		if g, ok := ctx.Value(ifMatchKey{}).(int64); ok {
			req.Header.Set("If-Match", strconv.FormatInt(g, 10))
		}
		tok.SetAuthHeader(req)
		resp, err := c.send(req, r.out)
		var ke *Error
		if attempt == 0 && errors.As(err, &ke) && ke.StatusCode == http.StatusUnauthorized && c.forget(tok) {
			continue
		}
		return resp, err
	}
}

// forget drops the cached client-credentials token if it is still tok, and reports whether
// it did (a TokenSource's tokens are not the client's to drop).
func (c *Client) forget(tok *oauth2.Token) bool {
	if c.ts != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.tok.AccessToken == tok.AccessToken {
		c.tok = nil
	}
	return true
}

type ifMatchKey struct{}

// WithIfMatch makes the updates and deletes called with the returned context conditional:
// keyhold applies them only if the resource's generation is still generation (412
// HPE_GL_ERROR_PRECONDITION_FAILED otherwise), so that a change made meanwhile by someone
// else is not overwritten.
func WithIfMatch(ctx context.Context, generation int64) context.Context {
	return context.WithValue(ctx, ifMatchKey{}, generation)
}

// send sends req and decodes a 2xx body into out (when not nil), any other status into an
// *Error.
func (c *Client) send(req *http.Request, out any) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return resp, err
	}
	if len(body) > maxBody {
		return resp, fmt.Errorf("keyhold client: %s %s: response over %d bytes", req.Method, req.URL.Path, maxBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, decodeError(resp.StatusCode, body)
	}
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return resp, fmt.Errorf("keyhold client: %s %s: decoding the answer: %w", req.Method, req.URL.Path, err)
		}
	}
	return resp, nil
}

// escape escapes one path segment.
func escape(s string) string { return url.PathEscape(s) }
