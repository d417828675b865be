package rbac

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// RoleInput is the body of a role create or update. Kind is CUSTOM (the default) or
// PREDEFINED; Slug and ReleaseStage apply to predefined roles only.
type RoleInput struct {
	Kind         string
	Name         string
	Description  string
	Slug         string
	ReleaseStage string
	Permissions  []string
}

var errRoleNotFound = apperr.New(apperr.NotFound, "no role with this id")

// RoleGRN is the GRN of a role: platform-wide for predefined roles, in its workspace for
// custom roles.
func RoleGRN(r *storage.Role) string {
	if r.WorkspaceID == "" {
		return PredefinedRoleGRN(r.Slug)
	}
	return "grn:" + grn.DefaultPlatform + "/workspaces/" + ids.Hex(r.WorkspaceID) + "/regions/default/providers/" +
		AuthorizationProvider + "/" + CustomRoleType + "/" + r.ID
}

// CreateRole makes a custom role in the caller's workspace or, for a platform administrator,
// a predefined role.
func (m *Manager) CreateRole(ctx context.Context, c *principal.Caller, in RoleInput) (*storage.Role, error) {
	now := m.now()
	r := &storage.Role{Generation: 1, CreatedAt: now, UpdatedAt: now, Description: in.Description}
	switch in.Kind {
	case "", KindCustom:
		r.ID, r.WorkspaceID, r.Kind = ids.New(), c.WorkspaceID, KindCustom
	case KindPredefined:
		if err := m.requirePlatform(c, PermPredefinedEdit); err != nil {
			return nil, err
		}
		if err := m.checkSlug(ctx, in.Slug); err != nil {
			return nil, err
		}
		r.ID, r.Slug, r.Kind = PredefinedRoleID(in.Slug), in.Slug, KindPredefined
	default:
		return nil, apperr.Field("kind", "must be CUSTOM or PREDEFINED")
	}
	if err := m.fillRole(ctx, r, in); err != nil {
		return nil, err
	}
	if err := m.mayDefine(ctx, c, r, nil); err != nil {
		return nil, err
	}
	max := m.MaxCustomRoles
	if max == 0 {
		max = DefaultMaxCustomRoles
	}
	switch err := m.Store.CreateRole(ctx, r, max); {
	case errors.Is(err, storage.ErrConflict):
		return nil, conflict(CodeResourceConflict, "a role with this name (or slug) already exists")
	case errors.Is(err, storage.ErrLimit):
		return nil, apperr.New(apperr.Conflict, "custom role limit reached: a workspace may hold at most %d custom roles", max)
	case errors.Is(err, storage.ErrNotFound):
		return nil, apperr.Field("permissions", "a permission was removed meanwhile; retry")
	case err != nil:
		return nil, apperr.Wrap(err, "create role")
	}
	return r, m.synced(ctx)
}

// mayDefine applies the escalation rule to the permissions that a custom role's create or
// update adds to old (Guard.MayDefine): once assigned, the role grants them on every scope
// of its assignments. Predefined roles are the platform administrators' to define.
func (m *Manager) mayDefine(ctx context.Context, c *principal.Caller, r *storage.Role, old []string) error {
	if r.Kind != KindCustom {
		return nil
	}
	added := slices.DeleteFunc(slices.Clone(r.Permissions), func(p string) bool { return slices.Contains(old, p) })
	return m.guard().MayDefine(ctx, c, added)
}

// checkSlug requires <provider>.<name> for a registered provider other than keyhold's own.
func (m *Manager) checkSlug(ctx context.Context, slug string) error {
	provider, name, ok := strings.Cut(slug, ".")
	if !ok || len(slug) > maxNamespaceLen || checkSegment("slug", provider, maxNamespaceLen) != nil ||
		checkSegment("slug", name, maxNamespaceLen) != nil {
		return apperr.Field("slug", "must be <provider>.<name>, at most %d characters of letters, digits, '-' and '_'", maxNamespaceLen)
	}
	if provider == Provider {
		return apperr.Field("slug", "the provider %q is keyhold's own; its predefined roles are fixed", Provider)
	}
	if _, err := m.Store.GetProvider(ctx, provider); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return apperr.Field("slug", "no resource provider %q is registered", provider)
		}
		return apperr.Wrap(err, "read provider")
	}
	return nil
}

