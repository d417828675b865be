package sqlstore

import (
	"context"
	"database/sql"

	"github.com/keyhold/keyhold/internal/storage"
)

// CreateRole inserts a role with its permissions, enforcing the custom-role limit in the same
// transaction (write transactions are serialised, see Dialect.LockChanges).
func (s *Store) CreateRole(ctx context.Context, r *storage.Role, maxCustom int) error {
	return s.write(ctx, func(s *Store) error {
		if r.WorkspaceID != "" && maxCustom > 0 {
			var n int
			if err := s.queryRow(ctx, `SELECT COUNT(*) FROM roles WHERE workspace_id = ?`, r.WorkspaceID).Scan(&n); err != nil {
				return s.translate(err)
			}
			if n >= maxCustom {
				return storage.ErrLimit
			}
		}
		if err := s.checkPermissions(ctx, r.Permissions); err != nil {
			return err
		}
		if _, err := s.exec(ctx, `INSERT INTO roles (`+roleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, nullIfEmpty(r.WorkspaceID), r.Slug, r.Name, r.Description, r.Kind, r.ReleaseStage, r.Generation,
			r.CreatedAt, r.UpdatedAt); err != nil {
			return err
		}
		if err := s.putRolePermissions(ctx, r); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindRole, r.ID)
	})
}

// UpdateRole replaces a role's name, description, release stage and permissions.
func (s *Store) UpdateRole(ctx context.Context, r *storage.Role) error {
	return s.write(ctx, func(s *Store) error {
		if err := s.checkPermissions(ctx, r.Permissions); err != nil {
			return err
		}
		if err := mustAffect(s.exec(ctx, `UPDATE roles SET name = ?, description = ?, release_stage = ?,
			generation = generation + 1, updated_at = ? WHERE id = ?`,
			r.Name, r.Description, r.ReleaseStage, r.UpdatedAt, r.ID)); err != nil {
			return err
		}
		if err := s.putRolePermissions(ctx, r); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindRole, r.ID)
	})
}

func (s *Store) checkPermissions(ctx context.Context, names []string) error {
	for _, p := range names {
		if ok, err := s.exists(ctx, `SELECT 1 FROM permissions WHERE name = ?`, p); err != nil || !ok {
			return notFoundUnless(err)
		}
	}
	return nil
}

func (s *Store) putRolePermissions(ctx context.Context, r *storage.Role) error {
	if _, err := s.exec(ctx, `DELETE FROM role_permissions WHERE role_id = ?`, r.ID); err != nil {
		return err
	}
	for _, p := range r.Permissions {
		if _, err := s.exec(ctx, `INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)
			ON CONFLICT (role_id, permission) DO NOTHING`, r.ID, p); err != nil {
			return err
		}
	}
	return nil
}

// DeleteRole removes a role no assignment grants.
func (s *Store) DeleteRole(ctx context.Context, id string) error {
	return s.write(ctx, func(s *Store) error {
		used, err := s.exists(ctx, `SELECT 1 FROM role_assignments WHERE role_id = ?`, id)
		if err != nil {
			return err
		}
		if used {
			return storage.ErrInUse
		}
		if _, err := s.exec(ctx, `DELETE FROM role_permissions WHERE role_id = ?`, id); err != nil {
			return err
		}
		if err := mustAffect(s.exec(ctx, `DELETE FROM roles WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindRole, id)
	})
}

// ListRolesIn reads the predefined roles and a workspace's custom roles, oldest first.
func (s *Store) ListRolesIn(ctx context.Context, workspaceID string) ([]storage.Role, error) {
	const where = ` WHERE workspace_id IS NULL OR workspace_id = ?`
	rows, err := s.query(ctx, `SELECT `+roleCols+` FROM roles`+where+` ORDER BY created_at, id`, workspaceID)
	rs, err := collect(rows, err, func(r *sql.Rows) (storage.Role, error) {
		var x storage.Role
		err := r.Scan(&x.ID, nullable{&x.WorkspaceID}, &x.Slug, &x.Name, &x.Description, &x.Kind, &x.ReleaseStage,
			&x.Generation, timeField{&x.CreatedAt}, timeField{&x.UpdatedAt})
		return x, err
	})
	if err != nil {
		return nil, err
	}
	perms, err := s.children(ctx, `SELECT role_id, permission FROM role_permissions WHERE role_id IN
		(SELECT id FROM roles`+where+`) ORDER BY role_id, permission`, workspaceID)
	for i := range rs {
		rs[i].Permissions = perms[rs[i].ID]
	}
	return rs, err
}
