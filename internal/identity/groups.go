package identity

import (
	"context"
	"errors"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// Limits of user groups, in characters.
const (
	maxGroupName        = 100
	maxGroupDescription = 256
)

// GroupInput is the body of a user group create or update.
type GroupInput struct {
	Name        string
	Description string
}

// Member is a user of a group with its membership record (when it joined).
type Member struct {
	User       storage.User
	Membership storage.UserGroupMember
}

var (
	errGroupNotFound  = apperr.New(apperr.NotFound, "no user group with this id")
	errMemberNotFound = apperr.New(apperr.NotFound, "the user is not a member of this group")
)

func checkGroup(in GroupInput) error {
	if err := rbac.CheckGroupName("name", in.Name, maxGroupName); err != nil {
		return err
	}
	if len([]rune(in.Description)) > maxGroupDescription {
		return apperr.Field("description", "must be at most %d characters", maxGroupDescription)
	}
	return nil
}

// ListGroups pages through the caller's workspace's user groups by name.
func (s *Service) ListGroups(ctx context.Context, c *principal.Caller, p storage.Page) ([]storage.UserGroup, int, error) {
	list, total, err := s.Store.ListUserGroups(ctx, c.WorkspaceID, p)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list user groups")
	}
	return list, total, nil
}

// CreateGroup makes a user group in the caller's workspace.
func (s *Service) CreateGroup(ctx context.Context, c *principal.Caller, in GroupInput) (*storage.UserGroup, error) {
	if err := checkGroup(in); err != nil {
		return nil, err
	}
	now := s.now()
	g := &storage.UserGroup{ID: ids.New(), WorkspaceID: c.WorkspaceID, Name: in.Name, Description: in.Description,
		Generation: 1, CreatedAt: now, UpdatedAt: now}
	switch err := s.Store.CreateUserGroup(ctx, g); {
	case errors.Is(err, storage.ErrConflict):
		return nil, apperr.New(apperr.Conflict, "a user group named %q already exists in this workspace", in.Name)
	case err != nil:
		return nil, apperr.Wrap(err, "create user group")
	}
	return g, s.synced(ctx)
}

// GetGroup reads a user group of the caller's workspace.
func (s *Service) GetGroup(ctx context.Context, c *principal.Caller, rawID string) (*storage.UserGroup, error) {
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "id", "must be a UUID")
	}
	g, err := s.Store.GetUserGroup(ctx, id)
	if err == nil && g.WorkspaceID != c.WorkspaceID {
		err = storage.ErrNotFound
	}
	if err != nil {
		return nil, notFoundOr(err, errGroupNotFound, "read user group")
	}
	return g, nil
}

// UpdateGroup replaces a group's name and description.
func (s *Service) UpdateGroup(ctx context.Context, c *principal.Caller, id string, in GroupInput, ifMatch string) (*storage.UserGroup, error) {
	g, err := s.GetGroup(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := rbac.CheckGeneration(ifMatch, g.Generation); err != nil {
		return nil, err
	}
	if err := checkGroup(in); err != nil {
		return nil, err
	}
	g.Name, g.Description, g.UpdatedAt = in.Name, in.Description, s.now()
	switch err := s.Store.UpdateUserGroup(ctx, g); {
	case errors.Is(err, storage.ErrConflict):
		return nil, apperr.New(apperr.Conflict, "a user group named %q already exists in this workspace", in.Name)
	case err != nil:
		return nil, notFoundOr(err, errGroupNotFound, "update user group")
	}
	if err := s.synced(ctx); err != nil {
		return nil, err
	}
	return s.GetGroup(ctx, c, g.ID)
}

// DeleteGroup removes a group no role assignment is made to (412 while one is).
func (s *Service) DeleteGroup(ctx context.Context, c *principal.Caller, id, ifMatch string) error {
	g, err := s.GetGroup(ctx, c, id)
	if err != nil {
		return err
	}
	if err := rbac.CheckGeneration(ifMatch, g.Generation); err != nil {
		return err
	}
	switch err := s.Store.DeleteUserGroup(ctx, g.ID, principal.Group(g.ID)); {
	case errors.Is(err, storage.ErrInUse):
		return apperr.New(apperr.PreconditionFailed, "role assignments are made to this group; delete them first")
	case err != nil:
		return notFoundOr(err, errGroupNotFound, "delete user group")
	}
	return s.synced(ctx)
}

// ListGroupMembers pages through a group's members, oldest first.
func (s *Service) ListGroupMembers(ctx context.Context, c *principal.Caller, groupID string, p storage.Page) ([]Member, int, error) {
	g, err := s.GetGroup(ctx, c, groupID)
	if err != nil {
		return nil, 0, err
	}
	ms, total, err := s.Store.ListUserGroupMembers(ctx, g.ID, p)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list members")
	}
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		u, err := s.Store.GetUser(ctx, m.UserID)
		if err != nil {
			return nil, 0, apperr.Wrap(err, "read member")
		}
		out = append(out, Member{User: *u, Membership: m})
	}
	return out, total, nil
}

