package enforce

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/keyhold/keyhold/client"
)

// Defaults of Guard.
const (
	DefaultCacheTTL  = 5 * time.Second
	DefaultCacheSize = 10000
)

// ErrUnavailable wraps the errors of decisions keyhold could not make (unreachable, 5xx,
// 429, refused the guard's own credential): the guard denies with 503.
var ErrUnavailable = errors.New("keyhold cannot decide now")

// Guard is net/http middleware enforcing keyhold's decisions. Set its fields before first
// use; it is safe for concurrent use afterwards.
type Guard struct {
	// Verifier checks bearer tokens offline before anything else (required).
	Verifier *Verifier
	// PDP asks keyhold's AuthZEN endpoint (required for Require). Its credential needs
	// glp.authorization.view in the workspaces of the resources it asks about.
	PDP *client.Client
	// PDPOptions chooses the decision point (e.g. client.ProviderPDP(ws, "reports")); nil:
	// keyhold's root PDP. Explain is always set by the guard.
	PDPOptions *client.AuthZENOptions
	// CacheTTL bounds how long a decision is reused: a revocation, reset or removed
	// assignment reaches a cached decision after at most this long. Default
	// DefaultCacheTTL; negative: no cache.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached decisions (least recently used evicted).
	CacheSize int
	// OnDenied, when set, is called for every refused request with the reason (for logs;
	// never log the token).
	OnDenied func(r *http.Request, status int, reason error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	once  sync.Once
	cache *decisionCache
}

func (g *Guard) init() {
	g.once.Do(func() {
		if g.CacheTTL == 0 {
			g.CacheTTL = DefaultCacheTTL
		}
		if g.CacheSize <= 0 {
			g.CacheSize = DefaultCacheSize
		}
		if g.Now == nil {
			g.Now = time.Now
		}
		g.cache = newDecisionCache(g.CacheSize)
	})
}

type claimsKey struct{}

// ClaimsFrom returns the verified claims the guard put in a request's context.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// Authenticate lets through requests bearing a valid keyhold token (verified offline, so a
// revoked token passes until it expires), with its claims in the context. Use it where
// holding a token of the accepted workspaces suffices; use Require where a permission is
// needed.
func (g *Guard) Authenticate(next http.Handler) http.Handler {
	g.init()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := g.authenticate(w, r)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

// ResourceFunc names the resource a request acts on.
type ResourceFunc func(r *http.Request) client.Resource

// Require lets through requests whose bearer keyhold allows action on the resource that
// resource names. It answers 401 for a missing or invalid token (or one keyhold says is no
// longer valid), 403 when keyhold denies, and 503 with Retry-After when keyhold cannot be
// asked: it fails closed.
func (g *Guard) Require(action string, resource ResourceFunc) func(http.Handler) http.Handler {
	g.init()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := g.authenticate(w, r)
			if !ok {
				return
			}
			d, err := g.decide(r.Context(), c, action, resource(r))
			switch {
			case err != nil:
				g.deny(w, r, http.StatusServiceUnavailable, err)
			case !d.allowed && d.code == "invalid_token":
				g.deny(w, r, http.StatusUnauthorized, errors.New("keyhold: the token is no longer valid"))
			case !d.allowed:
				g.deny(w, r, http.StatusForbidden, errors.New("keyhold denied "+action))
			default:
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
			}
		})
	}
}

// authenticate verifies the bearer token, answering 401 (or 503 when keyhold's keys cannot
// be fetched) itself when it fails.
func (g *Guard) authenticate(w http.ResponseWriter, r *http.Request) (*Claims, bool) {
	raw, ok := bearer(r)
	if !ok {
		g.deny(w, r, http.StatusUnauthorized, errors.New("no bearer token"))
		return nil, false
	}
	var peer *x509.Certificate
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		peer = r.TLS.PeerCertificates[0]
	}
	c, err := g.Verifier.VerifyPeer(r.Context(), raw, peer)
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		g.deny(w, r, http.StatusServiceUnavailable, err)
		return nil, false
	case err != nil:
		g.deny(w, r, http.StatusUnauthorized, err)
		return nil, false
	}
	return c, true
}

// Decide asks keyhold (or the cache) whether the bearer of a verified token may do action
// on res. The subject is the token itself, so keyhold also checks that it is still valid
// (not revoked, its credential not reset). Errors wrap ErrUnavailable.
func (g *Guard) Decide(ctx context.Context, c *Claims, action string, res client.Resource) (bool, error) {
	g.init()
	d, err := g.decide(ctx, c, action, res)
	return d.allowed, err
}

func (g *Guard) decide(ctx context.Context, c *Claims, action string, res client.Resource) (decision, error) {
	key := cacheKey(c.Raw, action, res)
	now := g.Now()
	if g.CacheTTL > 0 {
		if d, ok := g.cache.get(key, now); ok {
			return d, nil
		}
	}
	if g.PDP == nil {
		return decision{}, errors.Join(ErrUnavailable, errors.New("enforce: Guard.PDP is not set"))
	}
	opts := client.AuthZENOptions{Explain: true}
	if g.PDPOptions != nil {
		opts.PDP = g.PDPOptions.PDP
	}
	// The token's scope goes as the subject's properties.scope too: keyhold applies the scope of
	// a token subject itself, and a PDP that reads only the property narrows the same way.
	subject := &client.Subject{Type: "token", ID: c.Raw}
	if c.Scope != "" {
		subject.Properties = map[string]any{"scope": c.Scope}
	}
	ans, err := g.PDP.Evaluate(ctx, client.Evaluation{Subject: subject,
		Action: &client.Action{Name: action}, Resource: &res}, &opts)
	if err != nil {
		return decision{}, errors.Join(ErrUnavailable, err)
	}
	d := decision{allowed: ans.Decision, code: ans.ReasonCode()}
	if g.CacheTTL > 0 {
		deadline := now.Add(g.CacheTTL)
		if c.Expiry.Before(deadline) {
			deadline = c.Expiry
		}
		g.cache.put(key, d, deadline)
	}
	return d, nil
}

// cacheKey identifies a decision: a hash of the token (the cache holds no token), the
// action and the resource.
func cacheKey(token, action string, res client.Resource) string {
	h := sha256.New()
	for _, s := range []string{token, action, res.Type, res.ID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if len(res.Properties) > 0 {
		b, _ := json.Marshal(res.Properties) // maps marshal in key order
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// bearer reads an RFC 6750 bearer token from the Authorization header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// deny answers a refused request in GreenLake's error shape.
func (g *Guard) deny(w http.ResponseWriter, r *http.Request, status int, reason error) {
	if g.OnDenied != nil {
		g.OnDenied(r, status, reason)
	}
	code, msg := "HPE_GL_ERROR_FORBIDDEN", "forbidden"
	switch status {
	case http.StatusUnauthorized:
		code, msg = "HPE_GL_ERROR_UNAUTHORIZED", "a valid keyhold bearer token is required"
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case http.StatusServiceUnavailable:
		code, msg = "HPE_GL_ERROR_SERVICE_UNAVAILABLE", "the access decision cannot be made now"
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"httpStatusCode": status, "errorCode": code, "message": msg})
}
