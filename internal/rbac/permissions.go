package rbac

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// PermissionInput is the body of a permission create or update. Name is only read on create
// (an update may repeat it, unchanged).
type PermissionInput struct {
	Name          string
	Description   string
	ReleaseStage  string
	CustomRoleUse string
	ResourceTypes []string
	FixedScope    bool
}

// MaxApplicableTypes bounds a permission's applicable resource types.
const MaxApplicableTypes = 100

var errPermissionNotFound = apperr.New(apperr.NotFound, "no permission with this name")

// CreatePermission registers a permission of a provider (platform administrators only).
func (m *Manager) CreatePermission(ctx context.Context, c *principal.Caller, provider string, in PermissionInput) (*storage.Permission, error) {
	if err := m.requirePlatform(c, PermProviderEdit); err != nil {
		return nil, err
	}
	if _, err := m.GetProvider(ctx, provider); err != nil {
		return nil, err
	}
	if err := ownProvider(provider); err != nil {
		return nil, err
	}
	if err := m.checkPermissionName(ctx, provider, in.Name); err != nil {
		return nil, err
	}
	p := &storage.Permission{Name: in.Name, Provider: provider, Generation: 1}
	if err := m.fillPermission(ctx, p, in); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = m.now(), m.now()
	switch err := m.Store.CreatePermission(ctx, p); {
	case errors.Is(err, storage.ErrConflict):
		return nil, conflict(CodeResourceConflict, "a permission %q already exists", in.Name)
	case errors.Is(err, storage.ErrNotFound):
		return nil, apperr.Field("applicableResourceTypes", "a resource type was removed meanwhile; retry")
	case err != nil:
		return nil, apperr.Wrap(err, "create permission")
	}
	return p, m.synced(ctx)
}

// checkPermissionName enforces <provider>.<resource type>.<action>, at most 128 characters,
// where the provider is the one in the path and the resource type is one it declares.
func (m *Manager) checkPermissionName(ctx context.Context, provider, name string) error {
	if name == "" || len(name) > maxPermissionLen {
		return apperr.Field("name", "must be 1 to %d characters", maxPermissionLen)
	}
	parts := strings.Split(name, ".")
	if len(parts) != 3 {
		return apperr.Field("name", "must be <resource provider>.<resource type>.<action>")
	}
	if parts[0] != provider {
		return apperr.Field("name", "must start with the provider %q", provider)
	}
	if err := checkSegment("name", parts[2], maxPermissionLen); err != nil {
		return apperr.Field("name", "action: %s", apperr.As(err).Issues[0].Description)
	}
	_, err := m.Store.GetResourceType(ctx, provider, parts[1])
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return apperr.Field("name", "%q is not a resource type of the provider %q", truncate(parts[1]), provider)
	case err != nil:
		return apperr.Wrap(err, "read resource type")
	}
	return nil
}

// fillPermission validates and copies the mutable attributes.
func (m *Manager) fillPermission(ctx context.Context, p *storage.Permission, in PermissionInput) error {
	if err := checkText("description", in.Description, maxLongDescription); err != nil {
		return err
	}
	if err := oneOf("releaseStage", in.ReleaseStage, ReleaseStages); err != nil {
		return err
	}
	if err := oneOf("customRoleUse", in.CustomRoleUse, CustomRoleUses); err != nil {
		return err
	}
	types, err := m.checkTypes(ctx, in.ResourceTypes)
	if err != nil {
		return err
	}
	p.Description, p.ReleaseStage, p.CustomRoleUse = in.Description, in.ReleaseStage, in.CustomRoleUse
	p.ResourceTypes, p.FixedScope = types, in.FixedScope
	return nil
}

