package token

import (
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"github.com/keyhold/keyhold/internal/clientauth"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/dpop"
	"net/http"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/audit"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/storage"
)

// handleIntrospect is RFC 7662. The caller authenticates as a client of the issuer's
// workspace; a token is reported active only if it is valid now and was issued by this same
// workspace's issuer, so introspection reveals nothing across workspaces.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	f, ws, oe := s.authenticatedForm(w, r)
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	raw := f.get("token")
	if raw == "" {
		writeOAuthError(w, badRequest(errInvalidRequest, "token is required"))
		return
	}
	caller, c, err := s.CheckToken(f.clientID, raw)
	if oe := s.budgetError(err); oe != nil {
		writeOAuthError(w, oe)
		return
	}
	if err != nil || caller.WorkspaceID != ws {
		writeJSON(w, http.StatusOK, map[string]bool{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, introspection(c))
}

func introspection(c *Claims) map[string]any {
	out := map[string]any{
		"active": true, "token_type": "Bearer", "client_id": c.ClientID, "sub": c.Subject,
		"iss": c.Issuer, "aud": c.Audience, "jti": c.ID, "exp": c.Expiry.Time().Unix(),
		"iat": c.IssuedAt.Time().Unix(), "nbf": c.NotBefore.Time().Unix(),
		"hpe_workspace_id": c.WorkspaceID, "hpe_principal_type": c.PrincipalType,
		"hpe_token_type": c.TokenType, "hpe_credential_generation": c.Generation,
	}
	if c.Scope != "" {
		out["scope"] = c.Scope
	}
	if c.ProvisionID != "" {
		out["hpe_service_manager_provision_id"] = c.ProvisionID
	}
	if c.Act != nil {
		out["act"] = c.Act
	}
	if c.Cnf != nil {
		out["cnf"] = c.Cnf
		if c.Cnf.JKT != "" {
			out["token_type"] = "DPoP"
		}
	}
	return out
}

// handleRevoke is RFC 7009. Invalid, expired and foreign tokens answer 200 without effect
// (§2.2); a valid token of this workspace issued to another client is refused (§2.1).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	f, ws, oe := s.authenticatedForm(w, r)
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	raw := f.get("token")
	if raw == "" {
		writeOAuthError(w, badRequest(errInvalidRequest, "token is required"))
		return
	}
	caller, c, err := s.CheckToken(f.clientID, raw)
	if oe := s.budgetError(err); oe != nil {
		writeOAuthError(w, oe)
		return
	}
	// A token is this issuer's to revoke when it is scoped to this workspace, or when it was
	// exchanged from one of this workspace's tokens (RFC 8693): its client_id names a client of
	// this workspace, and the tenant's issuer has no client that could revoke it.
	if err != nil || (caller.WorkspaceID != ws && (c.Act == nil || caller.ActingFrom != ws)) {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	if c.ClientID != f.clientID {
		writeOAuthError(w, badRequest(errUnauthorizedClient, "the token was not issued to this client"))
		return
	}
	if err := s.revoke(s.revokeActor(w, r, caller, ws), c); err != nil {
		s.Log.Error("revoke token", "error", err)
		desc := "the token could not be revoked; retry"
		if apperr.IsOutcomeUnknown(err) {
			desc = "the database became unavailable while the revocation was being committed; retry (revoking twice is harmless)"
		}
		writeOAuthError(w, &oauthError{status: http.StatusServiceUnavailable, code: errUnavailable,
			description: desc, retryAfter: apperr.StorageRetryAfter})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// revoke stores the revocation; an error means it did not commit. Once it has, this node
// refuses the token at once (the revocation is added to its view directly), and a failure to
// sync the views is only logged: answering an error for a revocation that stands would be
// wrong, and the next poll catches up.
func (s *Server) revoke(r *http.Request, c *Claims) error {
	if act := storage.AuditFrom(r.Context()); act != nil {
		defer func() {
			if s.AuditSink != nil && act.Record() != nil {
				s.AuditSink.Emit(act.Record())
			}
		}()
	}
	if err := s.Store.RevokeToken(r.Context(), storage.RevokedToken{JTI: c.ID, ExpiresAt: c.Expiry.Time()}); err != nil {
		return err
	}
	s.Verifier.Revoked.Add(c.ID, c.Expiry.Time())
	if err := s.Sync(r.Context()); err != nil {
		s.Log.Warn("a revocation committed but this node's views could not be brought up to date at once; the next poll will", "error", err)
	}
	return nil
}

// revokeActor puts the audit actor of a revocation into r's context: the client that revokes
// (the token's own client), in the issuer's workspace chain.
func (s *Server) revokeActor(w http.ResponseWriter, r *http.Request, caller *principal.Caller, ws string) *http.Request {
	who := caller.Subject
	act := &storage.AuditActor{Chain: ws, Principal: caller.Subject, CredentialID: caller.ClientID, OwnerID: caller.OwnerID,
		SourceAddr: ratelimit.SourceAddr(r), RequestID: w.Header().Get("X-Request-Id"),
		Category: audit.CategoryAuthentication, Action: "POST " + IssuerPrefix + "{ws}/revoke", TargetKind: storage.KindRevocation,
		Describe: audit.Describer(ws, who, "revoked")}
	return r.WithContext(storage.WithAudit(r.Context(), act))
}

// authenticatedForm resolves the issuer, parses the form and authenticates the client.
func (s *Server) authenticatedForm(w http.ResponseWriter, r *http.Request) (*form, string, *oauthError) {
	ws, oe := s.workspaceOfPath(r)
	if oe != nil {
		return nil, "", oe
	}
	f, oe := parseForm(w, r)
	if oe != nil {
		s.noteFormFailure(r, f, ws, oe)
		return nil, "", oe
	}
	e, oe := s.authenticateClient(r, f, ws)
	if oe != nil {
		return nil, "", oe
	}
	f.clientID = e.ID
	return f, ws, nil
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("ws") != "" {
		if _, oe := s.workspaceOfPath(r); oe != nil {
			writeOAuthError(w, oe)
			return
		}
	}
	body, err := s.Issuer.Keys.JWKS()
	if err != nil {
		s.Log.Error("jwks", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(body)
}

// handleMetadata serves RFC 8414 authorization server metadata for a workspace issuer, at
// both the RFC 8414 location and the OpenID one.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	ws, oe := s.workspaceOfPath(r)
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	iss := s.Issuer.IssuerURL(ws)
	authMethods := []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
	if s.MTLS {
		authMethods = append(authMethods, "tls_client_auth", "self_signed_tls_client_auth")
	}
	assertionAlgs := clientauth.AlgorithmNames()
	grants := []string{GrantClientCredentials}
	if s.Exchange {
		grants = append(grants, GrantTokenExchange)
	}
	algs := make([]string, 0, len(Algorithms))
	for _, a := range Algorithms {
		algs = append(algs, string(a))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeBody(w, map[string]any{
		"issuer":                                iss,
		"token_endpoint":                        iss + "/token",
		"jwks_uri":                              iss + "/jwks",
		"introspection_endpoint":                iss + "/introspect",
		"revocation_endpoint":                   iss + "/revoke",
		"grant_types_supported":                 grants,
		"token_endpoint_auth_methods_supported": authMethods,
		"introspection_endpoint_auth_methods_supported": authMethods,
		"revocation_endpoint_auth_methods_supported":    authMethods,
		// private_key_jwt: the algorithms a client assertion may be signed with.
		"token_endpoint_auth_signing_alg_values_supported":         assertionAlgs,
		"introspection_endpoint_auth_signing_alg_values_supported": assertionAlgs,
		"revocation_endpoint_auth_signing_alg_values_supported":    assertionAlgs,
		"dpop_signing_alg_values_supported":                        dpop.AlgorithmNames(),
		"tls_client_certificate_bound_access_tokens":               s.MTLS,
		"id_token_signing_alg_values_supported":                    algs,
		"subject_types_supported":                                  []string{"public"},
		// No response_types_supported and no scopes_supported: keyhold has no authorization
		// endpoint (no grant it serves uses one), and its scopes are the registered permissions
		// and their wildcards, which change as providers register them (RFC 8414 §2 lets a
		// server leave scope values out of scopes_supported). RFC 8414 §3.2 says claims
		// with zero elements MUST be omitted (an empty list is what strict validators refuse;
		// RFC 8414 erratum 7793 words the requirement as "unless no grant types are
		// supported that use the authorization endpoint").
	})
}

func writeBody(w http.ResponseWriter, body any) {
	w.WriteHeader(http.StatusOK)
	_ = jsonEncode(w, body)
}

// BudgetError is CheckToken's refusal of a caller that has presented too many invalid
// tokens; Wait is how long until it may present one more.
type BudgetError struct{ Wait time.Duration }

func (e *BudgetError) Error() string {
	return "too many invalid tokens presented; tokens that are not already verified are not checked until the budget refills"
}

// CheckToken verifies a token that the authenticated caller callerID asks about (an AuthZEN
// token subject, a token to introspect or revoke), within the caller's budget of invalid
// tokens: each invalid one costs the caller a failure, and while the caller is out of budget
// only tokens already in the verified-token cache are answered (at no cost); any other token
// is not looked at and the answer is a *BudgetError. So a caller cannot make the node verify
// signatures or sync its views for more than its budget of bad tokens.
func (s *Server) CheckToken(callerID, raw string) (*principal.Caller, *Claims, error) {
	if s.TokenChecks == nil {
		return s.Verifier.Verify(raw)
	}
	if blocked, wait := s.TokenChecks.Blocked(callerID); blocked {
		caller, c, cached, err := s.Verifier.VerifyIfCached(raw)
		if !cached {
			s.Observer.AuthFailed("token_check", "rate_limited")
			return nil, nil, &BudgetError{Wait: wait}
		}
		return caller, c, err
	}
	caller, c, err := s.Verifier.Verify(raw)
	if err != nil {
		s.TokenChecks.Fail(callerID)
	}
	return caller, c, err
}

// budgetError is the OAuth answer to a BudgetError: 429 with Retry-After.
func (s *Server) budgetError(err error) *oauthError {
	var be *BudgetError
	if !errors.As(err, &be) {
		return nil
	}
	return &oauthError{status: http.StatusTooManyRequests, code: errUnavailable,
		description: "too many invalid tokens presented; retry later", retryAfter: ratelimit.RetryAfter(be.Wait)}
}

// ErrNoCaller is returned by Authenticate when no bearer token was presented.
var ErrNoCaller = errors.New("no bearer token")

// Authenticate verifies a bearer token for the JSON APIs.
func (s *Server) Authenticate(raw string, peer *x509.Certificate) (*principal.Caller, error) {
	if raw == "" {
		return nil, ErrNoCaller
	}
	caller, c, err := s.Verifier.Verify(raw)
	if err != nil {
		return nil, err
	}
	if c.Cnf != nil && c.Cnf.JKT != "" {
		// RFC 9449 §7.1: a DPoP-bound token is only good with a proof of its key.
		return nil, invalid("the token is DPoP-bound: present it with the DPoP scheme and a proof")
	}
	if err := certBound(c, peer); err != nil {
		return nil, err
	}
	return caller, nil
}

// certBound checks a certificate-bound token (RFC 8705 §3) against the TLS client
// certificate of the request (nil: none).
func certBound(c *Claims, peer *x509.Certificate) error {
	if c.Cnf == nil || c.Cnf.X5T == "" {
		return nil
	}
	if peer == nil || subtle.ConstantTimeCompare([]byte(credential.CertThumbprint(peer.Raw)), []byte(c.Cnf.X5T)) != 1 {
		return invalid("the token is bound to a TLS client certificate this request does not present")
	}
	return nil
}

// AuthenticateDPoP verifies a DPoP-bound access token presented with the DPoP scheme and its
// proof for this request (method, url: the public URL the client called). seen refuses
// replayed proofs (per node). With nonces required, a proof without a valid nonce is a
// *NonceError (checked after the token and the proof's signature, before the replay cache);
// fresh is a new nonce to send (DPoP-Nonce) when the proof's is about to expire.
func (s *Server) AuthenticateDPoP(raw, proof, method, url string, seen *dpop.Cache, peer *x509.Certificate) (caller *principal.Caller, fresh string, err error) {
	if raw == "" {
		return nil, "", ErrNoCaller
	}
	caller, c, err := s.Verifier.Verify(raw)
	if err != nil {
		return nil, "", err
	}
	if c.Cnf == nil || c.Cnf.JKT == "" {
		return nil, "", invalid("the token is not DPoP-bound: present it as a bearer token")
	}
	now := s.Issuer.Now()
	p, err := dpop.Verify(proof, method, url, raw, now)
	if err != nil {
		return nil, "", invalid(err.Error())
	}
	if p.JKT != c.Cnf.JKT {
		return nil, "", invalid("the DPoP proof is signed by another key than the token's")
	}
	if err := certBound(c, peer); err != nil {
		return nil, "", err
	}
	if fresh, err = s.checkNonce(p, now); err != nil {
		return nil, "", err
	}
	if !seen.Use(p, now) {
		return nil, "", invalid("the DPoP proof was used before")
	}
	return caller, fresh, nil
}
