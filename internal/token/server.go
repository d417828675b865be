package token

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"github.com/keyhold/keyhold/internal/clientauth"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/keyhold/keyhold/internal/audit"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/dpop"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/workspace"
)

// Grant type names.
const (
	GrantClientCredentials = "client_credentials"
)

// Observer receives the token service's events for metrics.
type Observer interface {
	TokenIssued(grant string)
	AuthFailed(kind, reason string)
}

// Server serves the OAuth endpoints of every workspace issuer.
type Server struct {
	Issuer     *Issuer
	Verifier   *Verifier
	Creds      *credential.Index
	Workspaces *workspace.Directory
	Store      storage.Store
	// Sync brings this node's views up to date with the store.
	Sync func(context.Context) error
	// AddrFailures budgets failed authentications per source (ratelimit.Source): there is no
	// per-client budget, so nobody can lock a client out by failing in its name.
	AddrFailures *ratelimit.Limiter[netip.Addr]
	// TokenChecks budgets the invalid tokens an authenticated caller asks about (decisions
	// about token subjects, introspection, revocation), keyed by the caller's client id; nil:
	// no budget. See CheckToken.
	TokenChecks *ratelimit.Limiter[string]
	Observer    Observer
	Log         *slog.Logger
	// Exchange enables RFC 8693 token exchange (GreenLake Cloud has it, the Dedicated
	// Platform does not).
	Exchange bool
	// Audit, when set, records failed client authentications (off the request's path: it
	// batches).
	Audit *audit.Recorder
	// AuditSink, when set, receives the audit records of revocations once committed.
	AuditSink audit.Sink
	// Reach reports whether principals hold an MSP assignment reaching a tenant.
	Reach func(principals []string, mspID, tenantID string) bool
	// KnownScope reports whether an OAuth scope item names registered permissions
	// (rbac.Engine.KnownScope, an in-memory read); nil accepts any well-formed item.
	KnownScope func(item string) bool
	// JWKSFetcher fetches the key sets of credentials that register a jwks_uri for
	// private_key_jwt (nil: such credentials cannot authenticate with assertions).
	JWKSFetcher *clientauth.Fetcher
	// MTLS: keyhold serves TLS and asks clients for certificates (RFC 8705 methods are
	// offered); ClientCAs verifies the certificates of tls_client_auth (nil: that method
	// is not available, self_signed_tls_client_auth still is).
	MTLS      bool
	ClientCAs *x509.CertPool
	// Logins, when set, is told the owner of every credential that obtains a token (its
	// last login); it must not block (identity.LoginRecorder batches).
	Logins interface {
		Note(userID string, at time.Time)
	}
	// Nonces, when set, makes DPoP proofs need a server nonce (RFC 9449 §8, §9: --dpop-nonce
	// required), at the token endpoint and with DPoP-bound tokens on the API; nil: proofs
	// need none (a nonce they carry is ignored).
	Nonces *dpop.Nonces
}

// IssuerPrefix is the path of every workspace issuer, followed by the workspace id.
const IssuerPrefix = "/authorization/v2/oauth2/"

// Mux is where Register adds its routes: an *http.ServeMux, or a wrapper of one.
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Register adds the OAuth routes to mux.
func (s *Server) Register(mux Mux) {
	mux.HandleFunc("POST "+IssuerPrefix+"{ws}/token", s.handleToken)
	mux.HandleFunc("POST "+IssuerPrefix+"{ws}/introspect", s.handleIntrospect)
	mux.HandleFunc("POST "+IssuerPrefix+"{ws}/revoke", s.handleRevoke)
	mux.HandleFunc("GET "+IssuerPrefix+"{ws}/jwks", s.handleJWKS)
	mux.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)
	mux.HandleFunc("GET "+IssuerPrefix+"{ws}/.well-known/openid-configuration", s.handleMetadata)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server"+IssuerPrefix+"{ws}", s.handleMetadata)
}

