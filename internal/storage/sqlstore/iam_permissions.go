package sqlstore

import (
	"context"
	"strings"

	"github.com/keyhold/keyhold/internal/storage"
)

// CreatePermission inserts a permission after checking its provider and resource types.
func (s *Store) CreatePermission(ctx context.Context, p *storage.Permission) error {
	return s.write(ctx, func(s *Store) error {
		if err := s.checkPermissionRefs(ctx, p); err != nil {
			return err
		}
		if _, err := s.exec(ctx, `INSERT INTO permissions (`+permissionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Name, p.Provider, p.Description, p.ReleaseStage, p.CustomRoleUse, p.FixedScope, p.Generation,
			p.CreatedAt, p.UpdatedAt); err != nil {
			return err
		}
		if err := s.putPermissionTypes(ctx, p); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindPermission, p.Name)
	})
}

// UpdatePermission replaces a permission's mutable attributes and resource types.
func (s *Store) UpdatePermission(ctx context.Context, p *storage.Permission) error {
	return s.write(ctx, func(s *Store) error {
		if err := s.checkPermissionRefs(ctx, p); err != nil {
			return err
		}
		if err := mustAffect(s.exec(ctx, `UPDATE permissions SET description = ?, release_stage = ?, custom_role_use = ?,
			fixed_scope = ?, generation = generation + 1, updated_at = ? WHERE name = ? AND provider = ?`,
			p.Description, p.ReleaseStage, p.CustomRoleUse, p.FixedScope, p.UpdatedAt, p.Name, p.Provider)); err != nil {
			return err
		}
		if err := s.putPermissionTypes(ctx, p); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindPermission, p.Name)
	})
}

// checkPermissionRefs fails with ErrNotFound unless the provider and every resource type
// exist.
func (s *Store) checkPermissionRefs(ctx context.Context, p *storage.Permission) error {
	if ok, err := s.exists(ctx, `SELECT 1 FROM resource_providers WHERE id = ?`, p.Provider); err != nil || !ok {
		return notFoundUnless(err)
	}
	for _, key := range p.ResourceTypes {
		provider, name, _ := strings.Cut(key, "/")
		if ok, err := s.exists(ctx, `SELECT 1 FROM resource_types WHERE provider = ? AND name = ?`, provider, name); err != nil || !ok {
			return notFoundUnless(err)
		}
	}
	return nil
}

func (s *Store) putPermissionTypes(ctx context.Context, p *storage.Permission) error {
	if _, err := s.exec(ctx, `DELETE FROM permission_resource_types WHERE permission = ?`, p.Name); err != nil {
		return err
	}
	for _, rt := range p.ResourceTypes {
		if _, err := s.exec(ctx, `INSERT INTO permission_resource_types (permission, resource_type) VALUES (?, ?)
			ON CONFLICT (permission, resource_type) DO NOTHING`, p.Name, rt); err != nil {
			return err
		}
	}
	return nil
}

// DeletePermission removes a permission no role holds.
func (s *Store) DeletePermission(ctx context.Context, name string) error {
	return s.write(ctx, func(s *Store) error {
		used, err := s.exists(ctx, `SELECT 1 FROM role_permissions WHERE permission = ?`, name)
		if err != nil {
			return err
		}
		if used {
			return storage.ErrInUse
		}
		if _, err := s.exec(ctx, `DELETE FROM permission_resource_types WHERE permission = ?`, name); err != nil {
			return err
		}
		if err := mustAffect(s.exec(ctx, `DELETE FROM permissions WHERE name = ?`, name)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindPermission, name)
	})
}

// ListProviderPermissions reads a provider's permissions by name.
func (s *Store) ListProviderPermissions(ctx context.Context, provider string) ([]storage.Permission, error) {
	return s.listPermissions(ctx, ` WHERE provider = ?`, provider)
}

// CustomRolesHolding counts the custom roles holding a permission.
func (s *Store) CustomRolesHolding(ctx context.Context, permission string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM role_permissions rp JOIN roles r ON r.id = rp.role_id
		WHERE rp.permission = ? AND r.workspace_id IS NOT NULL`, permission).Scan(&n)
	return n, s.translate(err)
}
