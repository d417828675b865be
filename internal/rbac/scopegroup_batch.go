package rbac

import (
	"context"
	"errors"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// AddScopes adds up to MaxScopeBatch scopes to a scope group, each on its own: the result
// says for every item whether it was added or why not (partial success). A scope must be a
// resource GRN inside the caller's workspace; scope groups do not nest.
func (m *Manager) AddScopes(ctx context.Context, c *principal.Caller, groupID string, items []ScopeInput) ([]ScopeResult, error) {
	g, err := m.GetScopeGroup(ctx, c, groupID)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 || len(items) > MaxScopeBatch {
		return nil, apperr.Field("items", "must list 1 to %d scopes", MaxScopeBatch)
	}
	mayAdd, err := m.guard().MayExtendScopeGroup(ctx, c, ScopeGroupGRN(c.WorkspaceID, g.ID))
	if err != nil {
		return nil, err
	}
	results := make([]ScopeResult, len(items))
	var valid []storage.GroupScope
	var at []int // index in items of each valid scope
	now := m.now()
	for i, it := range items {
		results[i].GRN, results[i].Description = it.GRN, it.Description
		canon, err := checkGroupScope(c, i, it)
		if err == nil {
			err = mayAdd(canon)
		}
		if err != nil {
			results[i].Err = apperr.As(err)
			continue
		}
		valid = append(valid, storage.GroupScope{ID: ids.New(), GroupID: g.ID, GRN: canon, Description: it.Description, CreatedAt: now})
		at = append(at, i)
	}
	if len(valid) == 0 {
		return results, nil
	}
	outcomes, err := m.Store.AddGroupScopes(ctx, g.ID, valid, MaxScopesPerGroup)
	if err != nil {
		return nil, notFoundOr(err, errScopeGroupNotFound, "add scopes")
	}
	for k, err := range outcomes {
		r := &results[at[k]]
		switch {
		case err == nil:
			v := m.scopeView(ctx, valid[k])
			r.Scope = &v
		case errors.Is(err, storage.ErrConflict):
			r.Err = apperr.As(conflict(CodeResourceConflict, "scope already exists in scope group"))
		case errors.Is(err, storage.ErrLimit):
			r.Err = apperr.New(apperr.Conflict, "the scope group already holds %d scopes, the most it may", MaxScopesPerGroup)
		default:
			r.Err = apperr.Wrap(err, "add scope")
		}
	}
	return results, m.synced(ctx)
}

// checkGroupScope validates item i of a batch and returns its canonical GRN.
func checkGroupScope(c *principal.Caller, i int, it ScopeInput) (string, error) {
	field := indexed("items", i)
	if it.Description == "" {
		return "", apperr.Field(field+".description", "must not be empty")
	}
	if err := checkText(field+".description", it.Description, maxDescriptionLen); err != nil {
		return "", err
	}
	g, err := grn.Parse(it.GRN)
	if err != nil {
		return "", apperr.Field(field+".grn", "must be a GRN: %s", err.Error())
	}
	ws := workspaceGRN(c)
	switch {
	case g.Platform != ws.Platform || g.Workspace != ws.Workspace:
		return "", apperr.Field(field+".grn", "must lie inside the caller's workspace %s", ws.String())
	case g.Provider == "" || len(g.Path) == 0:
		return "", apperr.Field(field+".grn", "must name a resource (a whole workspace is not a scope group scope)")
	case g.Provider == AuthorizationProvider || g.Provider == TenantGroupProvider:
		return "", apperr.Field(field+".grn", "scope groups and tenant groups cannot be put in a scope group")
	}
	return g.String(), nil
}

// RemoveScopes removes up to MaxScopeBatch scopes from a scope group by id, each on its own:
// an id that is not in the group is reported, the others are removed. A malformed id fails
// the whole request.
func (m *Manager) RemoveScopes(ctx context.Context, c *principal.Caller, groupID string, scopeIDs []string) ([]ScopeResult, error) {
	g, err := m.GetScopeGroup(ctx, c, groupID)
	if err != nil {
		return nil, err
	}
	if len(scopeIDs) == 0 || len(scopeIDs) > MaxScopeBatch {
		return nil, apperr.Field("items", "must list 1 to %d scope ids", MaxScopeBatch)
	}
	results := make([]ScopeResult, len(scopeIDs))
	canon := make([]string, len(scopeIDs))
	for i, raw := range scopeIDs {
		id, err := ids.Parse(raw)
		if err != nil {
			return nil, apperr.Field(indexed("items", i)+".id", "must be a UUID")
		}
		canon[i], results[i].ID = id, id
	}
	outcomes, err := m.Store.RemoveGroupScopes(ctx, g.ID, canon)
	if err != nil {
		return nil, notFoundOr(err, errScopeGroupNotFound, "remove scopes")
	}
	for i, err := range outcomes {
		switch {
		case errors.Is(err, storage.ErrNotFound):
			results[i].Err = apperr.New(apperr.NotFound, "no scope with this id in the scope group")
		case err != nil:
			results[i].Err = apperr.Wrap(err, "remove scope")
		}
	}
	return results, m.synced(ctx)
}
