package credential

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/scope"
	"github.com/keyhold/keyhold/internal/storage"
)

// Bounds of a credential's token settings.
const (
	// MinTokenTTL is the shortest token lifetime a credential may ask for: shorter ones would
	// make clients fetch tokens faster than the token endpoint is meant to serve them.
	MinTokenTTL = time.Minute
	// MaxAudiences bounds a credential's allowed audiences; maxAudienceLen one of them.
	MaxAudiences   = 20
	maxAudienceLen = 512
)

// TokenSettingsInput is a credential's token settings: TTLSeconds 0 means the server's token
// lifetime; Audiences are the resource URIs (RFC 8707) its tokens may be issued for; Scopes,
// when not empty, the OAuth scope items (package scope) its tokens may carry.
type TokenSettingsInput struct {
	TTLSeconds int64
	Audiences  []string
	Scopes     []string
}

// ValidateTokenSettings checks in against the server's token lifetime maxTTL and returns the
// lifetime to store. known reports whether a scope item names registered permissions (nil:
// any well-formed item is accepted). Errors name the field (tokenLifetime, audiences, scopes).
func ValidateTokenSettings(in TokenSettingsInput, maxTTL time.Duration, known func(item string) bool) (time.Duration, error) {
	var ttl time.Duration
	if in.TTLSeconds != 0 {
		minS, maxS := int64(MinTokenTTL/time.Second), int64(maxTTL/time.Second)
		if in.TTLSeconds < minS || in.TTLSeconds > maxS {
			return 0, apperr.Invalid(apperr.SourceField, "tokenLifetime",
				fmt.Sprintf("must be 0 (the server's lifetime) or between %d and %d seconds", minS, maxS))
		}
		ttl = time.Duration(in.TTLSeconds) * time.Second
	}
	if len(in.Audiences) > MaxAudiences {
		return 0, apperr.Invalid(apperr.SourceField, "audiences", fmt.Sprintf("at most %d audiences", MaxAudiences))
	}
	seen := make(map[string]bool, len(in.Audiences))
	for _, a := range in.Audiences {
		if err := ValidateAudience(a); err != nil {
			return 0, apperr.Invalid(apperr.SourceField, "audiences", err.Error())
		}
		if seen[a] {
			return 0, apperr.Invalid(apperr.SourceField, "audiences", "an audience is listed twice")
		}
		seen[a] = true
	}
	return ttl, validateScopes(in.Scopes, known)
}

// validateScopes checks a credential's allowed scopes: at most scope.MaxItems distinct items
// of scope.MaxLen bytes together (a token carries them), each well-formed and naming
// registered permissions.
func validateScopes(items []string, known func(string) bool) error {
	if len(items) > scope.MaxItems {
		return apperr.Invalid(apperr.SourceField, "scopes", fmt.Sprintf("at most %d scopes", scope.MaxItems))
	}
	seen := make(map[string]bool, len(items))
	total := len(items) - 1
	for _, item := range items {
		if total += len(item); total > scope.MaxLen {
			return apperr.Invalid(apperr.SourceField, "scopes", fmt.Sprintf("at most %d bytes together (separated by spaces)", scope.MaxLen))
		}
		if _, err := scope.CheckItem(item); err != nil {
			return apperr.Invalid(apperr.SourceField, "scopes", err.Error())
		}
		if known != nil && !known(item) {
			return apperr.Invalid(apperr.SourceField, "scopes", fmt.Sprintf("scope %q names no registered permission", item))
		}
		if seen[item] {
			return apperr.Invalid(apperr.SourceField, "scopes", fmt.Sprintf("scope %q is listed twice", item))
		}
		seen[item] = true
	}
	return nil
}

// ValidateAudience checks a resource indicator as RFC 8707 §2 defines it: an absolute URI
// without a fragment (printable ASCII, at most 512 bytes; an http(s) URI names a host).
func ValidateAudience(a string) error {
	if a == "" || len(a) > maxAudienceLen {
		return fmt.Errorf("an audience is an absolute URI of 1 to %d bytes", maxAudienceLen)
	}
	for i := 0; i < len(a); i++ {
		if a[i] <= ' ' || a[i] >= 0x7f {
			return errors.New("an audience is printable ASCII without spaces")
		}
	}
	u, err := url.Parse(a)
	switch {
	case err != nil, !u.IsAbs():
		return errors.New("an audience is an absolute URI")
	case strings.Contains(a, "#"):
		return errors.New("an audience has no fragment (RFC 8707)")
	case (u.Scheme == "https" || u.Scheme == "http") && u.Host == "":
		return errors.New("an http(s) audience names a host")
	}
	return nil
}

// SetTokenSettings replaces a credential's token lifetime, allowed audiences and allowed
// scopes. It takes what
// registering keys takes (see visible): the settings shape every token the credential gets.
func (s *Service) SetTokenSettings(ctx context.Context, c *principal.Caller, id string, in TokenSettingsInput) (*storage.Credential, error) {
	ttl, err := ValidateTokenSettings(in, s.MaxTokenTTL, s.KnownScope)
	if err != nil {
		return nil, err
	}
	return s.updateVisible(ctx, c, id, "store credential token settings", func(id string, at time.Time) (*storage.Credential, error) {
		return s.Store.SetCredentialTokenSettings(ctx, id, ttl, in.Audiences, in.Scopes, at)
	})
}

// TokenSettings returns the credential as the caller may see it, for its token settings.
func (s *Service) TokenSettings(ctx context.Context, c *principal.Caller, id string) (*storage.Credential, error) {
	return s.visible(ctx, c, id)
}
