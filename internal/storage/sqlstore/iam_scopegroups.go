package sqlstore

import (
	"context"
	"database/sql"

	"github.com/keyhold/keyhold/internal/storage"
)

const scopeGroupCols = `id, workspace_id, name, description, generation, created_at, updated_at`

func scanScopeGroup(r interface{ Scan(...any) error }) (storage.ScopeGroup, error) {
	var g storage.ScopeGroup
	err := r.Scan(&g.ID, &g.WorkspaceID, &g.Name, &g.Description, &g.Generation, timeField{&g.CreatedAt}, timeField{&g.UpdatedAt})
	return g, err
}

// CreateScopeGroup inserts a scope group.
func (s *Store) CreateScopeGroup(ctx context.Context, g *storage.ScopeGroup) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO scope_groups (`+scopeGroupCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.WorkspaceID, g.Name, g.Description, g.Generation, g.CreatedAt, g.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindScopeGroup, g.ID)
	})
}

// UpdateScopeGroup replaces a scope group's name and description.
func (s *Store) UpdateScopeGroup(ctx context.Context, g *storage.ScopeGroup) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `UPDATE scope_groups SET name = ?, description = ?, generation = generation + 1,
			updated_at = ? WHERE id = ?`, g.Name, g.Description, g.UpdatedAt, g.ID)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindScopeGroup, g.ID)
	})
}

// GetScopeGroup reads one scope group.
func (s *Store) GetScopeGroup(ctx context.Context, id string) (*storage.ScopeGroup, error) {
	g, err := scanScopeGroup(s.queryRow(ctx, `SELECT `+scopeGroupCols+` FROM scope_groups WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	return &g, nil
}

// ListScopeGroups reads one page of a workspace's scope groups by name.
func (s *Store) ListScopeGroups(ctx context.Context, q storage.ScopeGroupQuery) ([]storage.ScopeGroup, int, error) {
	where, args := []string{"workspace_id = ?"}, []any{q.WorkspaceID}
	if q.WorkspaceID == "" {
		where, args = nil, nil
	}
	if len(q.IDs) > 0 {
		where, args = append(where, "id IN ("+placeholders(len(q.IDs))+")"), append(args, anySlice(q.IDs)...)
	}
	if len(q.Names) > 0 {
		where, args = append(where, "name IN ("+placeholders(len(q.Names))+")"), append(args, anySlice(q.Names)...)
	}
	order := "name, id"
	if q.Desc {
		order = "name DESC, id DESC"
	}
	return page(s, ctx, scopeGroupCols, "scope_groups", where, args, order, q.Page,
		func(r *sql.Rows) (storage.ScopeGroup, error) { return scanScopeGroup(r) })
}

// DeleteScopeGroup removes a scope group no assignment names.
func (s *Store) DeleteScopeGroup(ctx context.Context, id, grn string) error {
	return s.write(ctx, func(s *Store) error {
		used, err := s.exists(ctx, `SELECT 1 FROM assignment_scopes WHERE scope = ?`, grn)
		if err != nil {
			return err
		}
		if used {
			return storage.ErrInUse
		}
		if _, err := s.exec(ctx, `DELETE FROM scope_group_scopes WHERE group_id = ?`, id); err != nil {
			return err
		}
		if err := mustAffect(s.exec(ctx, `DELETE FROM scope_groups WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindScopeGroup, id)
	})
}

const groupScopeCols = `id, group_id, grn, description, created_at`

func scanGroupScope(r *sql.Rows) (storage.GroupScope, error) {
	var g storage.GroupScope
	err := r.Scan(&g.ID, &g.GroupID, &g.GRN, &g.Description, timeField{&g.CreatedAt})
	return g, err
}

// ListGroupScopes reads one page of a group's scopes (every group's when groupID is "").
func (s *Store) ListGroupScopes(ctx context.Context, groupID string, p storage.Page) ([]storage.GroupScope, int, error) {
	var where []string
	var args []any
	if groupID != "" {
		where, args = []string{"group_id = ?"}, []any{groupID}
	}
	return page(s, ctx, groupScopeCols, "scope_group_scopes", where, args, "group_id, description, grn, id", p, scanGroupScope)
}

// AddGroupScopes adds scopes one by one, reporting a conflict or the limit per scope.
func (s *Store) AddGroupScopes(ctx context.Context, groupID string, scopes []storage.GroupScope, max int) ([]error, error) {
	results := make([]error, len(scopes))
	err := s.write(ctx, func(s *Store) error {
		if ok, err := s.exists(ctx, `SELECT 1 FROM scope_groups WHERE id = ?`, groupID); err != nil || !ok {
			return notFoundUnless(err)
		}
		existing, err := s.column(ctx, `SELECT grn FROM scope_group_scopes WHERE group_id = ?`, groupID)
		if err != nil {
			return err
		}
		have := make(map[string]bool, len(existing)+len(scopes))
		for _, g := range existing {
			have[g] = true
		}
		added := 0
		for i, sc := range scopes {
			switch {
			case have[sc.GRN]:
				results[i] = storage.ErrConflict
				continue
			case max > 0 && len(have) >= max:
				results[i] = storage.ErrLimit
				continue
			}
			if _, err := s.exec(ctx, `INSERT INTO scope_group_scopes (`+groupScopeCols+`) VALUES (?, ?, ?, ?, ?)`,
				sc.ID, groupID, sc.GRN, sc.Description, sc.CreatedAt); err != nil {
				return err
			}
			have[sc.GRN] = true
			added++
		}
		if added == 0 {
			return nil
		}
		return s.logChange(ctx, storage.KindScopeGroup, groupID)
	})
	return results, err
}

// RemoveGroupScopes removes scopes by id, reporting ErrNotFound for an id not in the group.
func (s *Store) RemoveGroupScopes(ctx context.Context, groupID string, ids []string) ([]error, error) {
	results := make([]error, len(ids))
	err := s.write(ctx, func(s *Store) error {
		if ok, err := s.exists(ctx, `SELECT 1 FROM scope_groups WHERE id = ?`, groupID); err != nil || !ok {
			return notFoundUnless(err)
		}
		removed := 0
		for i, id := range ids {
			res, err := s.exec(ctx, `DELETE FROM scope_group_scopes WHERE id = ? AND group_id = ?`, id, groupID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				results[i] = storage.ErrNotFound
				continue
			}
			removed++
		}
		if removed == 0 {
			return nil
		}
		return s.logChange(ctx, storage.KindScopeGroup, groupID)
	})
	return results, err
}
