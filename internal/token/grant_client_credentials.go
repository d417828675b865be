package token

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/credential"

	"github.com/keyhold/keyhold/internal/dpop"
	"github.com/keyhold/keyhold/internal/storage"

	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/scope"
)

// clientCredentials is RFC 6749 §4.4: the client authenticates and receives a token for the
// workspace its credential belongs to, with the scope grantScope decides.
func (s *Server) clientCredentials(r *http.Request, f *form, ws string) (*tokenResponse, *oauthError) {
	req, oe := requestedScope(f)
	if oe != nil {
		return nil, oe
	}
	e, oe := s.authenticateClient(r, f, ws)
	if oe != nil {
		return nil, oe
	}
	granted, oe := s.grantScope(req, &e)
	if oe != nil {
		return nil, oe
	}
	c := &Claims{
		Subject:       principal.APIClient(e.ID),
		ClientID:      e.ID,
		WorkspaceID:   ws,
		PrincipalType: principal.TypeAPIClient,
		Generation:    e.Generation,
		ProvisionID:   e.ProvisionID,
		Scope:         granted.String(),
	}
	if f.certThumb != "" {
		c.Cnf = &Confirmation{X5T: f.certThumb}
	}
	if oe := applyTokenSettings(f, &e, c, s.Issuer.Now()); oe != nil {
		return nil, oe
	}
	var fresh string
	if len(r.Header.Values("DPoP")) > 0 {
		if fresh, oe = s.bindDPoP(r, ws, c); oe != nil {
			return nil, oe
		}
	}
	resp, oe := s.respond(c, GrantClientCredentials)
	if resp != nil {
		s.noteLogin(e.OwnerID)
		resp.dpopNonce = fresh
	}
	return resp, oe
}

// requestedScope parses the request's scope parameter (package scope); nil when it has none
// (or an empty one, which keyhold has always accepted as none). A malformed or overlong value
// is invalid_scope naming the item (RFC 6749 §5.2).
func requestedScope(f *form) (*scope.Set, *oauthError) {
	raw := f.get("scope")
	if raw == "" {
		return nil, nil
	}
	req, err := scope.Parse(raw)
	if err != nil {
		return nil, badRequest(errInvalidScope, err.Error())
	}
	return req, nil
}

// grantScope decides the scope of a token for the credential e from the request's req (nil:
// none asked): within the credential's allowed scopes when it has some (anything outside
// them is invalid_scope; no request gets all of them), else any registered permissions; no
// request and no allowed scopes is an unrestricted token (nil, no scope claim). Both the
// allowed set and the permissions are in-memory reads.
func (s *Server) grantScope(req *scope.Set, e *credential.Entry) (*scope.Set, *oauthError) {
	switch {
	case e.ScopesUnreadable:
		return nil, badRequest(errInvalidScope, "the credential's allowed scopes cannot be read; set its token settings again")
	case req == nil:
		return e.Scopes, nil
	case e.Scopes != nil:
		if item, ok := e.Scopes.Covers(req); !ok {
			return nil, badRequest(errInvalidScope, fmt.Sprintf("scope %q is not among the credential's allowed scopes", item))
		}
		return req, nil
	}
	return req, s.knownScope(req)
}

// knownScope refuses a scope with an item that names no registered permission.
func (s *Server) knownScope(req *scope.Set) *oauthError {
	if s.KnownScope == nil {
		return nil
	}
	for _, item := range req.Items() {
		if !s.KnownScope(item) {
			return badRequest(errInvalidScope, fmt.Sprintf("scope %q names no registered permission", item))
		}
	}
	return nil
}

// noteLogin tells Logins that a credential of userID obtained a token now.
func (s *Server) noteLogin(userID string) {
	if s.Logins == nil {
		return
	}
	now := time.Now
	if s.Issuer != nil && s.Issuer.Now != nil {
		now = s.Issuer.Now
	}
	s.Logins.Note(userID, now())
}

// applyTokenSettings shapes c by the credential's token settings, read from the in-memory
// entry: its lifetime (Mint still caps it at the server's) and, when the request names a
// resource (RFC 8707), that resource as the only audience, if the credential allows it.
func applyTokenSettings(f *form, e *credential.Entry, c *Claims, now time.Time) *oauthError {
	if e.TokenTTL > 0 {
		c.Expiry = jwt.NewNumericDate(now.Truncate(time.Second).Add(e.TokenTTL))
	}
	if !f.has("resource") {
		return nil
	}
	res := f.get("resource")
	if !slices.Contains(e.Audiences, res) {
		return badRequest(errInvalidTarget, "resource is not one of the credential's audiences")
	}
	c.Audience = jwt.Audience{res}
	return nil
}

