package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

const userCols = `id, email, first_name, last_name, display_name, country_code, external_id, active, source, source_workspace, attributes, last_login, idle_timeout, language, generation, created_at, updated_at`

// userColsU is userCols qualified by the alias u, for joins.
var userColsU = "u." + strings.ReplaceAll(userCols, ", ", ", u.")

func scanUser(r interface{ Scan(...any) error }) (storage.User, error) {
	var u storage.User
	var active bool
	err := r.Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.DisplayName, &u.CountryCode, &u.ExternalID, &active,
		&u.Source, &u.SourceWorkspace, &u.Attributes,
		timeField{&u.LastLogin}, &u.IdleTimeout, &u.Language, &u.Generation, timeField{&u.CreatedAt}, timeField{&u.UpdatedAt})
	u.Inactive = !active
	return u, err
}

// userAttributes is the stored text of a user's attributes: compact JSON of an object, "{}"
// for none; ErrLimit past storage.MaxUserAttributes.
func userAttributes(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "{}", nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		return "", errors.New("sqlstore: user attributes are not a JSON object")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(raw)); err != nil {
		return "", err
	}
	if b.Len() > storage.MaxUserAttributes {
		return "", fmt.Errorf("%w: user attributes of %d bytes (at most %d)", storage.ErrLimit, b.Len(), storage.MaxUserAttributes)
	}
	return b.String(), nil
}

// CreateUser inserts a user; ErrConflict when the email is taken. u.Attributes is set to
// the stored text.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	attrs, err := userAttributes(u.Attributes)
	if err != nil {
		return err
	}
	u.Attributes = attrs
	if u.Source == "" {
		u.Source = storage.SourceLocal
	}
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Email, u.FirstName, u.LastName, u.DisplayName, u.CountryCode, u.ExternalID, !u.Inactive,
			u.Source, u.SourceWorkspace, attrs, u.LastLogin, u.IdleTimeout, u.Language, u.Generation, u.CreatedAt, u.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindUser, u.ID)
	})
}

// UpdateUser replaces a user's profile; see storage.Users.
func (s *Store) UpdateUser(ctx context.Context, u *storage.User, ifGeneration int64) error {
	attrs, err := userAttributes(u.Attributes)
	if err != nil {
		return err
	}
	source := u.Source
	if source == "" {
		source = storage.SourceLocal
	}
	return s.write(ctx, func(s *Store) error {
		res, err := s.exec(ctx, `UPDATE users SET email = ?, first_name = ?, last_name = ?, display_name = ?,
			country_code = ?, external_id = ?, active = ?, source = ?, source_workspace = ?, attributes = ?,
			idle_timeout = ?, language = ?, generation = generation + 1, updated_at = ?
			WHERE id = ? AND (? = 0 OR generation = ?)`,
			u.Email, u.FirstName, u.LastName, u.DisplayName, u.CountryCode, u.ExternalID, !u.Inactive, source,
			u.SourceWorkspace, attrs, u.IdleTimeout, u.Language, u.UpdatedAt, u.ID, ifGeneration, ifGeneration)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if ok, err := s.exists(ctx, `SELECT 1 FROM users WHERE id = ?`, u.ID); err != nil {
				return err
			} else if ok {
				return storage.ErrStale
			}
			return storage.ErrNotFound
		}
		stored, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, u.ID))
		if err != nil {
			return s.translate(err)
		}
		*u = stored
		return s.logChange(ctx, storage.KindUser, u.ID)
	})
}

// RecordLogins advances last_login; see storage.Users. One transaction for the batch, no
// change-log entry (so no contention on the change counter).
func (s *Store) RecordLogins(ctx context.Context, logins []storage.Login) error {
	if len(logins) == 0 {
		return nil
	}
	return s.write(ctx, func(s *Store) error {
		for _, l := range logins {
			at := formatTime(l.At)
			if _, err := s.exec(ctx, `UPDATE users SET last_login = ? WHERE id = ? AND last_login < ?`,
				at, l.UserID, at); err != nil {
				return err
			}
		}
		return nil
	})
}

// InactiveUsers lists the ids of inactive users; see storage.Users.
func (s *Store) InactiveUsers(ctx context.Context) ([]string, error) {
	return s.column(ctx, `SELECT id FROM users WHERE active = ?`, false)
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
