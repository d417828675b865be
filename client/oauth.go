package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Token-exchange parameters of RFC 8693, as keyhold serves them.
const (
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
	errNoClientCredentials = "keyhold client: this call needs the client's ClientID and ClientSecret"
)

// Introspection is an RFC 7662 answer. Active is false for a token that is not valid now or
// was not issued by the asking client's workspace; the other fields are then empty.
type Introspection struct {
	Active                  bool       `json:"active"`
	TokenType               string     `json:"token_type,omitempty"`
	ClientID                string     `json:"client_id,omitempty"`
	Subject                 string     `json:"sub,omitempty"`
	Issuer                  string     `json:"iss,omitempty"`
	Audience                StringList `json:"aud,omitempty"`
	JTI                     string     `json:"jti,omitempty"`
	Expiry                  int64      `json:"exp,omitempty"`
	IssuedAt                int64      `json:"iat,omitempty"`
	NotBefore               int64      `json:"nbf,omitempty"`
	Scope                   string     `json:"scope,omitempty"`
	WorkspaceID             string     `json:"hpe_workspace_id,omitempty"`
	PrincipalType           string     `json:"hpe_principal_type,omitempty"`
	HPETokenType            string     `json:"hpe_token_type,omitempty"`
	CredentialGeneration    int64      `json:"hpe_credential_generation,omitempty"`
	ServiceManagerProvision string     `json:"hpe_service_manager_provision_id,omitempty"`
	Act                     *Actor     `json:"act,omitempty"`
}

// Actor is the `act` claim of an exchanged token: who acts in the tenant.
type Actor struct {
	Subject     string `json:"sub"`
	WorkspaceID string `json:"hpe_workspace_id"`
	ClientID    string `json:"client_id"`
}

// StringList is a JSON string or array of strings (as `aud` may be either).
type StringList []string

// UnmarshalJSON accepts a string or an array of strings.
func (s *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// Introspect asks the client's workspace issuer about a token (RFC 7662), authenticating
// with the client's credentials.
func (c *Client) Introspect(ctx context.Context, token string) (*Introspection, error) {
	var out Introspection
	if err := c.postForm(ctx, c.IssuerURL()+"/introspect", url.Values{"token": {token}}, true, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Revoke revokes a token of this client (RFC 7009): keyhold refuses it from then on. A token
// that is invalid, expired or foreign is accepted without effect, as RFC 7009 says.
func (c *Client) Revoke(ctx context.Context, token string) error {
	return c.postForm(ctx, c.IssuerURL()+"/revoke", url.Values{"token": {token}}, true, nil)
}

// ExchangeToken exchanges the client's token (of an MSP workspace) for a token of one of its
// tenants (RFC 8693). The token acts in the tenant with the MSP's assignments that reach it.
func (c *Client) ExchangeToken(ctx context.Context, tenantID string) (*oauth2.Token, error) {
	subject, err := c.Token(ctx)
	if err != nil {
		return nil, err
	}
	iss := IssuerURL(c.base, tenantID)
	if iss == "" {
		return nil, errors.New("keyhold client: tenant id is not a UUID")
	}
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	form := url.Values{"grant_type": {grantTokenExchange}, "subject_token": {subject.AccessToken},
		"subject_token_type": {tokenTypeAccessToken}}
	if err := c.postForm(ctx, iss+"/token", form, false, &out); err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: out.AccessToken, TokenType: out.TokenType,
		Expiry: time.Now().Add(time.Duration(out.ExpiresIn) * time.Second)}, nil
}

// TenantClient is a client acting in an MSP tenant with tokens exchanged from this client's
// (exchanged again when they near their end). Its token exchanges use context.Background
// bounded by the HTTP client's timeouts, since oauth2.TokenSource has no context.
func (c *Client) TenantClient(tenantID string) (*Client, error) {
	if IssuerURL(c.base, tenantID) == "" {
		return nil, errors.New("keyhold client: tenant id is not a UUID")
	}
	src := oauth2.ReuseTokenSource(nil, exchangeSource{c: c, tenantID: tenantID})
	return New(Config{BaseURL: c.base, WorkspaceID: tenantID, TokenSource: src, HTTPClient: c.hc})
}

type exchangeSource struct {
	c        *Client
	tenantID string
}

func (s exchangeSource) Token() (*oauth2.Token, error) {
	return s.c.ExchangeToken(context.Background(), s.tenantID)
}

// postForm posts an OAuth form and decodes the JSON answer into out. When auth is set the
// client authenticates: with a fresh private_key_jwt assertion when it has a PrivateKey,
// else with its secret in Basic (RFC 6749 §2.3.1: form-url-encoded first).
func (c *Client) postForm(ctx context.Context, u string, form url.Values, auth bool, out any) error {
	if auth && c.cc == nil {
		return errors.New(errNoClientCredentials)
	}
	if auth && c.assert != nil {
		params, err := c.assert.params(c.IssuerURL() + "/token")
		if err != nil {
			return err
		}
		for k, v := range params {
			form[k] = v
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if auth && c.assert == nil {
		req.SetBasicAuth(url.QueryEscape(c.cc.ClientID), url.QueryEscape(c.cc.ClientSecret))
	}
	_, err = c.send(req, out)
	return err
}
