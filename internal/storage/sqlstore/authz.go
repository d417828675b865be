package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/storage"
)

const permissionCols = `name, provider, description, release_stage, custom_role_use, fixed_scope, generation, created_at, updated_at`

// UpsertPermission creates a permission or replaces its mutable attributes.
func (s *Store) UpsertPermission(ctx context.Context, p *storage.Permission) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO permissions (`+permissionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET description = excluded.description, release_stage = excluded.release_stage,
			custom_role_use = excluded.custom_role_use, fixed_scope = excluded.fixed_scope,
			generation = permissions.generation + 1, updated_at = excluded.updated_at`,
			p.Name, p.Provider, p.Description, p.ReleaseStage, p.CustomRoleUse, p.FixedScope, p.Generation, p.CreatedAt, p.UpdatedAt); err != nil {
			return err
		}
		if _, err := s.exec(ctx, `DELETE FROM permission_resource_types WHERE permission = ?`, p.Name); err != nil {
			return err
		}
		for _, rt := range p.ResourceTypes {
			if _, err := s.exec(ctx, `INSERT INTO permission_resource_types (permission, resource_type) VALUES (?, ?)`, p.Name, rt); err != nil {
				return err
			}
		}
		return s.logChange(ctx, storage.KindPermission, p.Name)
	})
}

// GetPermission reads one permission.
func (s *Store) GetPermission(ctx context.Context, name string) (*storage.Permission, error) {
	ps, err := s.listPermissions(ctx, ` WHERE name = ?`, name)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, storage.ErrNotFound
	}
	return &ps[0], nil
}

// ListPermissions reads every permission by name.
func (s *Store) ListPermissions(ctx context.Context) ([]storage.Permission, error) {
	return s.listPermissions(ctx, "")
}

func (s *Store) listPermissions(ctx context.Context, where string, args ...any) ([]storage.Permission, error) {
	rows, err := s.query(ctx, `SELECT `+permissionCols+` FROM permissions`+where+` ORDER BY name`, args...)
	ps, err := collect(rows, err, func(r *sql.Rows) (storage.Permission, error) {
		var p storage.Permission
		err := r.Scan(&p.Name, &p.Provider, &p.Description, &p.ReleaseStage, &p.CustomRoleUse, &p.FixedScope,
			&p.Generation, timeField{&p.CreatedAt}, timeField{&p.UpdatedAt})
		return p, err
	})
	if err != nil {
		return nil, err
	}
	types, err := s.children(ctx, `SELECT permission, resource_type FROM permission_resource_types ORDER BY permission, resource_type`)
	for i := range ps {
		ps[i].ResourceTypes = types[ps[i].Name]
	}
	return ps, err
}

// children reads (parent, value) pairs into a map.
func (s *Store) children(ctx context.Context, query string, args ...any) (map[string][]string, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = append(out[k], v)
	}
	return out, rows.Err()
}

const roleCols = `id, workspace_id, slug, name, description, kind, release_stage, generation, created_at, updated_at`

// UpsertRole creates or replaces a role and its permission set.
func (s *Store) UpsertRole(ctx context.Context, r *storage.Role) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO roles (`+roleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
			release_stage = excluded.release_stage, generation = roles.generation + 1, updated_at = excluded.updated_at`,
			r.ID, nullIfEmpty(r.WorkspaceID), r.Slug, r.Name, r.Description, r.Kind, r.ReleaseStage, r.Generation,
			r.CreatedAt, r.UpdatedAt); err != nil {
			return err
		}
		if _, err := s.exec(ctx, `DELETE FROM role_permissions WHERE role_id = ?`, r.ID); err != nil {
			return err
		}
		for _, p := range r.Permissions {
			if _, err := s.exec(ctx, `INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)`, r.ID, p); err != nil {
				return err
			}
		}
		return s.logChange(ctx, storage.KindRole, r.ID)
	})
}