// fillRole validates and copies name, description, release stage and permissions. A
// predefined role keeps its release stage when in names none (STABLE for a new one).
func (m *Manager) fillRole(ctx context.Context, r *storage.Role, in RoleInput) error {
	var err error
	if r.Name, err = checkRoleName(in.Name); err != nil {
		return err
	}
	if err := checkText("description", in.Description, maxDescriptionLen); err != nil {
		return err
	}
	r.Description = in.Description
	if r.Kind == KindPredefined {
		if in.ReleaseStage != "" {
			r.ReleaseStage = in.ReleaseStage
		}
		if r.ReleaseStage == "" {
			r.ReleaseStage = StageStable
		}
		if err := oneOf("releaseStage", r.ReleaseStage, ReleaseStages); err != nil {
			return err
		}
	} else if in.ReleaseStage != "" {
		return apperr.Field("releaseStage", "applies to predefined roles only")
	}
	r.Permissions, err = m.checkRolePermissions(ctx, r.Kind, in.Permissions)
	return err
}

// checkRolePermissions requires 1..MaxPermissionsPerRole distinct registered permissions,
// each allowed in custom roles when the role is custom.
func (m *Manager) checkRolePermissions(ctx context.Context, kind string, names []string) ([]string, error) {
	if len(names) == 0 || len(names) > MaxPermissionsPerRole {
		return nil, apperr.Field("permissions", "must list 1 to %d permissions", MaxPermissionsPerRole)
	}
	seen := map[string]bool{}
	for i, name := range names {
		field := fmt.Sprintf("permissions[%d]", i)
		if seen[name] {
			return nil, apperr.Field(field, "is listed twice")
		}
		seen[name] = true
		p, err := m.Store.GetPermission(ctx, name)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return nil, apperr.Field(field, "no permission %q is registered", truncate(name))
		case err != nil:
			return nil, apperr.Wrap(err, "read permission")
		case kind == KindCustom && p.CustomRoleUse != CustomAllow:
			return nil, apperr.Field(field, "%s cannot be used in custom roles (customRoleUse %s)", name, p.CustomRoleUse)
		}
	}
	return names, nil
}

// visibleRole reads a role the caller may see: a predefined role, or a custom role of its
// workspace. Anything else is "not found".
func (m *Manager) visibleRole(ctx context.Context, c *principal.Caller, rawID string) (*storage.Role, error) {
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "id", "must be a UUID")
	}
	r, err := m.Store.GetRole(ctx, id)
	if err == nil && r.WorkspaceID != "" && r.WorkspaceID != c.WorkspaceID {
		err = storage.ErrNotFound
	}
	if err != nil {
		return nil, notFoundOr(err, errRoleNotFound, "read role")
	}
	return r, nil
}

// GetRole reads a role the caller may see.
func (m *Manager) GetRole(ctx context.Context, c *principal.Caller, id string) (*storage.Role, error) {
	return m.visibleRole(ctx, c, id)
}

// mayChange checks who may change an existing role: keyhold's own roles are fixed,
// predefined roles need a platform permission, custom roles belong to their workspace
// (visibleRole has checked that).
func (m *Manager) mayChange(c *principal.Caller, r *storage.Role, platformPerm string) error {
	if r.WorkspaceID != "" {
		return nil
	}
	if strings.HasPrefix(r.Slug, Provider+".") {
		return apperr.New(apperr.Forbidden, "the predefined role %s is keyhold's own and cannot be changed", r.Slug)
	}
	return m.requirePlatform(c, platformPerm)
}

