package sqlstore

import (
	"context"
	"database/sql"

	"github.com/keyhold/keyhold/internal/storage"
)

const workspaceCols = `id, name, type, parent_id, created_by, generation, created_at, updated_at`

func scanWorkspace(r interface{ Scan(...any) error }) (storage.Workspace, error) {
	var w storage.Workspace
	err := r.Scan(&w.ID, &w.Name, &w.Type, nullable{&w.ParentID}, &w.CreatedBy, &w.Generation,
		timeField{&w.CreatedAt}, timeField{&w.UpdatedAt})
	return w, err
}

// CreateWorkspace inserts a workspace.
func (s *Store) CreateWorkspace(ctx context.Context, w *storage.Workspace) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO workspaces (`+workspaceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.Name, w.Type, nullIfEmpty(w.ParentID), w.CreatedBy, w.Generation, w.CreatedAt, w.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindWorkspace, w.ID)
	})
}

// GetWorkspace reads one workspace.
func (s *Store) GetWorkspace(ctx context.Context, id string) (*storage.Workspace, error) {
	w, err := scanWorkspace(s.queryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	return &w, nil
}

// ListWorkspaces reads every workspace, oldest first.
func (s *Store) ListWorkspaces(ctx context.Context) ([]storage.Workspace, error) {
	rows, err := s.query(ctx, `SELECT `+workspaceCols+` FROM workspaces ORDER BY created_at, id`)
	return collect(rows, err, func(r *sql.Rows) (storage.Workspace, error) { return scanWorkspace(r) })
}
