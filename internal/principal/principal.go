package principal

import (
	"fmt"
	"strings"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/scope"
)

// Principal types, as they prefix principal strings and appear in hpe_principal_type.
const (
	TypeUser      = "user"
	TypeUserGroup = "user-group"
	TypeAPIClient = "api-client"
)

// User, Group and APIClient build principal strings.
func User(id string) string      { return TypeUser + ":" + id }
func Group(id string) string     { return TypeUserGroup + ":" + id }
func APIClient(id string) string { return TypeAPIClient + ":" + id }

// Parse splits a principal string into its type and canonical id.
func Parse(s string) (typ, id string, err error) {
	typ, raw, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", fmt.Errorf("principal %q: expected <type>:<id>", truncate(s))
	}
	switch typ {
	case TypeUser, TypeUserGroup, TypeAPIClient:
	default:
		return "", "", fmt.Errorf("principal type %q: expected user, user-group or api-client", truncate(typ))
	}
	id, err = ids.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("principal %q: %w", truncate(s), err)
	}
	return typ, id, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Actor names who acted through a token exchange (RFC 8693 "act").
type Actor struct {
	Subject     string
	WorkspaceID string
}

// Caller is the authenticated identity behind a request.
type Caller struct {
	// Subject is the principal the token was issued to ("api-client:<id>").
	Subject string
	// ClientID is the credential that authenticated; OwnerID is the user who owns it.
	ClientID string
	OwnerID  string
	// WorkspaceID is the workspace the token is scoped to (canonical form).
	WorkspaceID string
	// TokenID is the token's jti; Expiry its exp in Unix seconds.
	TokenID string
	Expiry  int64
	// Act is set on exchanged tokens.
	Act *Actor
	// ActingFrom is the MSP workspace a caller acts from when its token is scoped to one of
	// the MSP's tenants (an exchanged token, or a credential the MSP made for the tenant);
	// its permissions there come from the MSP's assignments that reach the tenant.
	ActingFrom string
	// Scope is the token's OAuth scope (its scope claim, parsed once when the token was
	// verified): the caller holds a permission only if its assignments grant it and the scope
	// permits it. nil: the token carries no scope and is not restricted by one.
	Scope *scope.Set
}

// Principals lists every principal whose assignments the caller acts with: the API client
// itself and the user who owns it.
func (c *Caller) Principals() []string {
	out := []string{c.Subject}
	if c.OwnerID != "" {
		out = append(out, User(c.OwnerID))
	}
	return out
}
