package sqlstore

import (
	"context"
	"database/sql"

	"github.com/keyhold/keyhold/internal/storage"
)

// ListMembers reads one page of a workspace's members, oldest first.
func (s *Store) ListMembers(ctx context.Context, q storage.MemberQuery) ([]storage.User, int, error) {
	where, args := []string{"m.workspace_id = ?"}, []any{q.WorkspaceID}
	if q.Filter.SQL != "" {
		where, args = append(where, "("+q.Filter.SQL+")"), append(args, q.Filter.Args...)
	}
	return page(s, ctx, userColsU,
		"users u JOIN workspace_members m ON m.user_id = u.id", where, args, memberOrder(q), q.Page,
		func(r *sql.Rows) (storage.User, error) { return scanUser(r) })
}

// memberOrder is the ORDER BY of a member query: always ending with the id, so that pages
// never overlap. The display name sorts as SCIM shows it: the email when it is not set.
func memberOrder(q storage.MemberQuery) string {
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	switch q.Sort {
	case storage.SortDisplayName:
		return "LOWER(COALESCE(NULLIF(u.display_name, ''), u.email))" + dir + ", u.id" + dir
	case storage.SortLastLogin:
		return "u.last_login" + dir + ", u.id" + dir
	}
	return "u.created_at" + dir + ", u.id" + dir
}

// RemoveMember ends a workspace membership.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID string) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?`,
			workspaceID, userID)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindMember, workspaceID+"/"+userID)
	})
}

// CountMemberships counts a user's workspaces.
func (s *Store) CountMemberships(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM workspace_members WHERE user_id = ?`, userID).Scan(&n)
	return n, s.translate(err)
}

// DeleteUser removes a user record.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `DELETE FROM users WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindUser, id)
	})
}

const userGroupCols = `id, workspace_id, name, description, external_id, source, generation, created_at, updated_at`

func scanUserGroup(r interface{ Scan(...any) error }) (storage.UserGroup, error) {
	var g storage.UserGroup
	err := r.Scan(&g.ID, &g.WorkspaceID, &g.Name, &g.Description, &g.ExternalID, &g.Source, &g.Generation,
		timeField{&g.CreatedAt}, timeField{&g.UpdatedAt})
	return g, err
}

func groupSource(g *storage.UserGroup) string {
	if g.Source == "" {
		return storage.SourceLocal
	}
	return g.Source
}

// CreateUserGroup inserts a user group.
func (s *Store) CreateUserGroup(ctx context.Context, g *storage.UserGroup) error {
	return s.write(ctx, func(s *Store) error {
		g.Source = groupSource(g)
		if _, err := s.exec(ctx, `INSERT INTO user_groups (`+userGroupCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.WorkspaceID, g.Name, g.Description, g.ExternalID, g.Source, g.Generation, g.CreatedAt, g.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindUserGroup, g.ID)
	})
}

// UpdateUserGroup replaces a group's name, description and external id.
func (s *Store) UpdateUserGroup(ctx context.Context, g *storage.UserGroup) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `UPDATE user_groups SET name = ?, description = ?, external_id = ?,
			generation = generation + 1, updated_at = ? WHERE id = ?`, g.Name, g.Description, g.ExternalID, g.UpdatedAt, g.ID)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindUserGroup, g.ID)
	})
}

