package rbac

import (
	"context"
	"errors"
	"slices"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// ProviderInput is the body of a provider create or update. ID is only read on create.
type ProviderInput struct {
	ID          string
	Name        string
	Description string
}

// ResourceTypeInput is the body of a resource type create or update.
type ResourceTypeInput struct {
	Name        string
	DisplayName string
	Description string
}

var errProviderNotFound = apperr.New(apperr.NotFound, "no resource provider with this id")

// ownProvider refuses changes to keyhold's own provider, which keyhold maintains itself.
func ownProvider(id string) error {
	if id == Provider {
		return apperr.New(apperr.Forbidden, "the provider %q is keyhold's own and cannot be changed through the API", Provider)
	}
	return nil
}

// CreateProvider registers a resource provider (platform administrators only).
func (m *Manager) CreateProvider(ctx context.Context, c *principal.Caller, in ProviderInput) (*storage.ResourceProvider, error) {
	if err := m.requirePlatform(c, PermProviderEdit); err != nil {
		return nil, err
	}
	if err := checkSegment("id", in.ID, maxNamespaceLen); err != nil {
		return nil, err
	}
	if slices.Contains(reservedProviders, in.ID) {
		return nil, apperr.Field("id", "%q is reserved", in.ID)
	}
	name, err := checkName("name", in.Name, maxDisplayNameLen)
	if err != nil {
		return nil, err
	}
	if err := checkText("description", in.Description, maxDescriptionLen); err != nil {
		return nil, err
	}
	now := m.now()
	p := &storage.ResourceProvider{ID: in.ID, Name: name, Description: in.Description, Generation: 1, CreatedAt: now, UpdatedAt: now}
	switch err := m.Store.CreateProvider(ctx, p); {
	case errors.Is(err, storage.ErrConflict):
		return nil, conflict(CodeResourceConflict, "a resource provider %q already exists", in.ID)
	case err != nil:
		return nil, apperr.Wrap(err, "create provider")
	}
	return p, m.synced(ctx)
}

// UpdateProvider replaces a provider's name and description.
func (m *Manager) UpdateProvider(ctx context.Context, c *principal.Caller, id string, in ProviderInput, ifMatch string) (*storage.ResourceProvider, error) {
	if err := m.requirePlatform(c, PermProviderEdit); err != nil {
		return nil, err
	}
	p, err := m.GetProvider(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := ownProvider(id); err != nil {
		return nil, err
	}
	if in.ID != "" && in.ID != id {
		return nil, apperr.Field("id", "is immutable")
	}
	if err := CheckGeneration(ifMatch, p.Generation); err != nil {
		return nil, err
	}
	if p.Name, err = checkName("name", in.Name, maxDisplayNameLen); err != nil {
		return nil, err
	}
	if err := checkText("description", in.Description, maxDescriptionLen); err != nil {
		return nil, err
	}
	p.Description, p.UpdatedAt = in.Description, m.now()
	if err := m.Store.UpdateProvider(ctx, p); err != nil {
		return nil, notFoundOr(err, errProviderNotFound, "update provider")
	}
	if err := m.synced(ctx); err != nil {
		return nil, err
	}
	return m.GetProvider(ctx, id)
}

// GetProvider reads one provider; providers are platform-wide, visible to every viewer.
func (m *Manager) GetProvider(ctx context.Context, id string) (*storage.ResourceProvider, error) {
	p, err := m.Store.GetProvider(ctx, id)
	if err != nil {
		return nil, notFoundOr(err, errProviderNotFound, "read provider")
	}
	return p, nil
}

// ListProviders lists every provider by id.
func (m *Manager) ListProviders(ctx context.Context) ([]storage.ResourceProvider, error) {
	ps, err := m.Store.ListProviders(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "list providers")
	}
	return ps, nil
}

// DeleteProvider removes a provider that declares no resource types or permissions anymore.
func (m *Manager) DeleteProvider(ctx context.Context, c *principal.Caller, id, ifMatch string) error {
	if err := m.requirePlatform(c, PermProviderDelete); err != nil {
		return err
	}
	p, err := m.GetProvider(ctx, id)
	if err != nil {
		return err
	}
	if err := CheckGeneration(ifMatch, p.Generation); err != nil {
		return err
	}
	if err := ownProvider(id); err != nil {
		return err
	}
	switch err := m.Store.DeleteProvider(ctx, id); {
	case errors.Is(err, storage.ErrInUse):
		return apperr.New(apperr.PreconditionFailed, "the provider still declares resource types or permissions; delete them first")
	case err != nil:
		return notFoundOr(err, errProviderNotFound, "delete provider")
	}
	return m.synced(ctx)
}

// notFoundOr maps ErrNotFound to nf and any other error to an internal error.
func notFoundOr(err error, nf error, what string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return nf
	}
	return storeErr(err, what)
}

