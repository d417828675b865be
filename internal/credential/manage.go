package credential

import (
	"context"
	"errors"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/odata"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// List returns the caller's own credentials in its workspace, narrowed by an OData filter. A
// caller who manages others' credentials sees every owner's when the filter names ownerId.
func (s *Service) List(ctx context.Context, c *principal.Caller, filter string) ([]storage.Credential, error) {
	q := storage.CredentialQuery{WorkspaceID: c.WorkspaceID, OwnerID: c.OwnerID}
	if filter != "" {
		expr, err := odata.Parse(filter)
		if err == nil {
			var p odata.Predicate
			p, err = filterSchema.CompileExpr(expr)
			q.Filter = storage.Predicate{SQL: p.SQL, Args: p.Args}
		}
		if err != nil {
			return nil, apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
		}
		if mentions(expr, "ownerId") && s.managesOthers(c) {
			q.OwnerID = ""
		}
	}
	if q.OwnerID == "" && !s.managesOthers(c) {
		return []storage.Credential{}, nil
	}
	list, err := s.Store.ListCredentials(ctx, q)
	if err != nil {
		return nil, apperr.Wrap(err, "list credentials")
	}
	return list, nil
}

// mentions reports whether a filter refers to a property.
func mentions(e odata.Expr, prop string) bool {
	switch x := e.(type) {
	case *odata.Compare:
		return x.Property.Name == prop
	case *odata.InList:
		return x.Property.Name == prop
	case *odata.Member:
		return x.Property.Name == prop
	case *odata.And:
		return mentions(x.Left, prop) || mentions(x.Right, prop)
	case *odata.Or:
		return mentions(x.Left, prop) || mentions(x.Right, prop)
	case *odata.Not:
		return mentions(x.X, prop)
	}
	return false
}

// visible reads a credential the caller may manage. Anything else, including a credential
// of another workspace, is "not found": the caller learns nothing about it. Another owner's
// credential, which the caller sees, is refused (403) when its owner or the credential
// itself holds a permission the caller lacks.
func (s *Service) visible(ctx context.Context, c *principal.Caller, rawID string) (*storage.Credential, error) {
	notFound := apperr.New(apperr.NotFound, "no credential with this id")
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "credentialId", "must be a UUID")
	}
	cred, err := s.Store.GetCredential(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, notFound
	case err != nil:
		return nil, apperr.Wrap(err, "read credential")
	case cred.WorkspaceID != c.WorkspaceID:
		return nil, notFound
	case cred.OwnerID != c.OwnerID && !s.managesOthers(c):
		return nil, notFound
	case cred.OwnerID != c.OwnerID:
		// Resetting hands over the secret of a client that acts with the owner's rights and
		// its own; deleting takes them away. Either needs every one of them.
		if err := s.Escalation.MayActFor(ctx, c, cred.OwnerID, cred.ID); err != nil {
			return nil, err
		}
	}
	return cred, nil
}

// managed is visible for a change: a caller whose token is narrowed by an OAuth scope
// (Caller.Scope) changes a credential of its own owner only when its scope covers every
// permission the owner and the credential hold. Creating, resetting or rotating such a
// credential hands over a secret that acts with all of them, and editing its settings can lift
// the scope it was limited to: without this, a narrowed token would get its owner's full rights
// back (the escalation rule: nobody hands over more than it holds).
func (s *Service) managed(ctx context.Context, c *principal.Caller, rawID string) (*storage.Credential, error) {
	cred, err := s.visible(ctx, c, rawID)
	if err != nil {
		return nil, err
	}
	if err := s.scopedSelf(ctx, c, cred.OwnerID, cred.ID); err != nil {
		return nil, err
	}
	return cred, nil
}

// scopedSelf refuses a scoped caller acting on a credential of its own owner (clientID "" for
// one about to be created) unless it holds what that credential would act with; other owners'
// credentials are checked by visible and otherOwner, unscoped callers need nothing more.
func (s *Service) scopedSelf(ctx context.Context, c *principal.Caller, ownerID, clientID string) error {
	if c.Scope == nil || ownerID != c.OwnerID {
		return nil
	}
	return s.Escalation.MayActFor(ctx, c, ownerID, clientID)
}

// Reset replaces a credential's secret. From the moment it returns, the old secret and every
// token minted under the old generation are refused.
func (s *Service) Reset(ctx context.Context, c *principal.Caller, id string) (*Created, error) {
	cred, err := s.managed(ctx, c, id)
	if err != nil {
		return nil, err
	}
	secret, hash := NewSecret()
	updated, err := s.Store.ResetCredential(ctx, cred.ID, hash, s.Now().UTC().Truncate(time.Microsecond))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "no credential with this id")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "reset credential")
	}
	if err := s.Sync(ctx); err != nil {
		return nil, apperr.Wrap(err, "sync views")
	}
	return &Created{Credential: *updated, Secret: secret}, nil
}

// Delete removes a credential; its tokens are refused from the moment it returns.
func (s *Service) Delete(ctx context.Context, c *principal.Caller, id string) error {
	cred, err := s.managed(ctx, c, id)
	if err != nil {
		return err
	}
	err = s.Store.DeleteCredential(ctx, cred.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return apperr.Wrap(err, "delete credential")
	}
	if err := s.Sync(ctx); err != nil {
		return apperr.Wrap(err, "sync views")
	}
	if err != nil {
		return apperr.New(apperr.NotFound, "no credential with this id")
	}
	return nil
}