// workspaceOfPath resolves the {ws} of an issuer path to an existing workspace. A workspace
// unknown to this node's view may have just been created elsewhere, so the view is synced once
// before concluding it does not exist; such misses count against the source address's failure
// budget, so a flood of unknown issuers cannot turn into a flood of database reads.
func (s *Server) workspaceOfPath(r *http.Request) (string, *oauthError) {
	notFound := &oauthError{status: http.StatusNotFound, code: errInvalidRequest, description: "no such issuer"}
	id, err := ids.Parse(r.PathValue("ws"))
	if err != nil {
		return "", notFound
	}
	if _, ok := s.Workspaces.Get(id); ok {
		return id, nil
	}
	src := ratelimit.Source(r)
	if blocked, _ := s.AddrFailures.Gate(src); blocked {
		return "", notFound
	}
	s.AddrFailures.Fail(src)
	if err := s.Sync(r.Context()); err != nil {
		s.Log.Error("sync on unknown workspace", "error", err)
	}
	if _, ok := s.Workspaces.Get(id); ok {
		return id, nil
	}
	return "", notFound
}

// authenticateClient is the one client-authentication step every grant and endpoint that
// needs it goes through. A source that has failed too often is refused before any credential
// is looked at (and the refused attempt counts, so a source that keeps trying stays blocked);
// failures are budgeted per source only, never per client id, so failures in a client's
// name from elsewhere never refuse the client itself. Every failure looks the same whether
// the client id exists, belongs to another workspace, or the secret is wrong.
func (s *Server) authenticateClient(r *http.Request, f *form, ws string) (credential.Entry, *oauthError) {
	return s.authenticateClientFor(r, f, ws, func(e credential.Entry) bool { return e.TokenWorkspaceID == ws })
}

// authenticateClientFor is authenticateClient with the rule on the credential's issuer given
// by issuerOK (a token exchange is sent to the tenant's issuer by the MSP's client).
func (s *Server) authenticateClientFor(r *http.Request, f *form, ws string, issuerOK func(credential.Entry) bool) (credential.Entry, *oauthError) {
	src := ratelimit.Source(r)
	if blocked, wait := s.AddrFailures.Gate(src); blocked {
		return credential.Entry{}, s.limited(wait)
	}
	if f.clientID == "" {
		s.clientFailed(r, f, ws, FailMissing)
		return credential.Entry{}, &oauthError{status: http.StatusUnauthorized, code: errInvalidClient,
			description: "client authentication is required", basic: f.basic}
	}
	if f.assertion != nil {
		return s.ownerActive(r, f, ws)(s.authenticateAssertion(r, f, ws, issuerOK))
	}
	if f.clientSecret == "" && !f.basic && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return s.ownerActive(r, f, ws)(s.authenticateTLS(r, f, ws, issuerOK))
	}
	e, ok := s.Creds.Authenticate(f.clientID, f.clientSecret)
	if !ok {
		// The credential may have been created, or its secret reset, on another node or by the
		// CLI a moment ago. Every failure syncs, known client id or not, so the time a failure
		// takes says nothing about whether the client exists; the budgets above bound the cost.
		if err := s.Sync(r.Context()); err == nil {
			e, ok = s.Creds.Authenticate(f.clientID, f.clientSecret)
		}
	}
	if !ok || !issuerOK(e) {
		s.AddrFailures.Fail(src)
		s.clientFailed(r, f, ws, s.why(f, ok))
		return credential.Entry{}, &oauthError{status: http.StatusUnauthorized, code: errInvalidClient,
			description: "client authentication failed", basic: f.basic}
	}
	return s.ownerActive(r, f, ws)(e, nil)
}

