package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// PermEdit is the permission that changes other users (and anyone's names).
const PermEdit = "glp.identity.edit"

// sameID reports whether raw (any accepted spelling) names the canonical id.
func sameID(raw, id string) bool {
	p, err := ids.Parse(raw)
	return err == nil && p == id
}

// Preferences a user has not set, as the identity document gives their defaults.
const (
	DefaultIdleTimeout = 1800
	DefaultLanguage    = "en"
)

// Bounds of a profile update.
const (
	MinIdleTimeout = 300   // five minutes
	MaxIdleTimeout = 86400 // a day
	maxNameLen     = 100
)

// Languages are the preferred languages the identity document enumerates.
var Languages = []string{"en", "de", "es", "fr", "jp", "br", "cn", "ko", "ru", "it"}

// ProfileInput is an update of a user's profile and preferences: nil fields are kept.
// IfGeneration, when not 0, is the generation the user must still be at (412 otherwise).
type ProfileInput struct {
	FirstName, LastName *string
	IdleTimeout         *int
	Language            *string
	IfGeneration        int64
}

func (in *ProfileInput) names() bool { return in.FirstName != nil || in.LastName != nil }

// validate checks each field given, naming it.
func (in *ProfileInput) validate() error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"firstName", in.FirstName}, {"lastName", in.LastName}} {
		if f.v == nil {
			continue
		}
		*f.v = strings.TrimSpace(*f.v)
		switch {
		case utf8.RuneCountInString(*f.v) > maxNameLen:
			return apperr.Field(f.name, "must be at most %d characters", maxNameLen)
		case strings.IndexFunc(*f.v, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
			return apperr.Field(f.name, "must not contain control or format characters")
		}
	}
	if in.IdleTimeout != nil && (*in.IdleTimeout < MinIdleTimeout || *in.IdleTimeout > MaxIdleTimeout) {
		return apperr.Field("idleTimeout", "must be a number of seconds from %d to %d", MinIdleTimeout, MaxIdleTimeout)
	}
	if in.Language != nil && !slices.Contains(Languages, *in.Language) {
		return apperr.Field("language", "must be one of %s", strings.Join(Languages, ", "))
	}
	return nil
}

// UpdateProfile changes a member of the caller's workspace: its names and preferences. A
// user changes its own preferences; its names, and anything of another user, need
// glp.identity.edit (mayEditOthers), every permission the user holds in the workspace (its
// names are properties access conditions read), and a user that belongs to no other
// workspace: a user's profile is one across the platform, and one workspace's
// administrators do not rewrite what another workspace sees.
func (s *Service) UpdateProfile(ctx context.Context, c *principal.Caller, rawID string, mayEditOthers bool, in ProfileInput) (*storage.User, error) {
	self := rawID != "" && c.OwnerID != "" && sameID(rawID, c.OwnerID)
	if !self && !mayEditOthers {
		return nil, apperr.New(apperr.Forbidden, "changing another user's profile requires the permission %s", PermEdit)
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	u, err := s.GetUser(ctx, c, rawID)
	if err != nil {
		return nil, err
	}
	if in.names() && !mayEditOthers {
		return nil, apperr.New(apperr.Forbidden, "changing a user's names requires the permission %s (a user changes its own preferences)", PermEdit)
	}
	if !self || in.names() {
		if err := s.mayRewrite(ctx, c, u.ID); err != nil {
			return nil, err
		}
	}
	upd := *u
	apply(&upd, in)
	upd.UpdatedAt = s.now()
	switch err := s.Store.UpdateUser(ctx, &upd, in.IfGeneration); {
	case errors.Is(err, storage.ErrStale):
		return nil, apperr.New(apperr.PreconditionFailed, "the user changed since generation %d", in.IfGeneration)
	case err != nil:
		return nil, notFoundOr(err, errUserNotFound, "update user")
	}
	return &upd, s.synced(ctx)
}

// mayRewrite: the caller holds what the user holds, and the user is in no other workspace.
func (s *Service) mayRewrite(ctx context.Context, c *principal.Caller, userID string) error {
	if err := s.Guard.MayEditProfile(ctx, c, userID); err != nil {
		return err
	}
	n, err := s.Store.CountMemberships(ctx, userID)
	if err != nil {
		return apperr.Wrap(err, "count memberships")
	}
	if n > 1 {
		return apperr.New(apperr.Forbidden, "this user also belongs to other workspaces: only the user changes its preferences, and its names are kept by the platform")
	}
	return nil
}

func apply(u *storage.User, in ProfileInput) {
	if in.FirstName != nil {
		u.FirstName = *in.FirstName
	}
	if in.LastName != nil {
		u.LastName = *in.LastName
	}
	if in.IdleTimeout != nil {
		u.IdleTimeout = *in.IdleTimeout
	}
	if in.Language != nil {
		u.Language = *in.Language
	}
}

// Preferences are a user's preferences with the defaults filled in.
func Preferences(u *storage.User) (idleTimeout int, language string) {
	idleTimeout, language = u.IdleTimeout, u.Language
	if idleTimeout == 0 {
		idleTimeout = DefaultIdleTimeout
	}
	if language == "" {
		language = DefaultLanguage
	}
	return idleTimeout, language
}
