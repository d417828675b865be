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
// lifetime; Audiences are the resource URIs (RFC 8707) its tokens may be issued for.
type TokenSettingsInput struct {
	TTLSeconds int64
	Audiences  []string
}

// ValidateTokenSettings checks in against the server's token lifetime maxTTL and returns the
// lifetime to store. Errors name the field (tokenLifetime, audiences).
func ValidateTokenSettings(in TokenSettingsInput, maxTTL time.Duration) (time.Duration, error) {
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
	return ttl, nil
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

// SetTokenSettings replaces a credential's token lifetime and allowed audiences. It takes what
// registering keys takes (see visible): the settings shape every token the credential gets.
func (s *Service) SetTokenSettings(ctx context.Context, c *principal.Caller, id string, in TokenSettingsInput) (*storage.Credential, error) {
	ttl, err := ValidateTokenSettings(in, s.MaxTokenTTL)
	if err != nil {
		return nil, err
	}
	return s.updateVisible(ctx, c, id, "store credential token settings", func(id string, at time.Time) (*storage.Credential, error) {
		return s.Store.SetCredentialTokenSettings(ctx, id, ttl, in.Audiences, at)
	})
}

// TokenSettings returns the credential as the caller may see it, for its token settings.
func (s *Service) TokenSettings(ctx context.Context, c *principal.Caller, id string) (*storage.Credential, error) {
	return s.visible(ctx, c, id)
}