// GetRole reads one role with its permissions.
func (s *Store) GetRole(ctx context.Context, id string) (*storage.Role, error) {
	rs, err := s.listRoles(ctx, ` WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, storage.ErrNotFound
	}
	return &rs[0], nil
}

// ListRoles reads every role with its permissions.
func (s *Store) ListRoles(ctx context.Context) ([]storage.Role, error) {
	return s.listRoles(ctx, "")
}

func (s *Store) listRoles(ctx context.Context, where string, args ...any) ([]storage.Role, error) {
	rows, err := s.query(ctx, `SELECT `+roleCols+` FROM roles`+where+` ORDER BY created_at, id`, args...)
	rs, err := collect(rows, err, func(r *sql.Rows) (storage.Role, error) {
		var x storage.Role
		err := r.Scan(&x.ID, nullable{&x.WorkspaceID}, &x.Slug, &x.Name, &x.Description, &x.Kind, &x.ReleaseStage,
			&x.Generation, timeField{&x.CreatedAt}, timeField{&x.UpdatedAt})
		return x, err
	})
	if err != nil {
		return nil, err
	}
	q := `SELECT role_id, permission FROM role_permissions ORDER BY role_id, permission`
	var qargs []any
	if len(rs) == 1 {
		q, qargs = `SELECT role_id, permission FROM role_permissions WHERE role_id = ? ORDER BY permission`, []any{rs[0].ID}
	}
	perms, err := s.children(ctx, q, qargs...)
	for i := range rs {
		rs[i].Permissions = perms[rs[i].ID]
	}
	return rs, err
}

const assignmentCols = `id, workspace_id, subject, role_id, source, generation, created_at, updated_at, condition_expr`

// scopeKey is the canonical text of a scope set and a condition, for duplicate detection:
// the scopes, and for a condition a digest of its text (the key is indexed, the text may be
// long).
func scopeKey(scopes []string, condition string) string {
	s := slices.Clone(scopes)
	slices.Sort(s)
	key := strings.Join(slices.Compact(s), " ")
	if condition != "" {
		sum := sha256.Sum256([]byte(condition))
		key += " if:" + hex.EncodeToString(sum[:])
	}
	return key
}

// CreateAssignment inserts an assignment and its scopes.
func (s *Store) CreateAssignment(ctx context.Context, a *storage.Assignment) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO role_assignments (`+assignmentCols+`, scope_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.WorkspaceID, a.Subject, a.RoleID, a.Source, a.Generation, a.CreatedAt, a.UpdatedAt, a.Condition,
			scopeKey(a.Scopes, a.Condition)); err != nil {
			return err
		}
		for _, sc := range slices.Compact(slices.Sorted(slices.Values(a.Scopes))) {
			if _, err := s.exec(ctx, `INSERT INTO assignment_scopes (assignment_id, scope) VALUES (?, ?)`, a.ID, sc); err != nil {
				return err
			}
		}
		return s.logChange(ctx, storage.KindAssignment, a.ID)
	})
}

// scanAssignment reads the assignmentCols of a row.
func scanAssignment(r *sql.Rows, a *storage.Assignment) error {
	return r.Scan(&a.ID, &a.WorkspaceID, &a.Subject, &a.RoleID, &a.Source, &a.Generation,
		timeField{&a.CreatedAt}, timeField{&a.UpdatedAt}, &a.Condition)
}

// GetAssignment reads one assignment with its scopes.
func (s *Store) GetAssignment(ctx context.Context, id string) (*storage.Assignment, error) {
	as, err := s.listAssignments(ctx, ` WHERE id = ?`, `WHERE assignment_id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, storage.ErrNotFound
	}
	return &as[0], nil
}

// ListAssignments reads the assignments made in a workspace, or every one when workspaceID is "".
func (s *Store) ListAssignments(ctx context.Context, workspaceID string) ([]storage.Assignment, error) {
	if workspaceID == "" {
		return s.listAssignments(ctx, "", "")
	}
	return s.listAssignments(ctx, ` WHERE workspace_id = ?`,
		`WHERE assignment_id IN (SELECT id FROM role_assignments WHERE workspace_id = ?)`, workspaceID)
}

func (s *Store) listAssignments(ctx context.Context, where, scopeWhere string, args ...any) ([]storage.Assignment, error) {
	rows, err := s.query(ctx, `SELECT `+assignmentCols+` FROM role_assignments`+where+` ORDER BY created_at, id`, args...)
	as, err := collect(rows, err, func(r *sql.Rows) (storage.Assignment, error) {
		var a storage.Assignment
		err := scanAssignment(r, &a)
		return a, err
	})
	if err != nil {
		return nil, err
	}
	scopes, err := s.children(ctx, `SELECT assignment_id, scope FROM assignment_scopes `+scopeWhere+` ORDER BY assignment_id, scope`, args...)
	for i := range as {
		as[i].Scopes = scopes[as[i].ID]
	}
	return as, err
}

// EachAssignment implements storage.Store: one ordered join, one row per scope.
func (s *Store) EachAssignment(ctx context.Context, fn func(*storage.Assignment) error) error {
	rows, err := s.query(ctx, `SELECT ra.id, ra.workspace_id, ra.subject, ra.role_id, ra.source, ra.generation,
		ra.created_at, ra.updated_at, ra.condition_expr, sc.scope
		FROM role_assignments ra LEFT JOIN assignment_scopes sc ON sc.assignment_id = ra.id
		ORDER BY ra.id, sc.scope`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cur *storage.Assignment
	for rows.Next() {
		var a storage.Assignment
		var scope sql.NullString
		if err := rows.Scan(&a.ID, &a.WorkspaceID, &a.Subject, &a.RoleID, &a.Source, &a.Generation,
			timeField{&a.CreatedAt}, timeField{&a.UpdatedAt}, &a.Condition, &scope); err != nil {
			return s.translate(err)
		}
		if cur == nil || a.ID != cur.ID {
			if cur != nil {
				if err := fn(cur); err != nil {
					return err
				}
			}
			cur = &a
		}
		if scope.Valid {
			cur.Scopes = append(cur.Scopes, scope.String)
		}
	}
	if err := rows.Err(); err != nil {
		return s.translate(err)
	}
	if cur != nil {
		return fn(cur)
	}
	return nil
}

// DeleteAssignment removes an assignment and its scopes.
func (s *Store) DeleteAssignment(ctx context.Context, id string) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `DELETE FROM assignment_scopes WHERE assignment_id = ?`, id); err != nil {
			return err
		}
		if err := mustAffect(s.exec(ctx, `DELETE FROM role_assignments WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindAssignment, id)
	})
}