// ownerActive refuses a client that authenticated (by whatever method) but whose owner is
// deactivated: refused like any failure (the client learns nothing more), not counted
// against the source (nothing is guessed).
func (s *Server) ownerActive(r *http.Request, f *form, ws string) func(credential.Entry, *oauthError) (credential.Entry, *oauthError) {
	return func(e credential.Entry, oe *oauthError) (credential.Entry, *oauthError) {
		if oe != nil || !e.OwnerInactive {
			return e, oe
		}
		s.clientFailed(r, f, ws, FailOwnerInactive)
		return credential.Entry{}, &oauthError{status: http.StatusUnauthorized, code: errInvalidClient,
			description: "client authentication failed", basic: f.basic}
	}
}

// authenticateAssertion is client authentication by private_key_jwt: the assertion's
// signature is verified with the keys the credential registered, its claims against this
// workspace's issuer, and its jti recorded in the store, where a replay on any node finds it.
// That record is the one write on this path (client_secret authentication writes nothing).
func (s *Server) authenticateAssertion(r *http.Request, f *form, ws string, issuerOK func(credential.Entry) bool) (credential.Entry, *oauthError) {
	refuse := func(reason string) (credential.Entry, *oauthError) { return s.refuseClient(r, f, ws, reason) }
	e, ok := s.freshEntry(r, f.clientID, func(e credential.Entry) bool { return e.Keys != nil || e.KeysURI != "" })
	switch {
	case !ok:
		return refuse(credential.FailUnknown)
	case e.Keys == nil && e.KeysURI == "":
		return refuse(clientauth.FailNoKeys)
	}
	keys := e.Keys
	if keys == nil {
		var err error
		if s.JWKSFetcher == nil {
			return refuse(clientauth.FailNoKeys)
		}
		if keys, err = s.JWKSFetcher.Keys(r.Context(), e.KeysURI, f.assertion.KeyID); err != nil {
			s.Log.Info("jwks_uri fetch failed", "client_id", e.ID, "error", err.Error())
			return refuse(clientauth.FailNoKeys)
		}
	}
	iss := s.Issuer.IssuerURL(ws)
	now := s.Issuer.Now()
	jti, exp, err := f.assertion.Verify(keys, e.ID, []string{iss + "/token", iss}, now)
	if err != nil {
		return refuse(clientauth.Reason(err))
	}
	if !issuerOK(e) {
		return refuse(FailWrongIssuer)
	}
	switch err := s.Store.UseAssertionID(r.Context(), e.ID, jti, exp, now); {
	case errors.Is(err, storage.ErrConflict):
		return refuse(clientauth.FailReplayed)
	case err != nil:
		s.Log.Warn("recording a client assertion failed", "client_id", e.ID, "error", err.Error())
		return credential.Entry{}, &oauthError{status: http.StatusServiceUnavailable, code: errUnavailable,
			description: "client assertions cannot be checked for replay right now", retryAfter: 1}
	}
	return e, nil
}

// FailTLSCertificate: the TLS client certificate is not one the credential registered.
const FailTLSCertificate = "tls_certificate"

// authenticateTLS is mutual-TLS client authentication (RFC 8705 §2): the certificate the
// client presented in the handshake is one of the self-signed certificates the credential
// registered (compared by SHA-256 thumbprint), or a certificate for client authentication
// that chains to --tls-client-ca-file and carries the subject DN the credential registered.
// The token is then bound to the certificate (f.certThumb).
func (s *Server) authenticateTLS(r *http.Request, f *form, ws string, issuerOK func(credential.Entry) bool) (credential.Entry, *oauthError) {
	e, ok := s.freshEntry(r, f.clientID, func(e credential.Entry) bool { return e.TLSSubjectDN != "" || len(e.TLSThumbprints) > 0 })
	if !ok {
		return s.refuseClient(r, f, ws, credential.FailUnknown)
	}
	chain := r.TLS.PeerCertificates
	thumb := credential.CertThumbprint(chain[0].Raw)
	if !s.certMatches(e, chain, thumb, s.Issuer.Now()) {
		return s.refuseClient(r, f, ws, FailTLSCertificate)
	}
	if !issuerOK(e) {
		return s.refuseClient(r, f, ws, FailWrongIssuer)
	}
	f.certThumb = thumb
	return e, nil
}

