package token

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/credential"

	"github.com/keyhold/keyhold/internal/dpop"
	"github.com/keyhold/keyhold/internal/storage"

	"github.com/keyhold/keyhold/internal/principal"
)

// clientCredentials is RFC 6749 §4.4: the client authenticates and receives a token for the
// workspace its credential belongs to. keyhold defines no OAuth scopes: a well-formed scope
// parameter is accepted and nothing is granted for it, so none is echoed.
func (s *Server) clientCredentials(r *http.Request, f *form, ws string) (*tokenResponse, *oauthError) {
	if sc := f.get("scope"); sc != "" && !validScope(sc) {
		return nil, badRequest(errInvalidScope, "scope is malformed")
	}
	e, oe := s.authenticateClient(r, f, ws)
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
