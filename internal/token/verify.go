package token

import (
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/scope"
	"github.com/keyhold/keyhold/internal/workspace"
)

// MaxTokenLen bounds a presented token before any parsing (JOSE parsers have had
// denial-of-service advisories on huge inputs); keyhold's own tokens are well under 2 KiB.
const MaxTokenLen = 4096

// leeway tolerates clock skew between nodes on nbf and iat.
const leeway = 30 * time.Second

// DefaultRefreshInterval is how often, at most, tokens signed by an unknown key make a node
// sync its views (Verifier.RefreshInterval).
const DefaultRefreshInterval = 250 * time.Millisecond

// ErrInvalid is returned for every token that must not be honoured; the wrapped reason is
// safe to show in an error description.
var ErrInvalid = errors.New("invalid token")

func invalid(reason string) error { return &invalidError{reason} }

type invalidError struct{ reason string }

func (e *invalidError) Error() string   { return e.reason }
func (e *invalidError) Is(t error) bool { return t == ErrInvalid }

// Verifier checks access tokens.
type Verifier struct {
	Issuer     *Issuer
	Creds      *credential.Index
	Revoked    *Revoked
	Workspaces *workspace.Directory
	// Reach reports whether principals hold an MSP assignment reaching a tenant.
	Reach func(principals []string, mspID, tenantID string) bool
	// Sync brings the views up to date (nil: never).
	Sync func() error
	// CacheSize bounds the verified-token cache (0: DefaultCacheSize). When it is full, a new
	// token evicts the cached token closest to expiry.
	CacheSize int
	// RefreshInterval: a token signed by an unknown key syncs the views at most once per
	// interval for the whole Verifier (0: DefaultRefreshInterval); concurrent ones share one
	// sync.
	RefreshInterval time.Duration

	mu    sync.RWMutex
	cache *tokenCache

	refreshMu   sync.Mutex
	refreshing  *refreshCall // the sync in flight, if any
	lastRefresh time.Time    // when the last one started
	refreshes   atomic.Int64
}

// KeyRefreshes is the number of syncs tokens signed by unknown keys have caused.
func (v *Verifier) KeyRefreshes() int64 { return v.refreshes.Load() }

// refreshCall is one sync that concurrent callers wait for.
type refreshCall struct{ done chan struct{} }

// cachedToken is a verified token's claims and the key that signed it: a cached token is
// honoured only while that key is. ws is the canonical id of the claims' workspace; scope its
// scope claim, parsed once here (nil: none, the token is not restricted by scope).
type cachedToken struct {
	claims *Claims
	kid    string
	ws     string
	scope  *scope.Set
}

// Verify returns the caller a token stands for, or an error wrapping ErrInvalid.
func (v *Verifier) Verify(raw string) (*principal.Caller, *Claims, error) {
	if len(raw) == 0 || len(raw) > MaxTokenLen {
		return nil, nil, invalid("token is empty or too long")
	}
	key := tokenKey(raw)
	v.mu.RLock()
	ct, ok := v.cache.get(key)
	v.mu.RUnlock()
	if ok {
		if _, live := v.Issuer.Keys.Key(ct.kid); !live {
			return nil, nil, invalid("token is signed by an unknown key")
		}
	} else {
		var err error
		if ct, err = v.parse(raw); err != nil {
			return nil, nil, err
		}
		v.remember(key, ct)
	}
	caller, err := v.live(ct.claims, ct.ws, true)
	if err != nil {
		return nil, nil, err
	}
	caller.Scope = ct.scope
	return caller, ct.claims, nil
}

// tokenKey is the cache key of a raw token, its SHA-256. The hash reads the string's bytes
// in place (it never writes to its input): converting raw to a []byte would copy the token,
// an allocation on every authenticated request.
func tokenKey(raw string) [sha256.Size]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(raw), len(raw)))
}

// parse checks signature, type, issuer, audience and times: everything that cannot change.
func (v *Verifier) parse(raw string) (cachedToken, error) {
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil || len(tok.Headers) != 1 {
		return cachedToken{}, invalid("token is not a signed JWT")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return cachedToken{}, invalid("token is not an access token (typ at+jwt)")
	}
	key, ok := v.Issuer.Keys.Key(h.KeyID)
	if !ok && v.Sync != nil {
		// A key rotated in on another node a moment ago, or a key id made up by whoever
		// wrote the token: a forged kid costs nothing, so the syncs it may cause are bounded
		// for the whole node, not per token.
		v.refreshKeys()
		key, ok = v.Issuer.Keys.Key(h.KeyID)
	}
	if !ok || key.Algorithm != h.Algorithm {
		return cachedToken{}, invalid("token is signed by an unknown key")
	}
	var c Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return cachedToken{}, invalid("token signature does not verify")
	}
	ws, ok := workspaceOf(&c)
	if !ok || c.Issuer != v.Issuer.IssuerURL(ws) || c.Expiry == nil || c.ID == "" {
		return cachedToken{}, invalid("token issuer or claims are not keyhold's")
	}
	exp := jwt.Expected{AnyAudience: jwt.Audience{v.Issuer.Audience}, Time: v.Issuer.Now()}
	if err := (&jwt.Claims{Audience: c.Audience, Expiry: c.Expiry, NotBefore: c.NotBefore, IssuedAt: c.IssuedAt}).
		ValidateWithLeeway(exp, leeway); err != nil {
		return cachedToken{}, invalid("token is expired, not yet valid or for another audience")
	}
	var sc *scope.Set
	if c.Scope != "" {
		// keyhold wrote it; one that does not parse is refused rather than read as no scope.
		if sc, err = scope.Parse(c.Scope); err != nil {
			return cachedToken{}, invalid("token scope is malformed")
		}
	}
	return cachedToken{&c, h.KeyID, ws, sc}, nil
}

