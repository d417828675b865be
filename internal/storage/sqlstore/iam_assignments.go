package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// QueryAssignments reads one page of a workspace's assignments matching q, with their scopes.
func (s *Store) QueryAssignments(ctx context.Context, q storage.AssignmentQuery) ([]storage.Assignment, int, error) {
	where, args := []string{"workspace_id = ?"}, []any{q.WorkspaceID}
	if len(q.Subjects) > 0 {
		where, args = append(where, "subject IN ("+placeholders(len(q.Subjects))+")"), append(args, anySlice(q.Subjects)...)
	}
	if len(q.RoleIDs) > 0 {
		where, args = append(where, "role_id IN ("+placeholders(len(q.RoleIDs))+")"), append(args, anySlice(q.RoleIDs)...)
	}
	if len(q.Scopes) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM assignment_scopes x WHERE x.assignment_id = role_assignments.id AND x.scope IN ("+
			placeholders(len(q.Scopes))+"))")
		args = append(args, anySlice(q.Scopes)...)
	}
	as, total, err := page(s, ctx, assignmentCols, "role_assignments", where, args, "created_at, id", q.Page,
		func(r *sql.Rows) (storage.Assignment, error) {
			var a storage.Assignment
			err := scanAssignment(r, &a)
			return a, err
		})
	if err != nil || len(as) == 0 {
		return as, total, err
	}
	ids := make([]string, len(as))
	for i := range as {
		ids[i] = as[i].ID
	}
	scopes, err := s.children(ctx, `SELECT assignment_id, scope FROM assignment_scopes WHERE assignment_id IN (`+
		placeholders(len(ids))+`) ORDER BY assignment_id, scope`, anySlice(ids)...)
	for i := range as {
		as[i].Scopes = scopes[as[i].ID]
	}
	return as, total, err
}

// UpdateAssignmentScopes replaces an assignment's scopes; its condition stays.
func (s *Store) UpdateAssignmentScopes(ctx context.Context, id string, scopes []string, at time.Time) (*storage.Assignment, error) {
	var out *storage.Assignment
	err := s.write(ctx, func(s *Store) error {
		old, err := s.GetAssignment(ctx, id)
		if err != nil {
			return err
		}
		if err := mustAffect(s.exec(ctx, `UPDATE role_assignments SET scope_key = ?, generation = generation + 1, updated_at = ?
			WHERE id = ?`, scopeKey(scopes, old.Condition), at, id)); err != nil {
			return err
		}
		if _, err := s.exec(ctx, `DELETE FROM assignment_scopes WHERE assignment_id = ?`, id); err != nil {
			return err
		}
		for _, sc := range slices.Compact(slices.Sorted(slices.Values(scopes))) {
			if _, err := s.exec(ctx, `INSERT INTO assignment_scopes (assignment_id, scope) VALUES (?, ?)`, id, sc); err != nil {
				return err
			}
		}
		a, err := s.GetAssignment(ctx, id)
		if err != nil {
			return err
		}
		out = a
		return s.logChange(ctx, storage.KindAssignment, id)
	})
	return out, err
}