// GetUserGroup reads one user group.
func (s *Store) GetUserGroup(ctx context.Context, id string) (*storage.UserGroup, error) {
	g, err := scanUserGroup(s.queryRow(ctx, `SELECT `+userGroupCols+` FROM user_groups WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	return &g, nil
}

// ListUserGroups reads one page of a workspace's user groups by name (every group when
// workspaceID is "").
func (s *Store) ListUserGroups(ctx context.Context, workspaceID string, p storage.Page) ([]storage.UserGroup, int, error) {
	var where []string
	var args []any
	if workspaceID != "" {
		where, args = []string{"workspace_id = ?"}, []any{workspaceID}
	}
	return page(s, ctx, userGroupCols, "user_groups", where, args, "name, id", p,
		func(r *sql.Rows) (storage.UserGroup, error) { return scanUserGroup(r) })
}

// QueryUserGroups reads one page of a workspace's user groups matching a filter, by name.
func (s *Store) QueryUserGroups(ctx context.Context, q storage.UserGroupQuery) ([]storage.UserGroup, int, error) {
	where, args := []string{"g.workspace_id = ?"}, []any{q.WorkspaceID}
	if q.Filter.SQL != "" {
		where, args = append(where, "("+q.Filter.SQL+")"), append(args, q.Filter.Args...)
	}
	return page(s, ctx, "g.id, g.workspace_id, g.name, g.description, g.external_id, g.source, g.generation, g.created_at, g.updated_at",
		"user_groups g", where, args, "g.name, g.id", q.Page,
		func(r *sql.Rows) (storage.UserGroup, error) { return scanUserGroup(r) })
}

// DeleteUserGroup removes a group no assignment is made to, and its memberships.
func (s *Store) DeleteUserGroup(ctx context.Context, id, subject string) error {
	return s.write(ctx, func(s *Store) error {
		used, err := s.exists(ctx, `SELECT 1 FROM role_assignments WHERE subject = ?`, subject)
		if err != nil {
			return err
		}
		if used {
			return storage.ErrInUse
		}
		members, err := s.column(ctx, `SELECT user_id FROM user_group_members WHERE group_id = ?`, id)
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, `DELETE FROM user_group_members WHERE group_id = ?`, id); err != nil {
			return err
		}
		if err := mustAffect(s.exec(ctx, `DELETE FROM user_groups WHERE id = ?`, id)); err != nil {
			return err
		}
		for _, u := range members {
			if err := s.logChange(ctx, storage.KindUserGroupMember, id+"/"+u); err != nil {
				return err
			}
		}
		return s.logChange(ctx, storage.KindUserGroup, id)
	})
}

// AddUserGroupMember adds a user to a group.
func (s *Store) AddUserGroupMember(ctx context.Context, m *storage.UserGroupMember) error {
	return s.write(ctx, func(s *Store) error {
		if ok, err := s.exists(ctx, `SELECT 1 FROM user_groups WHERE id = ?`, m.GroupID); err != nil || !ok {
			return notFoundUnless(err)
		}
		if ok, err := s.exists(ctx, `SELECT 1 FROM users WHERE id = ?`, m.UserID); err != nil || !ok {
			return notFoundUnless(err)
		}
		if ok, err := s.IsUserGroupMember(ctx, m.GroupID, m.UserID); err != nil || ok {
			if err == nil {
				err = storage.ErrConflict
			}
			return err
		}
		if _, err := s.exec(ctx, `INSERT INTO user_group_members (group_id, user_id, created_at) VALUES (?, ?, ?)`,
			m.GroupID, m.UserID, m.CreatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindUserGroupMember, m.GroupID+"/"+m.UserID)
	})
}

// RemoveUserGroupMember removes a user from a group.
func (s *Store) RemoveUserGroupMember(ctx context.Context, groupID, userID string) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `DELETE FROM user_group_members WHERE group_id = ? AND user_id = ?`,
			groupID, userID)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindUserGroupMember, groupID+"/"+userID)
	})
}

// IsUserGroupMember reports whether a user is in a group.
func (s *Store) IsUserGroupMember(ctx context.Context, groupID, userID string) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM user_group_members WHERE group_id = ? AND user_id = ?`, groupID, userID)
}

// ListUserGroupMembers reads one page of a group's members, or every membership when groupID
// is "".
func (s *Store) ListUserGroupMembers(ctx context.Context, groupID string, p storage.Page) ([]storage.UserGroupMember, int, error) {
	var where []string
	var args []any
	if groupID != "" {
		where, args = []string{"group_id = ?"}, []any{groupID}
	}
	return page(s, ctx, "group_id, user_id, created_at", "user_group_members", where, args, "created_at, group_id, user_id", p,
		func(r *sql.Rows) (storage.UserGroupMember, error) {
			var m storage.UserGroupMember
			err := r.Scan(&m.GroupID, &m.UserID, timeField{&m.CreatedAt})
			return m, err
		})
}

// ListGroupsOfUser reads the groups of a workspace that a user belongs to.
func (s *Store) ListGroupsOfUser(ctx context.Context, workspaceID, userID string) ([]storage.UserGroup, error) {
	rows, err := s.query(ctx, `SELECT `+userGroupCols+` FROM user_groups WHERE workspace_id = ? AND id IN
		(SELECT group_id FROM user_group_members WHERE user_id = ?) ORDER BY name, id`, workspaceID, userID)
	return collect(rows, err, func(r *sql.Rows) (storage.UserGroup, error) { return scanUserGroup(r) })
}
