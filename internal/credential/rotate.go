package credential

import (
	"context"
	"errors"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// Bounds of a rotation's overlap window: how long the replaced secret keeps working. The
// minimum leaves a job time to pick the new secret up; the maximum keeps a leaked old secret
// from living on for months behind a rotation that looked finished.
const (
	MinOverlap     = time.Minute
	MaxOverlap     = 30 * 24 * time.Hour
	DefaultOverlap = 24 * time.Hour
)

// Secret describes one of a credential's valid secrets (never its value).
type Secret struct {
	// Slot is "current" or "previous".
	Slot      string
	CreatedAt time.Time
	// ExpiresAt is zero for the current secret.
	ExpiresAt time.Time
}

// Secrets lists a credential's valid secrets, the current one first.
func Secrets(c *storage.Credential, now time.Time) []Secret {
	created := c.SecretCreatedAt
	if created.IsZero() {
		created = c.CreatedAt
	}
	out := []Secret{{Slot: "current", CreatedAt: created}}
	if len(c.PrevSecretHash) > 0 && c.PrevSecretExpiresAt.After(now) {
		out = append(out, Secret{Slot: "previous", ExpiresAt: c.PrevSecretExpiresAt})
	}
	return out
}

// Rotate gives a credential a new secret while the current one keeps working for overlap
// (MinOverlap to MaxOverlap). Unlike Reset, tokens already issued stay valid. It refuses
// (409) while an earlier rotation's previous secret is still valid: retiring it is an explicit
// act, never a side effect.
func (s *Service) Rotate(ctx context.Context, c *principal.Caller, id string, overlap time.Duration) (*Created, error) {
	if overlap < MinOverlap || overlap > MaxOverlap {
		return nil, apperr.Invalid(apperr.SourceField, "overlapSeconds",
			"must be between 60 and 2592000 (one minute to 30 days)")
	}
	cred, err := s.managed(ctx, c, id)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	secret, hash := NewSecret()
	updated, err := s.Store.RotateCredentialSecret(ctx, cred.ID, hash, now, now.Add(overlap))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, apperr.New(apperr.NotFound, "no credential with this id")
	case errors.Is(err, storage.ErrConflict):
		return nil, apperr.New(apperr.Conflict,
			"the secret replaced by the last rotation is still valid: retire it (DELETE .../secrets/previous) or wait until it expires")
	case err != nil:
		return nil, apperr.Wrap(err, "rotate credential secret")
	}
	if err := s.Sync(ctx); err != nil {
		return nil, apperr.Wrap(err, "sync views")
	}
	return &Created{Credential: *updated, Secret: secret}, nil
}

// RetirePrevious ends a rotation's overlap window now: the replaced secret stops working.
// Tokens it already obtained stay valid until they expire (Reset ends those too).
func (s *Service) RetirePrevious(ctx context.Context, c *principal.Caller, id string) error {
	cred, err := s.managed(ctx, c, id)
	if err != nil {
		return err
	}
	_, err = s.Store.RetirePreviousSecret(ctx, cred.ID, s.Now().UTC())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return apperr.New(apperr.NotFound, "this credential has no previous secret that is still valid")
	case err != nil:
		return apperr.Wrap(err, "retire previous secret")
	}
	if err := s.Sync(ctx); err != nil {
		return apperr.Wrap(err, "sync views")
	}
	return nil
}

// ListSecrets describes a credential's valid secrets.
func (s *Service) ListSecrets(ctx context.Context, c *principal.Caller, id string) ([]Secret, error) {
	cred, err := s.visible(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return Secrets(cred, s.Now()), nil
}
