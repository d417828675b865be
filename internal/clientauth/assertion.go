package clientauth

import (
	"errors"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AssertionType is RFC 7523's client_assertion_type of a JWT client assertion.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Bounds of an assertion's times.
const (
	// MaxLifetime bounds exp - now: an assertion is made for one request, and the replay
	// record of its jti is kept until exp.
	MaxLifetime = 5 * time.Minute
	// Leeway absorbs clock differences for exp, nbf and iat.
	Leeway = 30 * time.Second
	// maxJTI bounds the jti (it is stored).
	maxJTI = 256
)

// Failure reasons (for logs and metrics; the client is only told invalid_client).
const (
	FailMalformed = "assertion_malformed"
	FailSignature = "assertion_signature"
	FailClaims    = "assertion_claims"
	FailAudience  = "assertion_audience"
	FailExpired   = "assertion_expired"
	FailLifetime  = "assertion_lifetime"
	FailReplayed  = "assertion_replayed"
	FailNoKeys    = "assertion_no_keys"
)

// Error is a refused assertion; Reason is one of the Fail* constants.
type Error struct{ Reason, Detail string }

func (e *Error) Error() string { return e.Reason + ": " + e.Detail }

func fail(reason, detail string) error { return &Error{Reason: reason, Detail: detail} }

// Reason is err's Fail* reason, or FailMalformed.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return FailMalformed
}

// Parsed is an assertion parsed but not yet verified.
type Parsed struct {
	tok    *jwt.JSONWebToken
	claims jwt.Claims
	// ClientID is the assertion's subject (and, once verified, its issuer).
	ClientID string
	// KeyID is the header's kid ("" when absent).
	KeyID string
}

// Parse reads an assertion without verifying it, to find the client it names. Only the
// allowed algorithms parse.
func Parse(assertion string) (*Parsed, error) {
	tok, err := jwt.ParseSigned(assertion, Algorithms)
	if err != nil {
		return nil, fail(FailMalformed, "not a signed JWT with an allowed algorithm")
	}
	if len(tok.Headers) != 1 {
		return nil, fail(FailMalformed, "exactly one signature is required")
	}
	p := &Parsed{tok: tok, KeyID: tok.Headers[0].KeyID}
	if err := tok.UnsafeClaimsWithoutVerification(&p.claims); err != nil {
		return nil, fail(FailMalformed, "the claims are not a JSON object of registered claims")
	}
	p.ClientID = p.claims.Subject
	return p, nil
}

// Verify checks p's signature with one of keys (the header's kid selects it when present)
// and its claims: iss and sub are clientID, aud names one of audiences, exp is in the future
// but at most MaxLifetime away, nbf and iat are not in the future, jti is present. It returns
// the jti and exp for the replay record.
func (p *Parsed) Verify(keys *jose.JSONWebKeySet, clientID string, audiences []string, now time.Time) (jti string, exp time.Time, err error) {
	if !p.verified(keys) {
		return "", time.Time{}, fail(FailSignature, "no registered key verifies the signature")
	}
	c := p.claims
	switch {
	case c.Issuer != clientID || c.Subject != clientID:
		return "", time.Time{}, fail(FailClaims, "iss and sub must both be the client id")
	case c.ID == "" || len(c.ID) > maxJTI:
		return "", time.Time{}, fail(FailClaims, "jti is required (at most 256 characters)")
	case c.Expiry == nil:
		return "", time.Time{}, fail(FailClaims, "exp is required")
	case !slices.ContainsFunc(audiences, func(a string) bool { return c.Audience.Contains(a) }):
		return "", time.Time{}, fail(FailAudience, "aud must name this issuer or its token endpoint")
	}
	exp = c.Expiry.Time()
	switch {
	case !now.Before(exp.Add(Leeway)):
		return "", time.Time{}, fail(FailExpired, "the assertion has expired")
	case exp.Sub(now) > MaxLifetime:
		return "", time.Time{}, fail(FailLifetime, "exp is more than 5 minutes away")
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(Leeway)):
		return "", time.Time{}, fail(FailClaims, "nbf is in the future")
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(Leeway)):
		return "", time.Time{}, fail(FailClaims, "iat is in the future")
	}
	return c.ID, exp.Add(Leeway), nil
}

// verified reports whether a key of keys verifies p's signature.
func (p *Parsed) verified(keys *jose.JSONWebKeySet) bool {
	if keys == nil {
		return false
	}
	candidates := keys.Keys
	if p.KeyID != "" {
		candidates = keys.Key(p.KeyID)
	}
	var out jwt.Claims
	for _, k := range candidates {
		if k.Algorithm != "" && k.Algorithm != p.tok.Headers[0].Algorithm {
			continue
		}
		if err := p.tok.Claims(k.Key, &out); err == nil {
			return true
		}
	}
	return false
}
