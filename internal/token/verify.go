package token

import (
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/principal"
)

// MaxTokenLen bounds a presented token before any parsing (JOSE parsers have had
// denial-of-service advisories on huge inputs); keyhold's own tokens are well under 2 KiB.
const MaxTokenLen = 4096

// leeway tolerates clock skew between nodes on nbf and iat.
const leeway = 30 * time.Second

// maxCached bounds the verified-token cache.
const maxCached = 200_000

// ErrInvalid is returned for every token that must not be honoured; the wrapped reason is
// safe to show in an error description.
var ErrInvalid = errors.New("invalid token")

func invalid(reason string) error { return &invalidError{reason} }

type invalidError struct{ reason string }

func (e *invalidError) Error() string   { return e.reason }
func (e *invalidError) Is(t error) bool { return t == ErrInvalid }

// Verifier checks access tokens.
type Verifier struct {
	Issuer  *Issuer
	Creds   *credential.Index
	Revoked *Revoked

	mu    sync.RWMutex
	cache map[[32]byte]*Claims
}

// Verify returns the caller a token stands for, or an error wrapping ErrInvalid.
func (v *Verifier) Verify(raw string) (*principal.Caller, *Claims, error) {
	if len(raw) == 0 || len(raw) > MaxTokenLen {
		return nil, nil, invalid("token is empty or too long")
	}
	key := sha256.Sum256([]byte(raw))
	v.mu.RLock()
	c, ok := v.cache[key]
	v.mu.RUnlock()
	if !ok {
		var err error
		if c, err = v.parse(raw); err != nil {
			return nil, nil, err
		}
		v.remember(key, c)
	}
	caller, err := v.live(c)
	return caller, c, err
}

// parse checks signature, type, issuer, audience and times: everything that cannot change.
func (v *Verifier) parse(raw string) (*Claims, error) {
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil || len(tok.Headers) != 1 {
		return nil, invalid("token is not a signed JWT")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, invalid("token is not an access token (typ at+jwt)")
	}
	key, ok := v.Issuer.Keys.Key(h.KeyID)
	if !ok || key.Algorithm != h.Algorithm {
		return nil, invalid("token is signed by an unknown key")
	}
	var c Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return nil, invalid("token signature does not verify")
	}
	ws, ok := workspaceOf(&c)
	if !ok || c.Issuer != v.Issuer.IssuerURL(ws) || c.Expiry == nil || c.ID == "" {
		return nil, invalid("token issuer or claims are not keyhold's")
	}
	exp := jwt.Expected{AnyAudience: jwt.Audience{v.Issuer.Audience}, Time: v.Issuer.Now()}
	if err := (&jwt.Claims{Audience: c.Audience, Expiry: c.Expiry, NotBefore: c.NotBefore, IssuedAt: c.IssuedAt}).
		ValidateWithLeeway(exp, leeway); err != nil {
		return nil, invalid("token is expired, not yet valid or for another audience")
	}
	return &c, nil
}

// live checks what can change after issuance: expiry, revocation, and the credential's
// existence and generation.
func (v *Verifier) live(c *Claims) (*principal.Caller, error) {
	if !v.Issuer.Now().Before(c.Expiry.Time()) {
		return nil, invalid("token is expired")
	}
	if v.Revoked.Has(c.ID) {
		return nil, invalid("token is revoked")
	}
	ws, _ := workspaceOf(c)
	clientID := c.ClientID
	if c.Act != nil {
		clientID = c.Act.ClientID
	}
	e, ok := v.Creds.Get(clientID)
	if !ok || e.Generation != c.Generation {
		return nil, invalid("token's credential was reset or deleted")
	}
	caller := &principal.Caller{Subject: c.Subject, ClientID: c.ClientID, OwnerID: e.OwnerID, WorkspaceID: ws,
		TokenID: c.ID, Expiry: c.Expiry.Time().Unix()}
	if c.Act == nil && e.TokenWorkspaceID != ws {
		return nil, invalid("token's credential belongs to another workspace")
	}
	if c.Act != nil {
		actWS, _ := workspaceOf(&Claims{WorkspaceID: c.Act.WorkspaceID})
		if e.TokenWorkspaceID != actWS {
			return nil, invalid("token's credential belongs to another workspace")
		}
		caller.Act = &principal.Actor{Subject: c.Act.Subject, WorkspaceID: actWS}
	}
	return caller, nil
}

func (v *Verifier) remember(key [32]byte, c *Claims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cache == nil {
		v.cache = map[[32]byte]*Claims{}
	}
	if len(v.cache) >= maxCached {
		v.pruneLocked()
		if len(v.cache) >= maxCached {
			return
		}
	}
	v.cache[key] = c
}

// Prune drops expired tokens from the cache.
func (v *Verifier) Prune() {
	v.mu.Lock()
	v.pruneLocked()
	v.mu.Unlock()
}

func (v *Verifier) pruneLocked() {
	now := v.Issuer.Now()
	for k, c := range v.cache {
		if !now.Before(c.Expiry.Time()) {
			delete(v.cache, k)
		}
	}
}
