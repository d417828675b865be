package workspace

import (
	"context"
	"errors"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// createdBy names the caller as GreenLake does: by its user's email.
func (s *Service) createdBy(ctx context.Context, c *principal.Caller) string {
	if u, err := s.Store.GetUser(ctx, c.OwnerID); err == nil {
		return u.Email
	}
	return c.Subject
}

// CreateTenant makes a tenant workspace of the caller's MSP. Tenant names are unique within
// an MSP.
func (s *Service) CreateTenant(ctx context.Context, c *principal.Caller, in TenantInput) (*storage.Workspace, error) {
	if err := s.requireMSP(c); err != nil {
		return nil, err
	}
	if err := validTenant(&in); err != nil {
		return nil, err
	}
	if in.Details.InventoryOwnership == "" {
		in.Details.InventoryOwnership = InventoryMSPOwned
	}
	now := s.now()
	w := &storage.Workspace{ID: ids.New(), Name: in.WorkspaceName, Type: storage.WorkspaceTenant, ParentID: c.WorkspaceID,
		CreatedBy: s.createdBy(ctx, c), Generation: 1, CreatedAt: now, UpdatedAt: now}
	err := s.Store.WithTx(ctx, func(tx storage.Store) error {
		if err := uniqueTenantName(ctx, tx, c.WorkspaceID, w.Name, ""); err != nil {
			return err
		}
		if err := tx.CreateWorkspace(ctx, w); err != nil {
			return err
		}
		_, err := tx.UpdateWorkspace(ctx, w.ID, w.Name, in.Details, now)
		return err
	})
	if err != nil {
		return nil, tenantWriteError(err)
	}
	w.Generation = 2
	return w, s.synced(ctx)
}

func uniqueTenantName(ctx context.Context, tx storage.Store, msp, name, except string) error {
	same, _, err := tx.ListTenants(ctx, storage.TenantQuery{ParentID: msp, Filter: storage.Predicate{SQL: "name = ?", Args: []any{name}}})
	if err != nil {
		return err
	}
	for _, w := range same {
		if w.ID != except {
			return apperr.New(apperr.Conflict, "a tenant named %q already exists", name)
		}
	}
	return nil
}

func tenantWriteError(err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apperr.Wrap(err, "write tenant")
}

// UpdateTenant replaces a tenant's name and details.
func (s *Service) UpdateTenant(ctx context.Context, c *principal.Caller, id string, in TenantInput) (*storage.Workspace, error) {
	if err := s.requireMSP(c); err != nil {
		return nil, err
	}
	t, err := s.tenantOf(ctx, c, id, "tenantId", apperr.SourcePath)
	if err != nil {
		return nil, err
	}
	if err := validTenant(&in); err != nil {
		return nil, err
	}
	var out *storage.Workspace
	err = s.Store.WithTx(ctx, func(tx storage.Store) error {
		if err := uniqueTenantName(ctx, tx, c.WorkspaceID, in.WorkspaceName, t.ID); err != nil {
			return err
		}
		var err error
		out, err = tx.UpdateWorkspace(ctx, t.ID, in.WorkspaceName, in.Details, s.now())
		return err
	})
	if err != nil {
		return nil, tenantWriteError(err)
	}
	return out, s.synced(ctx)
}

// DeleteTenant removes a tenant with everything in it. Its credentials are deleted, and every
// token scoped to it is refused from the moment the call returns.
func (s *Service) DeleteTenant(ctx context.Context, c *principal.Caller, id string) error {
	if err := s.requireMSP(c); err != nil {
		return err
	}
	t, err := s.tenantOf(ctx, c, id, "tenantId", apperr.SourcePath)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteWorkspace(ctx, t.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return apperr.Wrap(err, "delete tenant")
	}
	return s.synced(ctx)
}

// TenantDetails reads the contact details of a workspace the caller may see.
func (s *Service) TenantDetails(ctx context.Context, id string) (*storage.TenantDetails, error) {
	d, err := s.Store.GetTenantDetails(ctx, id)
	if err != nil {
		return nil, apperr.Wrap(err, "read tenant details")
	}
	return d, nil
}
