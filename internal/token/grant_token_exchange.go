package token

import (
	"fmt"
	"net/http"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/scope"
)

// Token exchange names (RFC 8693).
const (
	GrantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// tokenExchange is RFC 8693 in GreenLake's MSP form: a token of an MSP workspace, posted to
// the token endpoint of one of the MSP's tenants, becomes a token for that tenant that acts
// with the MSP assignments reaching it and names the original subject in "act". The new token
// never outlives the subject token. Every refusal of the subject token, whether invalid or
// unacceptable by policy, is invalid_request, as RFC 8693 §2.2.2 requires.
//
// Client authentication is optional (GreenLake's form has none; RFC 8693 §2.1 allows it, and
// clients send it): a client that authenticates (HTTP Basic or client_secret in the body) must
// be the subject token's own client, and a bare client_id (a public client's form) must name
// it; anything else is invalid_request. A failed authentication is invalid_client, counted
// against the source's failure budget like any other.
func (s *Server) tokenExchange(r *http.Request, f *form, ws string) (*tokenResponse, *oauthError) {
	if oe := exchangeParams(f); oe != nil {
		return nil, oe
	}
	req, oe := requestedScope(f)
	if oe != nil {
		return nil, oe
	}
	var client string
	switch {
	case !f.basic && f.clientSecret != "" && f.clientID == "":
		return nil, badRequest(errInvalidRequest, "client_secret without client_id")
	case f.basic || f.clientSecret != "":
		e, oe := s.authenticateClientFor(r, f, ws, func(credential.Entry) bool { return true })
		if oe != nil {
			return nil, oe
		}
		client = e.ID
	case f.clientID != "":
		client = f.clientID
	}
	src := ratelimit.Source(r)
	if blocked, wait := s.AddrFailures.Gate(src); blocked {
		return nil, s.limited(wait)
	}
	caller, sub, err := s.Verifier.Verify(f.get("subject_token"))
	if err != nil {
		s.AddrFailures.Fail(src)
		s.Observer.AuthFailed("exchange", "invalid_subject")
		return nil, badRequest(errInvalidRequest, "the subject token is not valid: "+err.Error())
	}
	if sub.Cnf != nil {
		return nil, badRequest(errInvalidRequest, "a DPoP-bound subject token cannot be exchanged")
	}
	if len(r.Header.Values("DPoP")) > 0 {
		return nil, badRequest(errInvalidRequest, "DPoP is not available with token exchange")
	}
	if f.has("resource") {
		return nil, badRequest(errInvalidTarget, "resource is not available with token exchange")
	}
	if oe := s.exchangeAllowed(caller, sub, ws); oe != nil {
		return nil, oe
	}
	if client != "" && !sameClient(client, caller.ClientID) {
		return nil, badRequest(errInvalidRequest, "the client is not the subject token's client")
	}
	granted, oe := s.exchangeScope(req, caller)
	if oe != nil {
		return nil, oe
	}
	c := &Claims{
		Subject:       caller.Subject,
		ClientID:      caller.ClientID,
		WorkspaceID:   ws,
		PrincipalType: sub.PrincipalType,
		Generation:    sub.Generation,
		ProvisionID:   sub.ProvisionID,
		Expiry:        jwt.NewNumericDate(sub.Expiry.Time()),
		Act:           &Actor{Subject: caller.Subject, WorkspaceID: ids.Hex(caller.WorkspaceID), ClientID: caller.ClientID},
		Scope:         granted.String(),
	}
	resp, oe := s.respond(c, GrantTokenExchange)
	if resp != nil {
		resp.IssuedTokenType = TokenTypeAccessToken
		s.noteLogin(caller.OwnerID)
	}
	return resp, oe
}

// sameClient compares client ids in any of their spellings.
func sameClient(a, b string) bool {
	x, errX := ids.Parse(a)
	y, errY := ids.Parse(b)
	return errX == nil && errY == nil && x == y
}

// exchangeParams checks the request's shape: an access token as subject, no actor token, no
// target.
func exchangeParams(f *form) *oauthError {
	switch {
	case f.get("subject_token") == "":
		return badRequest(errInvalidRequest, "subject_token is required")
	case f.get("subject_token_type") != TokenTypeAccessToken:
		return badRequest(errInvalidRequest, "subject_token_type must be "+TokenTypeAccessToken)
	case f.get("requested_token_type") != "" && f.get("requested_token_type") != TokenTypeAccessToken:
		return badRequest(errInvalidRequest, "requested_token_type must be "+TokenTypeAccessToken)
	case f.get("actor_token") != "" || f.get("actor_token_type") != "":
		return badRequest(errInvalidRequest, "actor tokens are not supported")
	case f.get("audience") != "" || f.get("resource") != "":
		return badRequest("invalid_target", "the target is the tenant of the token endpoint; audience and resource are not supported")
	}
	return nil
}

// exchangeScope decides an exchanged token's scope: the request's (req) may narrow the subject
// token's scope, never widen it (an item outside it is invalid_scope); with no request, the
// subject token's scope carries over. A subject token without scope stands for its
// credential's allowed scopes (package doc of scope; grantScope), so it is treated as a token
// that asked for none.
func (s *Server) exchangeScope(req *scope.Set, caller *principal.Caller) (*scope.Set, *oauthError) {
	if caller.Scope == nil {
		e, _ := s.Verifier.Creds.Get(caller.ClientID) // Verify has just read it
		return s.grantScope(req, &e)
	}
	if req == nil {
		return caller.Scope, nil
	}
	if item, ok := caller.Scope.Covers(req); !ok {
		return nil, badRequest(errInvalidScope, fmt.Sprintf("scope %q is not within the subject token's scope", item))
	}
	return req, nil
}

// exchangeAllowed applies the MSP rules: a first-hand token of the MSP workspace itself, a
// target that is one of its tenants, and an MSP assignment of the subject reaching it.
func (s *Server) exchangeAllowed(caller *principal.Caller, sub *Claims, ws string) *oauthError {
	switch {
	case sub.Act != nil:
		return badRequest(errInvalidRequest, "an exchanged token cannot be exchanged again")
	case caller.ActingFrom != "":
		return badRequest(errInvalidRequest, "the subject token is scoped to a tenant; exchange the MSP's own token")
	}
	if t, ok := s.Workspaces.Get(ws); !ok || t.ParentID != caller.WorkspaceID {
		return badRequest(errInvalidRequest, "this workspace is not a tenant of the subject token's workspace")
	}
	if !s.Reach(caller.Principals(), caller.WorkspaceID, ws) {
		return badRequest(errInvalidRequest, "the subject holds no MSP role assignment that reaches this tenant")
	}
	return nil
}
