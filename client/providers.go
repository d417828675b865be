package client

import (
	"context"
	"iter"
	"net/http"
	"time"
)

// Provider is a resource provider: a service registering its resource types and
// permissions. ID is its namespace.
type Provider struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Generation  int64     `json:"generation"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// ProviderInput creates (ID required) or replaces (ID ignored) a provider.
type ProviderInput struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// ResourceType is a type of resource a provider declares. Key is "<provider>/<name>".
type ResourceType struct {
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Provider    string    `json:"provider"`
	Key         string    `json:"key"`
	DisplayName string    `json:"displayName"`
	Description string    `json:"description"`
	Generation  int64     `json:"generation"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// ResourceTypeInput creates or replaces a resource type.
type ResourceTypeInput struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
}

// Permission is a permission a provider declares, "<provider>.<type>.<action>".
type Permission struct {
	Name                    string    `json:"name"`
	Type                    string    `json:"type"`
	Provider                string    `json:"provider"`
	Description             string    `json:"description"`
	ReleaseStage            string    `json:"releaseStage"`  // ALPHA, BETA, STABLE, DEPRECATED
	CustomRoleUse           string    `json:"customRoleUse"` // ALLOW or DENY
	ApplicableResourceTypes []string  `json:"applicableResourceTypes"`
	FixedScope              bool      `json:"fixedScope"`
	Generation              int64     `json:"generation"`
	CreatedAt               time.Time `json:"createdAt"`
	UpdatedAt               time.Time `json:"updatedAt"`
}

// PermissionInput creates or replaces a permission.
type PermissionInput struct {
	Name                    string   `json:"name"`
	Description             string   `json:"description,omitempty"`
	ReleaseStage            string   `json:"releaseStage"`
	CustomRoleUse           string   `json:"customRoleUse"`
	ApplicableResourceTypes []string `json:"applicableResourceTypes"`
	FixedScope              bool     `json:"fixedScope,omitempty"`
}

const providersPath = AuthzPath + "/resource-providers"

// ListProviders lists the resource providers, 200 a page unless opts says otherwise.
func (c *Client) ListProviders(ctx context.Context, opts *ListOptions) iter.Seq2[Provider, error] {
	return list[Provider](c, ctx, providersPath, opts, 200)
}

// GetProvider reads a provider.
func (c *Client) GetProvider(ctx context.Context, id string) (*Provider, error) {
	return call[Provider](c, ctx, http.MethodGet, providersPath+"/"+escape(id), nil)
}

// CreateProvider registers a provider (platform administrators only).
func (c *Client) CreateProvider(ctx context.Context, in ProviderInput) (*Provider, error) {
	return call[Provider](c, ctx, http.MethodPost, providersPath, in)
}

// UpdateProvider replaces a provider's name and description.
func (c *Client) UpdateProvider(ctx context.Context, id string, in ProviderInput) (*Provider, error) {
	in.ID = id
	return call[Provider](c, ctx, http.MethodPut, providersPath+"/"+escape(id), in)
}

// DeleteProvider deletes a provider that declares nothing any more (412 otherwise).
func (c *Client) DeleteProvider(ctx context.Context, id string) error {
	return c.delete(ctx, providersPath+"/"+escape(id))
}

// ListResourceTypes lists a provider's resource types.
func (c *Client) ListResourceTypes(ctx context.Context, providerID string, opts *ListOptions) iter.Seq2[ResourceType, error] {
	return list[ResourceType](c, ctx, providersPath+"/"+escape(providerID)+"/resource-types", opts, 200)
}

// GetResourceType reads a resource type by name.
func (c *Client) GetResourceType(ctx context.Context, providerID, name string) (*ResourceType, error) {
	return call[ResourceType](c, ctx, http.MethodGet, providersPath+"/"+escape(providerID)+"/resource-types/"+escape(name), nil)
}

// CreateResourceType declares a resource type.
func (c *Client) CreateResourceType(ctx context.Context, providerID string, in ResourceTypeInput) (*ResourceType, error) {
	return call[ResourceType](c, ctx, http.MethodPost, providersPath+"/"+escape(providerID)+"/resource-types", in)
}

// UpdateResourceType replaces a resource type's display name and description.
func (c *Client) UpdateResourceType(ctx context.Context, providerID, name string, in ResourceTypeInput) (*ResourceType, error) {
	in.Name = name
	return call[ResourceType](c, ctx, http.MethodPut, providersPath+"/"+escape(providerID)+"/resource-types/"+escape(name), in)
}

// DeleteResourceType deletes a resource type no permission applies to.
func (c *Client) DeleteResourceType(ctx context.Context, providerID, name string) error {
	return c.delete(ctx, providersPath+"/"+escape(providerID)+"/resource-types/"+escape(name))
}

// ListPermissions lists a provider's permissions.
func (c *Client) ListPermissions(ctx context.Context, providerID string, opts *ListOptions) iter.Seq2[Permission, error] {
	return list[Permission](c, ctx, providersPath+"/"+escape(providerID)+"/permissions", opts, 200)
}

// GetPermission reads a permission by name.
func (c *Client) GetPermission(ctx context.Context, providerID, name string) (*Permission, error) {
	return call[Permission](c, ctx, http.MethodGet, providersPath+"/"+escape(providerID)+"/permissions/"+escape(name), nil)
}

// CreatePermission declares a permission.
func (c *Client) CreatePermission(ctx context.Context, providerID string, in PermissionInput) (*Permission, error) {
	in.ApplicableResourceTypes = nonNil(in.ApplicableResourceTypes)
	return call[Permission](c, ctx, http.MethodPost, providersPath+"/"+escape(providerID)+"/permissions", in)
}

// UpdatePermission replaces a permission (its name does not change).
func (c *Client) UpdatePermission(ctx context.Context, providerID, name string, in PermissionInput) (*Permission, error) {
	in.Name = name
	in.ApplicableResourceTypes = nonNil(in.ApplicableResourceTypes)
	return call[Permission](c, ctx, http.MethodPut, providersPath+"/"+escape(providerID)+"/permissions/"+escape(name), in)
}

// DeletePermission deletes a permission no role holds.
func (c *Client) DeletePermission(ctx context.Context, providerID, name string) error {
	return c.delete(ctx, providersPath+"/"+escape(providerID)+"/permissions/"+escape(name))
}
