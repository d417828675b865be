package credential

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/clientauth"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// KeysInput registers a credential's private_key_jwt keys: a JSON Web Key Set, or the URL of
// one; exactly one of them.
type KeysInput struct {
	JWKS    json.RawMessage
	JWKSURI string
}

// SetKeys registers (replaces) the public keys that verify the credential's client
// assertions. Registering keys hands whoever holds the private keys the credential's rights,
// so it takes what a reset takes (see visible). allowPrivate lets jwks_uri name private
// addresses (--jwks-allow-private-addresses).
func (s *Service) SetKeys(ctx context.Context, c *principal.Caller, id string, in KeysInput, allowPrivate bool) (*storage.Credential, error) {
	var jwks string
	switch {
	case len(in.JWKS) > 0 && in.JWKSURI != "":
		return nil, apperr.Invalid(apperr.SourceField, "jwksUri", "give jwks or jwksUri, not both")
	case len(in.JWKS) > 0:
		if _, err := clientauth.ParseKeySet(in.JWKS); err != nil {
			return nil, apperr.Invalid(apperr.SourceField, "jwks", err.Error())
		}
		jwks = string(in.JWKS)
	case in.JWKSURI != "":
		if err := clientauth.ValidateURI(in.JWKSURI, allowPrivate); err != nil {
			return nil, apperr.Invalid(apperr.SourceField, "jwksUri", err.Error())
		}
	default:
		return nil, apperr.Invalid(apperr.SourceField, "jwks", "give jwks or jwksUri (DELETE removes the keys)")
	}
	return s.storeKeys(ctx, c, id, jwks, in.JWKSURI)
}

// RemoveKeys forgets the credential's private_key_jwt keys: from then on only its secret
// authenticates it.
func (s *Service) RemoveKeys(ctx context.Context, c *principal.Caller, id string) error {
	_, err := s.storeKeys(ctx, c, id, "", "")
	return err
}

// Keys returns the credential as the caller may see it, for its registered keys.
func (s *Service) Keys(ctx context.Context, c *principal.Caller, id string) (*storage.Credential, error) {
	return s.visible(ctx, c, id)
}

func (s *Service) storeKeys(ctx context.Context, c *principal.Caller, id, jwks, uri string) (*storage.Credential, error) {
	return s.updateVisible(ctx, c, id, "store credential keys", func(id string, at time.Time) (*storage.Credential, error) {
		return s.Store.SetCredentialKeys(ctx, id, jwks, uri, at)
	})
}

// updateVisible applies write to a credential the caller may change (see managed) at the
// service's time, maps its errors to the API's (what names the failed step) and brings this
// node's views up to date.
func (s *Service) updateVisible(ctx context.Context, c *principal.Caller, id, what string,
	write func(id string, at time.Time) (*storage.Credential, error)) (*storage.Credential, error) {
	cred, err := s.managed(ctx, c, id)
	if err != nil {
		return nil, err
	}
	updated, err := write(cred.ID, s.Now().UTC().Truncate(time.Microsecond))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, apperr.New(apperr.NotFound, "no credential with this id")
	case err != nil:
		return nil, apperr.Wrap(err, what)
	}
	if err := s.Sync(ctx); err != nil {
		return nil, apperr.Wrap(err, "sync views")
	}
	return updated, nil
}
