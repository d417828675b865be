package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// reservedAttributes are the names the directory sets from the user's record (profileOf):
// conditions read them as subject.attributes.<name>, and a free attribute cannot take them.
var reservedAttributes = map[string]bool{"id": true, "email": true, "externalId": true,
	"firstName": true, "lastName": true, "active": true}

// maxAttributeName bounds the name of a free attribute, in bytes.
const maxAttributeName = 128

// Attributes returns the free attributes of a member of the caller's workspace (a JSON
// object) and the user's generation.
func (s *Service) Attributes(ctx context.Context, c *principal.Caller, rawID string) (json.RawMessage, int64, error) {
	u, err := s.GetUser(ctx, c, rawID)
	if err != nil {
		return nil, 0, err
	}
	return attributesText(u), u.Generation, nil
}

func attributesText(u *storage.User) json.RawMessage {
	if u.Attributes == "" {
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(u.Attributes)
}

// SetAttributes replaces the free attributes of a member of the caller's workspace with
// raw, a JSON object (names 1 to 128 bytes, not one of the reserved names; values any JSON;
// at most storage.MaxUserAttributes bytes stored). Conditions of role assignments read them
// (subject.attributes), so they are a user's own only when the user belongs to the caller's
// workspace alone: a user of several workspaces shares its attributes with all of them, and
// one workspace's administrator must not change what another workspace's conditions see
// (409). ifMatch, when set, must be the user's generation.
func (s *Service) SetAttributes(ctx context.Context, c *principal.Caller, rawID string, raw json.RawMessage, ifMatch string) (json.RawMessage, int64, error) {
	attrs, err := checkAttributes(raw)
	if err != nil {
		return nil, 0, err
	}
	u, err := s.GetUser(ctx, c, rawID)
	if err != nil {
		return nil, 0, err
	}
	if err := rbac.CheckGeneration(ifMatch, u.Generation); err != nil {
		return nil, 0, err
	}
	n, err := s.Store.CountMemberships(ctx, u.ID)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "count memberships")
	}
	if n > 1 {
		return nil, 0, apperr.New(apperr.Conflict, "the user belongs to %d workspaces: its attributes would change what every one of them sees, so only a user of this workspace alone can have them set", n)
	}
	u.Attributes = attrs
	switch err := s.Store.UpdateUser(ctx, u, u.Generation); {
	case errors.Is(err, storage.ErrStale):
		return nil, 0, apperr.New(apperr.PreconditionFailed, "the user changed meanwhile; read it again")
	case errors.Is(err, storage.ErrLimit):
		return nil, 0, apperr.Field("attributes", "must be at most %d bytes as compact JSON", storage.MaxUserAttributes)
	case err != nil:
		return nil, 0, notFoundOr(err, errUserNotFound, "update user")
	}
	return attributesText(u), u.Generation, s.synced(ctx)
}

// checkAttributes validates a free-attributes object and returns it as compact JSON.
func checkAttributes(raw json.RawMessage) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return "", apperr.Field("attributes", "must be a JSON object")
	}
	for name := range m {
		switch {
		case name == "" || len(name) > maxAttributeName || !utf8.ValidString(name):
			return "", apperr.Field("attributes", "attribute names must be 1 to %d bytes of UTF-8", maxAttributeName)
		case reservedAttributes[name]:
			return "", apperr.Field("attributes."+name, "is set from the user's record and cannot be a free attribute")
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", apperr.Field("attributes", "must be a JSON object")
	}
	if buf.Len() > storage.MaxUserAttributes {
		return "", apperr.Field("attributes", "must be at most %d bytes as compact JSON", storage.MaxUserAttributes)
	}
	return buf.String(), nil
}