// certMatches reports whether the presented chain (leaf first, thumbprint thumb) is one of
// e's registered self-signed certificates, valid now, or a client-authentication certificate
// chaining to ClientCAs with e's registered subject DN.
func (s *Server) certMatches(e credential.Entry, chain []*x509.Certificate, thumb string, now time.Time) bool {
	leaf := chain[0]
	if !now.Before(leaf.NotBefore) && !now.After(leaf.NotAfter) {
		matched := false
		for _, t := range e.TLSThumbprints {
			matched = subtle.ConstantTimeCompare([]byte(t), []byte(thumb)) == 1 || matched
		}
		if matched {
			return true
		}
	}
	if e.TLSSubjectDN == "" || s.ClientCAs == nil {
		return false
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: s.ClientCAs, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil && leaf.Subject.String() == e.TLSSubjectDN
}

// freshEntry reads credential id from the view; when it is unknown or not ready (it lacks
// what the authentication method needs), it syncs the view once first: the credential may
// have been created or changed on another node a moment ago.
func (s *Server) freshEntry(r *http.Request, id string, ready func(credential.Entry) bool) (credential.Entry, bool) {
	e, ok := s.Creds.Get(id)
	if !ok || !ready(e) {
		if err := s.Sync(r.Context()); err == nil {
			e, ok = s.Creds.Get(id)
		}
	}
	return e, ok
}

// refuseClient answers a failed client authentication: counted against the request's
// source, logged and counted with reason, invalid_client to the client.
func (s *Server) refuseClient(r *http.Request, f *form, ws, reason string) (credential.Entry, *oauthError) {
	s.AddrFailures.Fail(ratelimit.Source(r))
	s.clientFailed(r, f, ws, reason)
	return credential.Entry{}, &oauthError{status: http.StatusUnauthorized, code: errInvalidClient,
		description: "client authentication failed", basic: f.basic}
}

// Why client authentication failed, beyond credential.Index.Why's reasons: the reasons of
// the log line and of keyhold_auth_failures_total{kind="client"}.
const (
	FailMissing     = "missing"      // no client id
	FailMalformed   = "malformed"    // a Basic header that is not one, or a client id that is no id
	FailWrongIssuer = "wrong_issuer" // the right secret, sent to another workspace's issuer
	// FailOwnerInactive: the right secret of a credential whose owner is deactivated.
	FailOwnerInactive = "owner_inactive"
)

// why classifies a failed authentication (ok: the secret matched, the issuer did not).
func (s *Server) why(f *form, ok bool) string {
	switch {
	case ok:
		return FailWrongIssuer
	case !validID(f.clientID):
		return FailMalformed
	}
	if reason := s.Creds.Why(f.clientID, f.clientSecret); reason != "" {
		return reason
	}
	// Accepted now, refused a moment ago: it was reset or created meanwhile, on another
	// node; what the client sent was not the secret when it was checked.
	return credential.FailWrongSecret
}

func validID(s string) bool {
	_, err := ids.Parse(s)
	return err == nil
}

// clientFailed logs (at info, with the request id) and counts a failed client
// authentication. The secret is never logged; the client id only when it is one (a secret
// pasted into the client id field stays out of the log).
func (s *Server) clientFailed(r *http.Request, f *form, ws, reason string) {
	s.Observer.AuthFailed("client", reason)
	id := f.clientID
	if !validID(id) {
		id = ""
	}
	var reqID string
	if f.w != nil {
		reqID = f.w.Header().Get("X-Request-Id")
	}
	s.Log.Info("client authentication failed", "reason", reason, "client_id", id, "issuer_workspace_id", ws,
		"request_id", reqID, "remote", ratelimit.SourceAddr(r))
	s.auditFailure(r, id, ws, reason, reqID)
}

// auditFailure records a failed client authentication in the issuer workspace's audit chain.
// The Recorder only queues it: the store is written in batches, never on this request.
func (s *Server) auditFailure(r *http.Request, clientID, ws, reason, reqID string) {
	if s.Audit == nil {
		return
	}
	rec := &storage.AuditRecord{Chain: ws, At: time.Now(), Category: audit.CategoryAuthentication,
		Action: audit.ActionAuthFailed, Outcome: storage.AuditFailure, CredentialID: clientID,
		SourceAddr: ratelimit.SourceAddr(r), RequestID: reqID,
		Description: "client authentication failed at the token endpoint (" + reason + ")"}
	if clientID != "" {
		rec.Principal = principal.APIClient(clientID)
		rec.TargetKind, rec.TargetID = storage.KindCredential, clientID
		rec.TargetGRN = audit.TargetGRN(ws, "api-clients", clientID)
	}
	s.Audit.Note(rec)
}

// noteFormFailure logs and counts a form whose client authentication was malformed.
func (s *Server) noteFormFailure(r *http.Request, f *form, ws string, oe *oauthError) {
	if oe.failure != "" && f != nil {
		s.clientFailed(r, f, ws, oe.failure)
	}
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ws, oe := s.workspaceOfPath(r)
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	f, oe := parseForm(w, r)
	if oe != nil {
		s.noteFormFailure(r, f, ws, oe)
		writeOAuthError(w, oe)
		return
	}
	var resp *tokenResponse
	switch gt := f.get("grant_type"); gt {
	case "":
		oe = badRequest(errInvalidRequest, "grant_type is required")
	case GrantClientCredentials:
		resp, oe = s.clientCredentials(r, f, ws)
	case GrantTokenExchange:
		if !s.Exchange {
			oe = badRequest(errUnsupportedGrantType, "token exchange is not available on this platform")
			break
		}
		resp, oe = s.tokenExchange(r, f, ws)
	default:
		oe = badRequest(errUnsupportedGrantType, "grant_type must be client_credentials or token exchange")
	}
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	if resp.dpopNonce != "" {
		w.Header().Set(DPoPNonceHeader, resp.dpopNonce)
	}
	writeJSON(w, http.StatusOK, resp)
}

// limited answers a caller out of its failure budget.
func (s *Server) limited(wait time.Duration) *oauthError {
	s.Observer.AuthFailed("client", "rate_limited")
	return &oauthError{status: http.StatusTooManyRequests, code: errUnavailable,
		description: "too many failed authentication attempts; retry later", retryAfter: ratelimit.RetryAfter(wait)}
}

// tokenResponse is RFC 6749 §5.1's successful response (plus RFC 8693's issued_token_type).
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	Scope           string `json:"scope,omitempty"`
	// dpopNonce, when set, is a fresh nonce for the DPoP-Nonce header: the proof's is about
	// to expire.
	dpopNonce string
}

func (s *Server) respond(c *Claims, grant string) (*tokenResponse, *oauthError) {
	tok, err := s.Issuer.Mint(c)
	if err != nil {
		s.Log.Error("mint token", "error", err)
		return nil, &oauthError{status: http.StatusInternalServerError, code: errServer, description: "the token could not be issued"}
	}
	s.Observer.TokenIssued(grant)
	typ := "Bearer"
	if c.Cnf != nil && c.Cnf.JKT != "" {
		typ = "DPoP"
	}
	// The scope is echoed whenever the token has one (RFC 6749 §5.1 requires it only when it
	// differs from the request's; always naming it is simpler for clients).
	return &tokenResponse{AccessToken: tok, TokenType: typ, Scope: c.Scope,
		ExpiresIn: int64(c.Expiry.Time().Sub(c.IssuedAt.Time()) / time.Second)}, nil
}