// refreshKeys syncs the views for a token signed by an unknown key: at most once per
// RefreshInterval for the whole Verifier, and a caller that arrives while a sync is in flight
// waits for it instead of starting another. A key that appeared on another node since the
// last sync is therefore seen within RefreshInterval (the change feed's poll, or PostgreSQL's
// notification, usually brings it sooner); until then its tokens are refused on this node.
func (v *Verifier) refreshKeys() {
	v.refreshMu.Lock()
	if c := v.refreshing; c != nil {
		v.refreshMu.Unlock()
		<-c.done
		return
	}
	interval := v.RefreshInterval
	if interval <= 0 {
		interval = DefaultRefreshInterval
	}
	now := time.Now()
	if !v.lastRefresh.IsZero() && now.Sub(v.lastRefresh) < interval {
		v.refreshMu.Unlock()
		return
	}
	c := &refreshCall{done: make(chan struct{})}
	v.refreshing, v.lastRefresh = c, now
	v.refreshMu.Unlock()
	defer func() {
		v.refreshMu.Lock()
		v.refreshing = nil
		v.refreshMu.Unlock()
		close(c.done)
	}()
	v.refreshes.Add(1)
	_ = v.Sync() // a failed sync leaves the key unknown: the lookup that follows decides
}

// VerifyIfCached is Verify for a token already in the cache, without any signature check or
// store read (a token whose credential this node does not know is refused without syncing);
// cached reports whether it was (when it was not, the token was not looked at).
func (v *Verifier) VerifyIfCached(raw string) (caller *principal.Caller, c *Claims, cached bool, err error) {
	if len(raw) == 0 || len(raw) > MaxTokenLen {
		return nil, nil, false, nil
	}
	key := tokenKey(raw)
	v.mu.RLock()
	ct, ok := v.cache.get(key)
	v.mu.RUnlock()
	if !ok {
		return nil, nil, false, nil
	}
	if _, live := v.Issuer.Keys.Key(ct.kid); !live {
		return nil, nil, true, invalid("token is signed by an unknown key")
	}
	if caller, err = v.live(ct.claims, ct.ws, false); err != nil {
		return nil, nil, true, err
	}
	caller.Scope = ct.scope
	return caller, ct.claims, true, nil
}

// live checks what can change after issuance: expiry, revocation, the credential's existence
// and generation, its owner being active, the workspace's existence, and for a caller acting in a tenant from its MSP,
// that the tenant still belongs to the MSP and (for exchanged tokens) that an MSP assignment
// still reaches it. ws is the canonical id of c's workspace.
// mayRead allows a sync of the views when the credential is unknown (see credential).
func (v *Verifier) live(c *Claims, ws string, mayRead bool) (*principal.Caller, error) {
	if !v.Issuer.Now().Before(c.Expiry.Time()) {
		return nil, invalid("token is expired")
	}
	if v.Revoked.Has(c.ID) {
		return nil, invalid("token is revoked")
	}
	home := ws // the workspace the credential's tokens are scoped to
	clientID := c.ClientID
	if c.Act != nil {
		clientID = c.Act.ClientID
		home, _ = workspaceOf(&Claims{WorkspaceID: c.Act.WorkspaceID})
	}
	e, ok := v.credential(clientID, c.Generation, mayRead)
	if !ok || e.Generation != c.Generation {
		return nil, invalid("token's credential was reset or deleted")
	}
	if e.OwnerInactive {
		return nil, invalid("token's credential belongs to a deactivated user")
	}
	if e.TokenWorkspaceID != home {
		return nil, invalid("token's credential belongs to another workspace")
	}
	w, ok := v.Workspaces.Get(ws)
	if !ok {
		return nil, invalid("token's workspace no longer exists")
	}
	caller := &principal.Caller{Subject: c.Subject, ClientID: c.ClientID, OwnerID: e.OwnerID, WorkspaceID: ws,
		TokenID: c.ID, Expiry: c.Expiry.Time().Unix()}
	switch {
	case c.Act != nil:
		caller.Act = &principal.Actor{Subject: c.Act.Subject, WorkspaceID: home}
		caller.ActingFrom = home
	case e.WorkspaceID != ws:
		caller.ActingFrom = e.WorkspaceID // an MSP's credential for one of its tenants
	}
	if caller.ActingFrom != "" && (w.ParentID != caller.ActingFrom ||
		(c.Act != nil && !v.Reach(caller.Principals(), caller.ActingFrom, ws))) {
		return nil, invalid("token's tenant is no longer reached from its MSP")
	}
	return caller, nil
}

// credential reads the credential view. A credential this node has not seen, or has seen at an
// older generation than the token's, was created or reset on another node a moment ago: the
// token's signature has already been verified, so syncing once here costs a query only for
// genuine tokens.
func (v *Verifier) credential(id string, generation int64, mayRead bool) (credential.Entry, bool) {
	if e, ok := v.Creds.Get(id); ok && e.Generation >= generation {
		return e, true
	}
	if !mayRead || v.Sync == nil || v.Sync() != nil {
		return credential.Entry{}, false
	}
	return v.Creds.Get(id)
}

func (v *Verifier) remember(key [32]byte, c cachedToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cache == nil {
		v.cache = newTokenCache(v.CacheSize)
	}
	v.cache.add(key, c)
}

// Prune drops expired tokens from the cache; its cost is the number of tokens dropped.
func (v *Verifier) Prune() {
	v.mu.Lock()
	if v.cache != nil {
		v.cache.prune(v.Issuer.Now().Unix())
	}
	v.mu.Unlock()
}

// CacheLen is the number of tokens in the cache.
func (v *Verifier) CacheLen() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}
