package token

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/ids"
)

// TokenTypeHPE is the value of hpe_token_type on every access token.
const TokenTypeHPE = "api-v1.2"

// Actor is the RFC 8693 "act" claim of an exchanged token.
type Actor struct {
	Subject     string `json:"sub"`
	WorkspaceID string `json:"hpe_workspace_id"`
	ClientID    string `json:"client_id,omitempty"`
}

// Claims of a keyhold access token (RFC 9068 plus GreenLake's hpe_* claims).
type Claims struct {
	Issuer        string           `json:"iss"`
	Subject       string           `json:"sub"`
	Audience      jwt.Audience     `json:"aud"`
	IssuedAt      *jwt.NumericDate `json:"iat"`
	NotBefore     *jwt.NumericDate `json:"nbf"`
	Expiry        *jwt.NumericDate `json:"exp"`
	ID            string           `json:"jti"`
	ClientID      string           `json:"client_id"`
	TokenType     string           `json:"hpe_token_type"`
	WorkspaceID   string           `json:"hpe_workspace_id"`
	PrincipalType string           `json:"hpe_principal_type"`
	Generation    int64            `json:"hpe_credential_generation"`
	ProvisionID   string           `json:"hpe_service_manager_provision_id,omitempty"`
	Scope         string           `json:"scope,omitempty"`
	Act           *Actor           `json:"act,omitempty"`
	// Cnf binds the token to a key (RFC 9449 DPoP: cnf.jkt); nil for a bearer token.
	Cnf *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is RFC 7800's cnf claim as keyhold uses it.
type Confirmation struct {
	// JKT is the SHA-256 thumbprint of the DPoP key the token is bound to.
	JKT string `json:"jkt,omitempty"`
	// X5T is the SHA-256 thumbprint of the TLS client certificate the token is bound to
	// (RFC 8705 §3.1, x5t#S256).
	X5T string `json:"x5t#S256,omitempty"`
}

// Issuer knows keyhold's public URLs and mints tokens.
type Issuer struct {
	BaseURL  string // without trailing slash
	Audience string
	TTL      time.Duration
	Keys     *KeySet
	Now      func() time.Time
}

// IssuerURL is the issuer of a workspace (32-hex workspace id in the path).
func (i *Issuer) IssuerURL(workspaceID string) string {
	return i.BaseURL + "/authorization/v2/oauth2/" + ids.Hex(workspaceID)
}

// newJTI is a random 128-bit token id.
func newJTI() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Mint fills in the registered claims of c (issuer, audience, times, id) and signs it.
func (i *Issuer) Mint(c *Claims) (string, error) {
	signer, until, err := i.Keys.active()
	if err != nil {
		return "", err
	}
	now := i.Now().Truncate(time.Second)
	c.WorkspaceID = ids.Hex(c.WorkspaceID)
	c.Issuer = i.IssuerURL(c.WorkspaceID) // of the hex form: nothing left to convert
	if len(c.Audience) != 1 {
		// Keyhold's own API, unless the grant asked for one resource (RFC 8707).
		c.Audience = jwt.Audience{i.Audience}
	}
	c.IssuedAt, c.NotBefore = jwt.NewNumericDate(now), jwt.NewNumericDate(now)
	if c.Expiry == nil || c.Expiry.Time().After(now.Add(i.TTL)) {
		c.Expiry = jwt.NewNumericDate(now.Add(i.TTL))
	}
	if !until.IsZero() && c.Expiry.Time().After(until) {
		// Signed by a key on its way out (see KeySet): the token must not outlive it.
		c.Expiry = jwt.NewNumericDate(until.Truncate(time.Second))
	}
	c.ID = newJTI()
	c.TokenType = TokenTypeHPE
	// The claims are a fixed struct, so they are encoded once and signed as is (go-jose's jwt
	// builder would encode, decode and re-encode them to merge claim sets).
	payload, err := json.Marshal(c.wire())
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// wireClaims is Claims as Mint encodes them: the same members in the same order, with the
// registered claims Mint always sets (one audience, three times) as plain values. Encoded,
// it is the same JSON as the Claims (TestWireClaims); encoding/json then calls no
// MarshalJSON methods and need not re-validate their output.
type wireClaims struct {
	Issuer        string        `json:"iss"`
	Subject       string        `json:"sub"`
	Audience      string        `json:"aud"`
	IssuedAt      int64         `json:"iat"`
	NotBefore     int64         `json:"nbf"`
	Expiry        int64         `json:"exp"`
	ID            string        `json:"jti"`
	ClientID      string        `json:"client_id"`
	TokenType     string        `json:"hpe_token_type"`
	WorkspaceID   string        `json:"hpe_workspace_id"`
	PrincipalType string        `json:"hpe_principal_type"`
	Generation    int64         `json:"hpe_credential_generation"`
	ProvisionID   string        `json:"hpe_service_manager_provision_id,omitempty"`
	Scope         string        `json:"scope,omitempty"`
	Act           *Actor        `json:"act,omitempty"`
	Cnf           *Confirmation `json:"cnf,omitempty"`
}

// wire returns c's wireClaims; c has been filled in by Mint.
func (c *Claims) wire() *wireClaims {
	return &wireClaims{Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience[0], IssuedAt: int64(*c.IssuedAt),
		NotBefore: int64(*c.NotBefore), Expiry: int64(*c.Expiry), ID: c.ID, ClientID: c.ClientID, TokenType: c.TokenType,
		WorkspaceID: c.WorkspaceID, PrincipalType: c.PrincipalType, Generation: c.Generation, ProvisionID: c.ProvisionID,
		Scope: c.Scope, Act: c.Act, Cnf: c.Cnf}
}

// workspaceOf returns the canonical workspace id of a token's hpe_workspace_id.
func workspaceOf(c *Claims) (string, bool) {
	id, err := ids.Parse(c.WorkspaceID)
	return id, err == nil && !strings.Contains(c.WorkspaceID, "-")
}
