package sqlstore

import (
	"context"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

const userCols = `id, email, generation, created_at, updated_at`

func scanUser(r interface{ Scan(...any) error }) (storage.User, error) {
	var u storage.User
	err := r.Scan(&u.ID, &u.Email, &u.Generation, timeField{&u.CreatedAt}, timeField{&u.UpdatedAt})
	return u, err
}

// CreateUser inserts a user; ErrConflict when the email is taken.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?)`,
			u.ID, u.Email, u.Generation, u.CreatedAt, u.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindUser, u.ID)
	})
}

// GetUser reads one user.
func (s *Store) GetUser(ctx context.Context, id string) (*storage.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	return &u, nil
}

// GetUserByEmail reads one user by email (stored lower-case by the caller).
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*storage.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, email))
	if err != nil {
		return nil, s.translate(err)
	}
	return &u, nil
}

// AddMember makes a user a member of a workspace; adding an existing member is a no-op.
func (s *Store) AddMember(ctx context.Context, workspaceID, userID string, at time.Time) error {
	return s.write(ctx, func(s *Store) error {
		res, err := s.exec(ctx, `INSERT INTO workspace_members (workspace_id, user_id, created_at) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id, user_id) DO NOTHING`, workspaceID, userID, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.logChange(ctx, storage.KindMember, workspaceID+"/"+userID)
	})
}

// IsMember reports whether a user is a member of a workspace.
func (s *Store) IsMember(ctx context.Context, workspaceID, userID string) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM workspace_members WHERE workspace_id = ? AND user_id = ?`,
		workspaceID, userID).Scan(&n)
	return n > 0, s.translate(err)
}