// checkTypes requires 1..100 distinct, existing resource types "<provider>/<type>".
func (m *Manager) checkTypes(ctx context.Context, types []string) ([]string, error) {
	const field = "applicableResourceTypes"
	if len(types) == 0 || len(types) > MaxApplicableTypes {
		return nil, apperr.Field(field, "must list 1 to %d resource types", MaxApplicableTypes)
	}
	seen := map[string]bool{}
	for i, key := range types {
		sub := fmt.Sprintf("%s[%d]", field, i)
		provider, name, ok := strings.Cut(key, "/")
		if !ok || checkSegment(sub, provider, maxNamespaceLen) != nil || checkSegment(sub, name, maxNamespaceLen) != nil {
			return nil, apperr.Field(sub, "must be <provider>/<resource type>")
		}
		if seen[key] {
			return nil, apperr.Field(sub, "is listed twice")
		}
		seen[key] = true
		_, err := m.Store.GetResourceType(ctx, provider, name)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return nil, apperr.Field(sub, "no resource type %q is registered", key)
		case err != nil:
			return nil, apperr.Wrap(err, "read resource type")
		}
	}
	return slices.Sorted(slices.Values(types)), nil
}

// UpdatePermission replaces a permission's attributes; its name is immutable. Allowing a
// permission in custom roles can be withdrawn only while no custom role holds it.
func (m *Manager) UpdatePermission(ctx context.Context, c *principal.Caller, provider, name string, in PermissionInput, ifMatch string) (*storage.Permission, error) {
	if err := m.requirePlatform(c, PermProviderEdit); err != nil {
		return nil, err
	}
	p, err := m.GetPermission(ctx, provider, name)
	if err != nil {
		return nil, err
	}
	if err := ownProvider(provider); err != nil {
		return nil, err
	}
	if in.Name != "" && in.Name != name {
		return nil, apperr.Field("name", "is immutable")
	}
	if err := CheckGeneration(ifMatch, p.Generation); err != nil {
		return nil, err
	}
	if err := m.fillPermission(ctx, p, in); err != nil {
		return nil, err
	}
	if p.CustomRoleUse == CustomDeny {
		n, err := m.Store.CustomRolesHolding(ctx, name)
		if err != nil {
			return nil, apperr.Wrap(err, "count custom roles")
		}
		if n > 0 {
			return nil, apperr.New(apperr.PreconditionFailed, "%d custom roles hold this permission; remove it from them before setting customRoleUse to DENY", n)
		}
	}
	p.UpdatedAt = m.now()
	if err := m.Store.UpdatePermission(ctx, p); err != nil {
		return nil, notFoundOr(err, errPermissionNotFound, "update permission")
	}
	if err := m.synced(ctx); err != nil {
		return nil, err
	}
	return m.GetPermission(ctx, provider, name)
}

// GetPermission reads one permission of a provider.
func (m *Manager) GetPermission(ctx context.Context, provider, name string) (*storage.Permission, error) {
	if _, err := m.GetProvider(ctx, provider); err != nil {
		return nil, err
	}
	p, err := m.Store.GetPermission(ctx, name)
	if err == nil && p.Provider != provider {
		err = storage.ErrNotFound
	}
	if err != nil {
		return nil, notFoundOr(err, errPermissionNotFound, "read permission")
	}
	return p, nil
}

// ListPermissions lists a provider's permissions by name.
func (m *Manager) ListPermissions(ctx context.Context, provider string) ([]storage.Permission, error) {
	if _, err := m.GetProvider(ctx, provider); err != nil {
		return nil, err
	}
	ps, err := m.Store.ListProviderPermissions(ctx, provider)
	if err != nil {
		return nil, apperr.Wrap(err, "list permissions")
	}
	return ps, nil
}

// DeletePermission removes a permission no role holds.
func (m *Manager) DeletePermission(ctx context.Context, c *principal.Caller, provider, name, ifMatch string) error {
	if err := m.requirePlatform(c, PermProviderDelete); err != nil {
		return err
	}
	p, err := m.GetPermission(ctx, provider, name)
	if err != nil {
		return err
	}
	if err := CheckGeneration(ifMatch, p.Generation); err != nil {
		return err
	}
	if err := ownProvider(provider); err != nil {
		return err
	}
	switch err := m.Store.DeletePermission(ctx, name); {
	case errors.Is(err, storage.ErrInUse):
		return apperr.New(apperr.PreconditionFailed, "a role still holds this permission; remove it from every role first (or mark it DEPRECATED)")
	case err != nil:
		return notFoundOr(err, errPermissionNotFound, "delete permission")
	}
	return m.synced(ctx)
}