// UpdateRole replaces a role's name, description, permissions (and, for a predefined role,
// release stage). Kind and slug are immutable.
func (m *Manager) UpdateRole(ctx context.Context, c *principal.Caller, id string, in RoleInput, ifMatch string) (*storage.Role, error) {
	r, err := m.visibleRole(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := m.mayChange(c, r, PermPredefinedEdit); err != nil {
		return nil, err
	}
	if in.Kind != "" && in.Kind != r.Kind {
		return nil, apperr.Field("kind", "is immutable")
	}
	if in.Slug != "" && in.Slug != r.Slug {
		return nil, apperr.Field("slug", "is immutable")
	}
	if err := CheckGeneration(ifMatch, r.Generation); err != nil {
		return nil, err
	}
	old := slices.Clone(r.Permissions)
	if err := m.fillRole(ctx, r, in); err != nil {
		return nil, err
	}
	if err := m.mayDefine(ctx, c, r, old); err != nil {
		return nil, err
	}
	r.UpdatedAt = m.now()
	switch err := m.Store.UpdateRole(ctx, r); {
	case errors.Is(err, storage.ErrConflict):
		return nil, conflict(CodeResourceConflict, "a role with this name already exists")
	case err != nil:
		return nil, notFoundOr(err, errRoleNotFound, "update role")
	}
	if err := m.synced(ctx); err != nil {
		return nil, err
	}
	return m.visibleRole(ctx, c, r.ID)
}

// DeleteRole removes a role no assignment grants.
func (m *Manager) DeleteRole(ctx context.Context, c *principal.Caller, id, ifMatch string) error {
	r, err := m.visibleRole(ctx, c, id)
	if err != nil {
		return err
	}
	if err := CheckGeneration(ifMatch, r.Generation); err != nil {
		return err
	}
	if err := m.mayChange(c, r, PermPredefinedDelete); err != nil {
		return err
	}
	switch err := m.Store.DeleteRole(ctx, r.ID); {
	case errors.Is(err, storage.ErrInUse):
		return apperr.New(apperr.PreconditionFailed, "the role is still assigned; delete its role assignments first")
	case err != nil:
		return notFoundOr(err, errRoleNotFound, "delete role")
	}
	return m.synced(ctx)
}

// ListRoles lists the predefined roles and the caller's workspace's custom roles, oldest
// first, narrowed by an `in` or `eq` filter on kind, name and slug.
func (m *Manager) ListRoles(ctx context.Context, c *principal.Caller, filter string) ([]storage.Role, error) {
	f, err := InOrEqFilter(filter, "kind", "name", "slug")
	if err != nil {
		return nil, err
	}
	rs, err := m.Store.ListRolesIn(ctx, c.WorkspaceID)
	if err != nil {
		return nil, apperr.Wrap(err, "list roles")
	}
	match := func(prop, v string) bool { return f[prop] == nil || slices.Contains(f[prop], v) }
	return slices.DeleteFunc(rs, func(r storage.Role) bool {
		return !match("kind", r.Kind) || !match("name", r.Name) || !match("slug", r.Slug)
	}), nil
}

// ResolveRole finds the role a role GRN names, among the roles the caller may see.
func (m *Manager) ResolveRole(ctx context.Context, c *principal.Caller, field, text string) (*storage.Role, error) {
	bad := apperr.Field(field, "must be the GRN of a predefined role or of a custom role of this workspace")
	g, err := grn.Parse(text)
	if err != nil || g.Provider != AuthorizationProvider || len(g.Path) != 1 {
		return nil, bad
	}
	var id string
	switch {
	case g.Workspace == "" && g.Path[0].Type == "roles":
		id = PredefinedRoleID(g.Path[0].ID)
	case g.Workspace == workspaceGRN(c).Workspace && g.Path[0].Type == CustomRoleType:
		if id, err = ids.Parse(g.Path[0].ID); err != nil {
			return nil, bad
		}
	default:
		return nil, bad
	}
	r, err := m.Store.GetRole(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, apperr.Field(field, "no such role")
	case err != nil:
		return nil, apperr.Wrap(err, "read role")
	case r.WorkspaceID != "" && r.WorkspaceID != c.WorkspaceID, g.Workspace == "" && r.WorkspaceID != "":
		return nil, apperr.Field(field, "no such role")
	}
	return r, nil
}