// AddGroupMember adds a member of the caller's workspace to one of its groups. The caller
// must hold everything the group's role assignments grant (rbac.Guard): the new member gets it.
func (s *Service) AddGroupMember(ctx context.Context, c *principal.Caller, groupID, rawUserID string) (*Member, error) {
	g, err := s.GetGroup(ctx, c, groupID)
	if err != nil {
		return nil, err
	}
	userID, err := ids.Parse(rawUserID)
	if err != nil {
		return nil, apperr.Field("userId", "must be a user id (UUID)")
	}
	member, err := s.Store.IsMember(ctx, c.WorkspaceID, userID)
	if err != nil {
		return nil, apperr.Wrap(err, "check membership")
	}
	if !member {
		return nil, apperr.Field("userId", "no user with this id in the workspace")
	}
	if err := s.Guard.MayGrantHoldings(ctx, c, []string{principal.Group(g.ID)}, "adding a member to this user group"); err != nil {
		return nil, err
	}
	m := &storage.UserGroupMember{GroupID: g.ID, UserID: userID, CreatedAt: s.now()}
	switch err := s.Store.AddUserGroupMember(ctx, m); {
	case errors.Is(err, storage.ErrConflict):
		return nil, apperr.New(apperr.Conflict, "the user is already a member of this group")
	case err != nil:
		return nil, notFoundOr(err, errGroupNotFound, "add member")
	}
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return nil, apperr.Wrap(err, "read member")
	}
	return &Member{User: *u, Membership: *m}, s.synced(ctx)
}

// RemoveGroupMember removes a user from a group; the next decision on this node no longer
// grants it what the group holds. The caller must hold what the group's assignments grant
// (rbac.Guard), and removing the last member of a group that makes the workspace's last
// administrator is refused (rbac.KeepAdministrator: 412).
func (s *Service) RemoveGroupMember(ctx context.Context, c *principal.Caller, groupID, rawUserID string) error {
	g, err := s.GetGroup(ctx, c, groupID)
	if err != nil {
		return err
	}
	userID, err := ids.Parse(rawUserID)
	if err != nil {
		return apperr.Invalid(apperr.SourcePath, "userId", "must be a UUID")
	}
	if err := s.Guard.MayGrantHoldings(ctx, c, []string{principal.Group(g.ID)}, "removing a member from this user group"); err != nil {
		return err
	}
	err = rbac.KeepAdministrator(ctx, s.Store, c.WorkspaceID, func(tx storage.Store) error {
		return tx.RemoveUserGroupMember(ctx, g.ID, userID)
	})
	if err != nil {
		return notFoundOr(err, errMemberNotFound, "remove member")
	}
	return s.synced(ctx)
}
