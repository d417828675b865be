package workspace

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// GroupTypeTenant is the only group type of /workspaces/v1beta1/groups.
const GroupTypeTenant = "TenantGroup"

// GroupInput is the body of a tenant group create or update.
type GroupInput struct {
	Name        string
	Description string
}

// maxGroupName is the groups document's limit on a tenant group's name (characters).
const maxGroupName = 64

func validGroup(in *GroupInput) error {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if err := validText("name", in.Name, 1, maxGroupName); err != nil {
		return err
	}
	if strings.ContainsAny(in.Name, "&<>|:,") {
		return apperr.Field("name", "must not contain any of & < > | : ,")
	}
	return validText("description", in.Description, 0, 500)
}

func groupWriteError(err error, name string) error {
	if errors.Is(err, storage.ErrConflict) {
		return apperr.New(apperr.Conflict, "a tenant group named %q already exists", name)
	}
	return tenantWriteError(err)
}

// group reads one of the caller's tenant groups; anything else is "not found".
func (s *Service) group(ctx context.Context, c *principal.Caller, rawID string) (*storage.TenantGroup, error) {
	if err := s.requireMSP(c); err != nil {
		return nil, err
	}
	notFound := apperr.New(apperr.NotFound, "no tenant group with this id")
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "groupId", "must be a UUID")
	}
	g, err := s.Store.GetTenantGroup(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, notFound
	case err != nil:
		return nil, apperr.Wrap(err, "read tenant group")
	case g.MSPID != c.WorkspaceID:
		return nil, notFound
	}
	return g, nil
}

// Group is GET of one tenant group.
func (s *Service) Group(ctx context.Context, c *principal.Caller, id string) (*storage.TenantGroup, error) {
	return s.group(ctx, c, id)
}

// ListGroups returns a page of the caller's tenant groups.
func (s *Service) ListGroups(ctx context.Context, c *principal.Caller, p storage.Page) ([]storage.TenantGroup, int, error) {
	if err := s.requireMSP(c); err != nil {
		return nil, 0, err
	}
	list, total, err := s.Store.ListTenantGroups(ctx, c.WorkspaceID, p)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list tenant groups")
	}
	return list, total, nil
}

// CreateGroup makes a tenant group in the caller's MSP workspace.
func (s *Service) CreateGroup(ctx context.Context, c *principal.Caller, in GroupInput) (*storage.TenantGroup, error) {
	if err := s.requireMSP(c); err != nil {
		return nil, err
	}
	if err := validGroup(&in); err != nil {
		return nil, err
	}
	now := s.now()
	g := &storage.TenantGroup{ID: ids.New(), MSPID: c.WorkspaceID, Name: in.Name, Description: in.Description,
		Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateTenantGroup(ctx, g); err != nil {
		return nil, groupWriteError(err, g.Name)
	}
	return g, s.synced(ctx)
}

// UpdateGroup renames a tenant group or changes its description.
func (s *Service) UpdateGroup(ctx context.Context, c *principal.Caller, id string, in GroupInput) (*storage.TenantGroup, error) {
	g, err := s.group(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := validGroup(&in); err != nil {
		return nil, err
	}
	g.Name, g.Description, g.UpdatedAt = in.Name, in.Description, s.now()
	if err := s.Store.UpdateTenantGroup(ctx, g); err != nil {
		return nil, groupWriteError(err, g.Name)
	}
	g.Generation++
	return g, s.synced(ctx)
}

// DeleteGroup removes a tenant group that no role assignment uses (412 otherwise).
func (s *Service) DeleteGroup(ctx context.Context, c *principal.Caller, id string) error {
	g, err := s.group(ctx, c, id)
	if err != nil {
		return err
	}
	assignments, err := s.Store.ListAssignments(ctx, c.WorkspaceID)
	if err != nil {
		return apperr.Wrap(err, "read assignments")
	}
	ref := rbac.TenantGroupGRN(g.MSPID, g.ID)
	for _, a := range assignments {
		if slices.Contains(a.Scopes, ref) {
			return apperr.New(apperr.PreconditionFailed, "the tenant group is used by role assignment %s; remove it from that assignment first", a.ID)
		}
	}
	if err := s.Store.DeleteTenantGroup(ctx, g.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return apperr.Wrap(err, "delete tenant group")
	}
	return s.synced(ctx)
}

// AddGroupMember puts one of the caller's tenants in one of its groups. The group's role
// assignments then reach the tenant, so the caller must hold everything they grant
// (rbac.Guard).
func (s *Service) AddGroupMember(ctx context.Context, c *principal.Caller, groupID, workspaceID string) (*storage.GroupMember, error) {
	g, err := s.group(ctx, c, groupID)
	if err != nil {
		return nil, err
	}
	t, err := s.tenantOf(ctx, c, workspaceID, "workspaceId", apperr.SourceField)
	if err != nil {
		return nil, err
	}
	if err := s.Guard.MayExtendTenantGroup(ctx, c, rbac.TenantGroupGRN(g.MSPID, g.ID)); err != nil {
		return nil, err
	}
	now := s.now()
	m := &storage.GroupMember{ID: ids.New(), GroupID: g.ID, WorkspaceID: t.ID, Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.AddGroupMember(ctx, m); errors.Is(err, storage.ErrConflict) {
		return nil, apperr.New(apperr.Conflict, "the tenant is already in this group")
	} else if err != nil {
		return nil, apperr.Wrap(err, "add tenant to group")
	}
	return m, s.synced(ctx)
}

// GroupMember reads one membership of one of the caller's groups.
func (s *Service) GroupMember(ctx context.Context, c *principal.Caller, groupID, memberID string) (*storage.GroupMember, error) {
	g, err := s.group(ctx, c, groupID)
	if err != nil {
		return nil, err
	}
	notFound := apperr.New(apperr.NotFound, "no such workspace in this group")
	id, err := ids.Parse(memberID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "groupWorkspaceId", "must be a UUID")
	}
	m, err := s.Store.GetGroupMember(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, notFound
	case err != nil:
		return nil, apperr.Wrap(err, "read group member")
	case m.GroupID != g.ID:
		return nil, notFound
	}
	return m, nil
}

// ListGroupMembers returns a page of a group's tenants.
func (s *Service) ListGroupMembers(ctx context.Context, c *principal.Caller, groupID string, p storage.Page) ([]storage.GroupMember, int, error) {
	g, err := s.group(ctx, c, groupID)
	if err != nil {
		return nil, 0, err
	}
	list, total, err := s.Store.ListGroupMembers(ctx, g.ID, p)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list group members")
	}
	return list, total, nil
}

// RemoveGroupMember takes a tenant out of a group. Tokens exchanged into that tenant through
// this group stop working from the moment the call returns.
func (s *Service) RemoveGroupMember(ctx context.Context, c *principal.Caller, groupID, memberID string) error {
	m, err := s.GroupMember(ctx, c, groupID, memberID)
	if err != nil {
		return err
	}
	if err := s.Store.RemoveGroupMember(ctx, m.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return apperr.Wrap(err, "remove group member")
	}
	return s.synced(ctx)
}