var errTypeNotFound = apperr.New(apperr.NotFound, "no resource type with this name")

// CreateResourceType declares a resource type of a provider (platform administrators only).
func (m *Manager) CreateResourceType(ctx context.Context, c *principal.Caller, provider string, in ResourceTypeInput) (*storage.ResourceType, error) {
	if err := m.requirePlatform(c, PermProviderEdit); err != nil {
		return nil, err
	}
	if _, err := m.GetProvider(ctx, provider); err != nil {
		return nil, err
	}
	if err := ownProvider(provider); err != nil {
		return nil, err
	}
	if err := checkSegment("name", in.Name, maxNamespaceLen); err != nil {
		return nil, err
	}
	t := &storage.ResourceType{Provider: provider, Name: in.Name, Generation: 1}
	if err := fillType(t, in); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = m.now(), m.now()
	switch err := m.Store.CreateResourceType(ctx, t); {
	case errors.Is(err, storage.ErrConflict):
		return nil, conflict(CodeResourceConflict, "the provider already has a resource type %q", in.Name)
	case err != nil:
		return nil, notFoundOr(err, errProviderNotFound, "create resource type")
	}
	return t, m.synced(ctx)
}

func fillType(t *storage.ResourceType, in ResourceTypeInput) error {
	t.DisplayName = in.DisplayName
	if t.DisplayName == "" {
		t.DisplayName = t.Name
	}
	if err := checkText("displayName", t.DisplayName, maxDisplayNameLen); err != nil {
		return err
	}
	t.Description = in.Description
	return checkText("description", in.Description, maxDescriptionLen)
}

// UpdateResourceType replaces a type's display name and description; its name is immutable.
func (m *Manager) UpdateResourceType(ctx context.Context, c *principal.Caller, provider, name string, in ResourceTypeInput, ifMatch string) (*storage.ResourceType, error) {
	if err := m.requirePlatform(c, PermProviderEdit); err != nil {
		return nil, err
	}
	t, err := m.GetResourceType(ctx, provider, name)
	if err != nil {
		return nil, err
	}
	if err := ownProvider(provider); err != nil {
		return nil, err
	}
	if in.Name != "" && in.Name != name {
		return nil, apperr.Field("name", "is immutable")
	}
	if err := CheckGeneration(ifMatch, t.Generation); err != nil {
		return nil, err
	}
	if err := fillType(t, in); err != nil {
		return nil, err
	}
	t.UpdatedAt = m.now()
	if err := m.Store.UpdateResourceType(ctx, t); err != nil {
		return nil, notFoundOr(err, errTypeNotFound, "update resource type")
	}
	if err := m.synced(ctx); err != nil {
		return nil, err
	}
	return m.GetResourceType(ctx, provider, name)
}

// GetResourceType reads one resource type of a provider.
func (m *Manager) GetResourceType(ctx context.Context, provider, name string) (*storage.ResourceType, error) {
	if _, err := m.GetProvider(ctx, provider); err != nil {
		return nil, err
	}
	t, err := m.Store.GetResourceType(ctx, provider, name)
	if err != nil {
		return nil, notFoundOr(err, errTypeNotFound, "read resource type")
	}
	return t, nil
}

// ListResourceTypes lists a provider's resource types by name.
func (m *Manager) ListResourceTypes(ctx context.Context, provider string) ([]storage.ResourceType, error) {
	if _, err := m.GetProvider(ctx, provider); err != nil {
		return nil, err
	}
	ts, err := m.Store.ListResourceTypes(ctx, provider)
	if err != nil {
		return nil, apperr.Wrap(err, "list resource types")
	}
	return ts, nil
}

// DeleteResourceType removes a resource type no permission applies to.
func (m *Manager) DeleteResourceType(ctx context.Context, c *principal.Caller, provider, name, ifMatch string) error {
	if err := m.requirePlatform(c, PermProviderDelete); err != nil {
		return err
	}
	t, err := m.GetResourceType(ctx, provider, name)
	if err != nil {
		return err
	}
	if err := CheckGeneration(ifMatch, t.Generation); err != nil {
		return err
	}
	if err := ownProvider(provider); err != nil {
		return err
	}
	switch err := m.Store.DeleteResourceType(ctx, provider, name); {
	case errors.Is(err, storage.ErrInUse):
		return apperr.New(apperr.PreconditionFailed, "a permission still applies to this resource type")
	case err != nil:
		return notFoundOr(err, errTypeNotFound, "delete resource type")
	}
	return m.synced(ctx)
}