// RFC 9449 §5's error for a missing or bad proof, and §8's for a proof without the server's
// nonce.
const (
	errInvalidDPoPProof = "invalid_dpop_proof"
	errUseDPoPNonce     = "use_dpop_nonce"
)

// DPoPNonceHeader carries a server nonce (RFC 9449 §8).
const DPoPNonceHeader = "DPoP-Nonce"

// bindDPoP verifies the request's DPoP proof (RFC 9449 §4.3) for this token endpoint and binds
// the token to its key (cnf.jkt). With nonces required, a proof without a valid one is
// answered use_dpop_nonce with a fresh nonce before anything is recorded; fresh is a new
// nonce to send with the token when the proof's is about to expire. The proof's jti is
// recorded in the store, so a proof replayed to any node is refused; the client
// authenticated first, so only clients can fill that record.
func (s *Server) bindDPoP(r *http.Request, ws string, c *Claims) (fresh string, oe *oauthError) {
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		return "", badRequest(errInvalidDPoPProof, "send exactly one DPoP header")
	}
	now := s.Issuer.Now()
	p, err := dpop.Verify(proofs[0], http.MethodPost, s.Issuer.IssuerURL(ws)+"/token", "", now)
	if err != nil {
		return "", badRequest(errInvalidDPoPProof, err.Error())
	}
	fresh, err = s.checkNonce(p, now)
	if err != nil {
		var ne *NonceError
		if errors.As(err, &ne) {
			return "", &oauthError{status: http.StatusBadRequest, code: errUseDPoPNonce, description: ne.Reason, dpopNonce: ne.Nonce}
		}
		return "", &oauthError{status: http.StatusServiceUnavailable, code: errUnavailable, description: err.Error(), retryAfter: 1}
	}
	switch err := s.Store.UseAssertionID(r.Context(), "dpop:"+p.JKT, p.JTI, p.Until, now); {
	case errors.Is(err, storage.ErrConflict):
		return "", badRequest(errInvalidDPoPProof, "the DPoP proof was used before")
	case err != nil:
		s.Log.Warn("recording a DPoP proof failed", "error", err.Error())
		return "", &oauthError{status: http.StatusServiceUnavailable, code: errUnavailable,
			description: "DPoP proofs cannot be checked for replay right now", retryAfter: 1}
	}
	if c.Cnf == nil {
		c.Cnf = &Confirmation{}
	}
	c.Cnf.JKT = p.JKT
	return fresh, nil
}

// NonceError says that a DPoP proof lacks a valid server nonce: the token endpoint answers
// 400 use_dpop_nonce (RFC 9449 §8), the API 401 with a DPoP error="use_dpop_nonce"
// challenge (§9), both with Nonce in DPoP-Nonce.
type NonceError struct {
	Nonce  string
	Reason string
}

func (e *NonceError) Error() string { return e.Reason }

// ErrNoNonce: nonces are required but this node holds no key to make one with (it cannot sign
// tokens either); a 503.
var ErrNoNonce = errors.New("no DPoP nonce can be made on this node right now (it holds no usable signing key)")

// checkNonce checks a verified proof's nonce when nonces are required (s.Nonces set): a
// *NonceError when it has no valid one; fresh, a new nonce to hand out, when its nonce is
// valid but about to expire (from the previous window or a previous key). Only in-memory
// work: a comparison with the current window's MACs, or an HMAC-SHA256 per held key at most.
func (s *Server) checkNonce(p *dpop.Proof, now time.Time) (fresh string, err error) {
	if s.Nonces == nil {
		return "", nil
	}
	state := s.Nonces.Check(p.Nonce, now)
	if state == dpop.NonceValid {
		return "", nil
	}
	nonce, ok := s.Nonces.Make(now)
	if !ok {
		return "", ErrNoNonce
	}
	switch {
	case state == dpop.NonceStale:
		return nonce, nil
	case p.Nonce == "":
		return "", &NonceError{Nonce: nonce, Reason: "the DPoP proof needs the server's nonce: sign a new proof with the nonce in DPoP-Nonce"}
	default:
		return "", &NonceError{Nonce: nonce, Reason: "the DPoP proof's nonce is not valid or has expired: sign a new proof with the nonce in DPoP-Nonce"}
	}
}
