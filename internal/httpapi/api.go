package httpapi

import (
	"context"
	"crypto/x509"
	"errors"
	"github.com/keyhold/keyhold/internal/dpop"
	"github.com/keyhold/keyhold/internal/loadshed"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/audit"
	"github.com/keyhold/keyhold/internal/catalog"
	"github.com/keyhold/keyhold/internal/console"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/telemetry"
	"github.com/keyhold/keyhold/internal/token"
	"github.com/keyhold/keyhold/internal/workspace"
)

// API is keyhold's HTTP surface.
type API struct {
	BaseURL string
	Log     *slog.Logger
	// AccessLog, when set, receives the access-log lines, one per Write and formatted as
	// slog's JSON handler would format them, without slog's per-record work; it must be safe
	// for concurrent use. Log still decides whether info lines are written. Nil: the lines go
	// through Log.
	AccessLog   io.Writer
	Metrics     *telemetry.Metrics
	Tokens      *token.Server
	Authz       *rbac.Engine
	Credentials *credential.Service
	Workspaces  *workspace.Directory
	// WorkspaceService serves workspaces, MSP tenants, tenant groups and provisions.
	WorkspaceService *workspace.Service
	TenantGroups     *workspace.TenantGroups
	// Catalog is the service catalogue the service-catalog API serves.
	Catalog *catalog.Catalog
	// IAM serves the authorization management API; Identity the users and user groups.
	IAM      *rbac.Manager
	Identity *identity.Service
	// Users is the in-memory view of users that AuthZEN subjects resolve with (id, email,
	// external id) and whose attributes conditions read.
	Users *identity.Directory
	// AddrFailures limits failed bearer authentications per source address.
	AddrFailures *ratelimit.Limiter[netip.Addr]
	// Ready reports whether the node can serve (views loaded, store reachable).
	Ready func(context.Context) error
	// ReadyDetail, when set, adds what an operator should know to /readyz's answer (keys this
	// node cannot use, change-log entries skipped), ready or not.
	ReadyDetail func() map[string]any
	// Starting, when set, reports that the node is still loading its views: /healthz and
	// /metrics answer, /readyz answers 503 "loading" with ReadyDetail's progress, and every
	// other route 503 with Retry-After.
	Starting func() bool
	// StoreTimeout, when set, bounds the management API's requests (their store calls
	// included): a database that does not answer turns into a 503 with Retry-After in that
	// time instead of a request that hangs. The token endpoints and AuthZEN decisions serve
	// from memory and are not bounded this way.
	StoreTimeout time.Duration
	// MaxInFlight, when positive, bounds the requests served at once; more are answered 503
	// with Retry-After at once (see inFlight). The operations endpoints are exempt.
	MaxInFlight int
	// Store serves the audit-log API.
	Store storage.AuditLog
	// Audit records authentication failures off the request's path (nil: not recorded);
	// AuditSink receives the records of writes once committed (nil: no stream).
	Audit     *audit.Recorder
	AuditSink audit.Sink
	// Now stamps audit records (nil: time.Now).
	Now func() time.Time
	// AllowPrivateJWKS lets a credential's jwks_uri name loopback and private addresses
	// (and plain http): --jwks-allow-private-addresses, for tests and closed networks.
	AllowPrivateJWKS bool
	// dpopCache remembers the DPoP proofs accepted on this node (see dpopSeen).
	dpopOnce  sync.Once
	dpopCache *dpop.Cache
	// Shed, when set, refuses a share of requests (503 with Retry-After, before any work)
	// while the node is overloaded (package loadshed). The operations endpoints are exempt.
	Shed *loadshed.Shedder
	// MetricsElsewhere keeps /metrics off this handler (it answers 404): a private listener
	// serves it.
	MetricsElsewhere bool

	mux      *routeMux
	draining atomic.Bool
	inflight *inFlight
}

// Handler builds the routes and wraps them in the middleware every request passes.
func (a *API) Handler() http.Handler {
	a.mux = &routeMux{ServeMux: http.NewServeMux()}
	if a.MaxInFlight > 0 {
		a.inflight = &inFlight{max: int64(a.MaxInFlight)}
	}
	a.Tokens.Register(a.mux)
	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	a.mux.HandleFunc("GET /readyz", a.readyz)
	if !a.MetricsElsewhere {
		a.mux.Handle("GET /metrics", a.Metrics.Handler())
	}
	a.openAPIRoutes()
	a.credentialRoutes()
	a.workspaceRoutes()
	a.iamRoutes()
	a.auditRoutes()
	a.mux.Handle("GET /console", console.Handler())
	a.mux.Handle("GET /console/", console.Handler()) // console.Prefix
	return a.middleware(http.HandlerFunc(a.dispatch))
}

