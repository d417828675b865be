package rbac

import (
	"context"
	"errors"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// ScopeGroupInput is the body of a scope group create or update.
type ScopeGroupInput struct {
	Name        string
	Description string
}

// ScopeInput is one scope to add to a scope group.
type ScopeInput struct {
	GRN         string
	Description string
}

// ScopeView is a scope of a group with what the API derives from its GRN.
type ScopeView struct {
	storage.GroupScope
	Region                  string
	AllScopes               bool // the GRN ends in "/*": every instance of the type
	ResourceTypeDisplayName string
}

// ScopeResult reports one item of a batch: Scope when it was added (or ID when removed),
// Err otherwise. GRN and Description echo the item for error reports.
type ScopeResult struct {
	Scope       *ScopeView
	ID          string
	GRN         string
	Description string
	Err         *apperr.Error
}

var errScopeGroupNotFound = apperr.New(apperr.NotFound, "no scope group with this id")

// CreateScopeGroup makes a scope group in the caller's workspace.
func (m *Manager) CreateScopeGroup(ctx context.Context, c *principal.Caller, in ScopeGroupInput) (*storage.ScopeGroup, error) {
	if err := checkScopeGroup(in); err != nil {
		return nil, err
	}
	now := m.now()
	g := &storage.ScopeGroup{ID: ids.New(), WorkspaceID: c.WorkspaceID, Name: in.Name, Description: in.Description,
		Generation: 1, CreatedAt: now, UpdatedAt: now}
	switch err := m.Store.CreateScopeGroup(ctx, g); {
	case errors.Is(err, storage.ErrConflict):
		return nil, conflict(CodeResourceConflict, "a scope group named %q already exists in this workspace", in.Name)
	case err != nil:
		return nil, apperr.Wrap(err, "create scope group")
	}
	return g, m.synced(ctx)
}

func checkScopeGroup(in ScopeGroupInput) error {
	if err := CheckGroupName("name", in.Name, maxScopeGroupName); err != nil {
		return err
	}
	return checkText("description", in.Description, maxDescriptionLen)
}

// GetScopeGroup reads a scope group of the caller's workspace.
func (m *Manager) GetScopeGroup(ctx context.Context, c *principal.Caller, rawID string) (*storage.ScopeGroup, error) {
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "id", "must be a UUID")
	}
	g, err := m.Store.GetScopeGroup(ctx, id)
	if err == nil && g.WorkspaceID != c.WorkspaceID {
		err = storage.ErrNotFound
	}
	if err != nil {
		return nil, notFoundOr(err, errScopeGroupNotFound, "read scope group")
	}
	return g, nil
}

// UpdateScopeGroup replaces a scope group's name and description.
func (m *Manager) UpdateScopeGroup(ctx context.Context, c *principal.Caller, id string, in ScopeGroupInput, ifMatch string) (*storage.ScopeGroup, error) {
	g, err := m.GetScopeGroup(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := CheckGeneration(ifMatch, g.Generation); err != nil {
		return nil, err
	}
	if err := checkScopeGroup(in); err != nil {
		return nil, err
	}
	g.Name, g.Description, g.UpdatedAt = in.Name, in.Description, m.now()
	switch err := m.Store.UpdateScopeGroup(ctx, g); {
	case errors.Is(err, storage.ErrConflict):
		return nil, conflict(CodeResourceConflict, "a scope group named %q already exists in this workspace", in.Name)
	case err != nil:
		return nil, notFoundOr(err, errScopeGroupNotFound, "update scope group")
	}
	if err := m.synced(ctx); err != nil {
		return nil, err
	}
	return m.GetScopeGroup(ctx, c, g.ID)
}

// DeleteScopeGroup removes a scope group no assignment names (412 while one does).
func (m *Manager) DeleteScopeGroup(ctx context.Context, c *principal.Caller, id, ifMatch string) error {
	g, err := m.GetScopeGroup(ctx, c, id)
	if err != nil {
		return err
	}
	if err := CheckGeneration(ifMatch, g.Generation); err != nil {
		return err
	}
	switch err := m.Store.DeleteScopeGroup(ctx, g.ID, ScopeGroupGRN(c.WorkspaceID, g.ID)); {
	case errors.Is(err, storage.ErrInUse):
		return apperr.New(apperr.PreconditionFailed, "the scope group is used by a role assignment; remove it from the assignment first")
	case err != nil:
		return notFoundOr(err, errScopeGroupNotFound, "delete scope group")
	}
	return m.synced(ctx)
}

// ListScopeGroups pages through the caller's workspace's scope groups. filter is an `in` on
// one of name, grn or serviceMetadata/id (keyhold's groups have no service metadata, so that
// one matches nothing); sort is "name", "name asc" or "name desc".
func (m *Manager) ListScopeGroups(ctx context.Context, c *principal.Caller, filter, sort string, p storage.Page) ([]storage.ScopeGroup, int, error) {
	q := storage.ScopeGroupQuery{WorkspaceID: c.WorkspaceID, Page: p}
	switch strings.Join(strings.Fields(sort), " ") {
	case "", "name", "name asc":
	case "name desc":
		q.Desc = true
	default:
		return nil, 0, apperr.Invalid(apperr.SourceQuery, "sort", "must be name, name asc or name desc")
	}
	f, err := InFilter(filter, "serviceMetadata/id", "name", "grn")
	if err != nil {
		return nil, 0, err
	}
	if len(f) > 1 {
		return nil, 0, apperr.Invalid(apperr.SourceQuery, "filter", "only one of serviceMetadata/id, name and grn may be used")
	}
	q.Names = f["name"]
	for _, text := range f["grn"] {
		if g, err := grn.Parse(text); err == nil && g.Workspace == workspaceGRN(c).Workspace {
			if id, ok := scopeGroupOf(g); ok {
				if canon, err := ids.Parse(id); err == nil {
					q.IDs = append(q.IDs, canon)
				}
			}
		}
	}
	if _, ok := f["serviceMetadata/id"]; ok || (len(f["grn"]) > 0 && len(q.IDs) == 0) {
		return []storage.ScopeGroup{}, 0, nil
	}
	list, total, err := m.Store.ListScopeGroups(ctx, q)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list scope groups")
	}
	return list, total, nil
}

// ListScopes pages through a scope group's scopes.
func (m *Manager) ListScopes(ctx context.Context, c *principal.Caller, groupID string, p storage.Page) ([]ScopeView, int, error) {
	g, err := m.GetScopeGroup(ctx, c, groupID)
	if err != nil {
		return nil, 0, err
	}
	scopes, total, err := m.Store.ListGroupScopes(ctx, g.ID, p)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list scopes")
	}
	out := make([]ScopeView, len(scopes))
	for i := range scopes {
		out[i] = m.scopeView(ctx, scopes[i])
	}
	return out, total, nil
}

// scopeView derives region, allScopes and the resource type's display name from the GRN.
func (m *Manager) scopeView(ctx context.Context, s storage.GroupScope) ScopeView {
	v := ScopeView{GroupScope: s}
	g, err := grn.Parse(s.GRN)
	if err != nil || len(g.Path) == 0 {
		return v
	}
	last := g.Path[len(g.Path)-1]
	v.Region, v.AllScopes, v.ResourceTypeDisplayName = g.Region, last.ID == grn.Wildcard, last.Type
	if t, err := m.Store.GetResourceType(ctx, g.Provider, last.Type); err == nil {
		v.ResourceTypeDisplayName = t.DisplayName
	}
	return v
}