// Drain makes /readyz fail so that load balancers stop sending new requests.
func (a *API) Drain() { a.draining.Store(true) }

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	body := map[string]any{}
	if a.ReadyDetail != nil {
		body = a.ReadyDetail()
	}
	if a.Starting != nil && a.Starting() {
		body["status"] = "loading"
		w.Header().Set("Retry-After", strconv.Itoa(startingRetryAfter))
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	if a.draining.Load() {
		body["status"] = "draining"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	if err := a.Ready(ctx); err != nil {
		a.Log.Warn("not ready", "error", err)
		body["status"] = "unavailable"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	if _, set := body["status"]; !set { // ReadyDetail may say "degraded"
		body["status"] = "ready"
	}
	writeJSON(w, http.StatusOK, body)
}

// dispatch routes a request. The mux answers unknown paths and methods itself, in plain
// text; jsonMiss rewrites those answers into the API's error format without routing twice.
func (a *API) dispatch(w http.ResponseWriter, r *http.Request) {
	if a.Starting != nil && a.Starting() && !servedWhileStarting(r.URL.Path) {
		a.refuseWhileStarting(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, console.Prefix) { // the console's index is its directory
		trimTrailingSlash(r)
	}
	a.mux.ServeHTTP(&jsonMiss{ResponseWriter: w, a: a, r: r}, r)
}

// trimTrailingSlash serves "/a/b/" as "/a/b": GreenLake's documents and clients write some
// paths with a trailing slash (/authorization/v2alpha2/roles/), and no keyhold path ends with
// one. The request is rewritten in place rather than redirected, so that a POST keeps its
// body. Only one slash goes: "/a//" still matches nothing.
func trimTrailingSlash(r *http.Request) {
	p := r.URL.Path
	if len(p) < 2 || p[len(p)-1] != '/' {
		return
	}
	r.URL.Path = p[:len(p)-1]
	if rp := r.URL.RawPath; rp != "" && rp[len(rp)-1] == '/' {
		r.URL.RawPath = rp[:len(rp)-1]
	}
}

// startingRetryAfter is the Retry-After, in seconds, of answers given while views load.
const startingRetryAfter = 2

// servedWhileStarting: the probes, metrics and the OpenAPI document answer while the views
// load.
func servedWhileStarting(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/openapi.json" || path == "/openapi.yaml"
}

// refuseWhileStarting answers 503 with Retry-After, in the OAuth error format on the OAuth
// endpoints and in the API's elsewhere.
func (a *API) refuseWhileStarting(w http.ResponseWriter, r *http.Request) {
	const msg = "keyhold is starting: its in-memory views are loading; retry shortly"
	if strings.HasPrefix(r.URL.Path, token.IssuerPrefix) || strings.HasPrefix(r.URL.Path, "/.well-known/") {
		w.Header().Set("Retry-After", strconv.Itoa(startingRetryAfter))
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": msg})
		return
	}
	a.writeError(w, r, &apperr.Error{Kind: apperr.Unavailable, Message: msg, RetryAfter: startingRetryAfter})
}

// jsonMiss turns the mux's own plain-text 404 and 405 answers into GreenLake error bodies.
// keyhold's handlers never answer in text/plain, so only the mux's answers match.
type jsonMiss struct {
	http.ResponseWriter
	a        *API
	r        *http.Request
	replaced bool
}

func (j *jsonMiss) WriteHeader(status int) {
	h := j.Header()
	if (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(h.Get("Content-Type"), "text/plain") && !j.replaced {
		j.replaced = true
		h.Del("Content-Length")
		if status == http.StatusMethodNotAllowed {
			j.a.writeError(j.ResponseWriter, j.r, &apperr.Error{Kind: apperr.MethodNotAllowed, Message: "method not allowed on this path"})
			return
		}
		j.a.writeError(j.ResponseWriter, j.r, apperr.New(apperr.NotFound, "no such resource"))
		return
	}
	// The mux redirects a non-canonical path ("/a/../b") to its cleaned form even when that
	// matches no route (r.Pattern is then empty): such a path is unknown, answered 404.
	if status == http.StatusTemporaryRedirect && j.r.Pattern == "" && !j.replaced {
		j.replaced = true
		h.Del("Location")
		j.a.writeError(j.ResponseWriter, j.r, apperr.New(apperr.NotFound, "no such resource"))
		return
	}
	j.ResponseWriter.WriteHeader(status)
}

func (j *jsonMiss) Write(b []byte) (int, error) {
	if j.replaced {
		return len(b), nil
	}
	return j.ResponseWriter.Write(b)
}

type callerHandler func(w http.ResponseWriter, r *http.Request, c *principal.Caller)

// route registers a JSON API route that requires a bearer token whose caller holds
// permission on its own workspace.
func (a *API) route(pattern, permission string, h callerHandler) {
	if permission == "" {
		panic("httpapi: route " + pattern + " without a permission; use routeAuthenticated")
	}
	a.handle(pattern, permission, h)
}

// routeAuthenticated registers a JSON API route that requires a bearer token only: its
// handler decides what the caller may do (a user changes its own preferences).
func (a *API) routeAuthenticated(pattern string, h callerHandler) { a.handle(pattern, "", h) }

func (a *API) handle(pattern, permission string, h callerHandler) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authenticate(w, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if permission != "" && !a.allowedHere(c, permission) {
			a.writeError(w, r, apperr.New(apperr.Forbidden, "this operation requires the permission %s", permission))
			return
		}
		if a.StoreTimeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), a.StoreTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		r, act := a.withActor(r, w, c)
		h(w, r, c)
		a.emitAudit(act)
	})
}

// allowedHere reports whether the caller holds permission on its own workspace.
func (a *API) allowedHere(c *principal.Caller, permission string) bool {
	ws, _ := grn.Workspace(grn.DefaultPlatform, c.WorkspaceID)
	return a.Authz.Allowed(c, permission, ws)
}

// authenticate verifies the bearer token. Failures cost the source address a token of its
// failure budget; an address out of budget is refused before its token is looked at. A DPoP
// proof without a valid server nonce is refused (401 use_dpop_nonce, see writeError) without
// costing the budget: it is a step of the protocol, and only a holder of a valid token and
// its key gets that far. On success, a fresh nonce is set in w's DPoP-Nonce when the proof's
// is about to expire.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (*principal.Caller, error) {
	src := ratelimit.Source(r)
	if blocked, wait := a.AddrFailures.Gate(src); blocked {
		a.Metrics.AuthFailed("bearer", "rate_limited")
		return nil, &apperr.Error{Kind: apperr.TooManyRequests, Message: "too many failed authentication attempts; retry later",
			RetryAfter: ratelimit.RetryAfter(wait)}
	}
	var c *principal.Caller
	var err error
	if raw, ok := schemeToken(r, "dpop "); ok {
		var fresh string
		c, fresh, err = a.Tokens.AuthenticateDPoP(raw, dpopProof(r), r.Method, a.BaseURL+r.URL.EscapedPath(), a.dpopSeen(), peerCert(r))
		var ne *token.NonceError
		switch {
		case errors.As(err, &ne):
			a.Metrics.AuthFailed("bearer", "use_dpop_nonce")
			return nil, &apperr.Error{Kind: apperr.Unauthorized, Message: ne.Reason, Cause: ne}
		case errors.Is(err, token.ErrNoNonce):
			return nil, &apperr.Error{Kind: apperr.Unavailable, Message: "DPoP nonces cannot be made on this node right now", Cause: err, RetryAfter: 1}
		case err == nil && fresh != "":
			w.Header().Set(token.DPoPNonceHeader, fresh)
		}
	} else if raw, ok := bearer(r); ok {
		c, err = a.Tokens.Authenticate(raw, peerCert(r))
	} else {
		a.Metrics.AuthFailed("bearer", "missing")
		a.noteAuthFailure(r, "missing")
		return nil, apperr.New(apperr.Unauthorized, "a bearer access token is required")
	}
	if err != nil {
		a.AddrFailures.Fail(src)
		a.Metrics.AuthFailed("bearer", "invalid")
		a.noteAuthFailure(r, "invalid")
		return nil, &apperr.Error{Kind: apperr.Unauthorized, Message: "the access token is not valid: " + err.Error()}
	}
	return c, nil
}

func bearer(r *http.Request) (string, bool) { return schemeToken(r, "bearer ") }

// schemeToken returns the token of an Authorization header of the scheme prefix (lower case,
// with its space).
func schemeToken(r *http.Request, prefix string) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || !equalFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return h[len(prefix):], true
}

// peerCert is the request's TLS client certificate (nil: none).
func peerCert(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}

// dpopProof is the request's one DPoP header ("" when there is none or more than one, which
// the verification refuses).
func dpopProof(r *http.Request) string {
	if v := r.Header.Values("DPoP"); len(v) == 1 {
		return v[0]
	}
	return ""
}

// dpopCacheSize bounds the DPoP proof ids a node remembers (about 100 bytes each).
const dpopCacheSize = 200_000

// dpopSeen is the node's cache of DPoP proof ids, made on first use.
func (a *API) dpopSeen() *dpop.Cache {
	a.dpopOnce.Do(func() { a.dpopCache = dpop.NewCache(dpopCacheSize) })
	return a.dpopCache
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
