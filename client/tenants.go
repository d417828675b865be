package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"time"
)

// Workspace is a workspace: the caller's own, or one of its MSP tenants.
type Workspace struct {
	ID                 string          `json:"id"`
	Type               string          `json:"type"`
	WorkspaceName      string          `json:"workspaceName"`
	WorkspaceType      string          `json:"workspaceType,omitempty"` // STANDARD_ENTERPRISE, MSP, MSP_TENANT
	CreatedBy          string          `json:"createdBy"`
	Generation         int64           `json:"generation"`
	CreatedAt          time.Time       `json:"createdAt"`
	UpdatedAt          time.Time       `json:"updatedAt"`
	ResourceURI        string          `json:"resourceUri"`
	InventoryOwnership string          `json:"inventoryOwnership,omitempty"`
	Description        string          `json:"description,omitempty"`
	Email              string          `json:"email,omitempty"`
	PhoneNumber        string          `json:"phoneNumber,omitempty"`
	Address            json.RawMessage `json:"address,omitempty"`
}

// TenantInput creates or replaces an MSP tenant.
type TenantInput struct {
	WorkspaceName      string          `json:"workspaceName"`
	Description        string          `json:"description,omitempty"`
	Email              string          `json:"email,omitempty"`
	PhoneNumber        string          `json:"phoneNumber,omitempty"`
	InventoryOwnership string          `json:"inventoryOwnership,omitempty"` // MSP_OWNED_INVENTORY (default) or CUSTOMER_OWNED_INVENTORY
	Address            json.RawMessage `json:"address,omitempty"`            // a JSON object
}

// TenantRef is the answer of tenant writes.
type TenantRef struct {
	Message     string `json:"message"`
	ID          string `json:"id"`
	ResourceURI string `json:"resourceUri"`
}

// GetWorkspace reads the caller's workspace or one of its tenants.
func (c *Client) GetWorkspace(ctx context.Context, id string) (*Workspace, error) {
	return call[Workspace](c, ctx, http.MethodGet, "/workspaces/v1/workspaces/"+escape(id), nil)
}

// ListTenants lists an MSP workspace's tenants, 300 a page unless opts says otherwise.
func (c *Client) ListTenants(ctx context.Context, opts *ListOptions) iter.Seq2[Workspace, error] {
	return list[Workspace](c, ctx, "/workspaces/v1/msp-tenants", opts, 300)
}

// CreateTenant creates a tenant of the caller's MSP workspace.
func (c *Client) CreateTenant(ctx context.Context, in TenantInput) (*TenantRef, error) {
	return call[TenantRef](c, ctx, http.MethodPost, "/workspaces/v1/msp-tenants", in)
}

// UpdateTenant replaces a tenant's details.
func (c *Client) UpdateTenant(ctx context.Context, id string, in TenantInput) (*TenantRef, error) {
	return call[TenantRef](c, ctx, http.MethodPut, "/workspaces/v1/msp-tenants/"+escape(id), in)
}

// DeleteTenant deletes a tenant and everything in it.
func (c *Client) DeleteTenant(ctx context.Context, id string) error {
	return c.delete(ctx, "/workspaces/v1/msp-tenants/"+escape(id))
}

const tenantGroupsPath = "/workspaces/v1beta1/groups"

// TenantGroup is a group of an MSP's tenants; an assignment on its GRN reaches every tenant
// in it.
type TenantGroup struct {
	ID              string    `json:"id"`
	Type            string    `json:"type"`
	Name            string    `json:"name"`
	Description     string    `json:"description"`
	GRN             string    `json:"grn"`
	GroupType       string    `json:"groupType"`
	Generation      int64     `json:"generation"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
	TotalWorkspaces *int      `json:"totalWorkspaces,omitempty"` // in lists
}

// TenantGroupInput creates or replaces a tenant group.
type TenantGroupInput struct {
	Name        string
	Description string
}

// GroupWorkspace is a tenant's membership of a tenant group.
type GroupWorkspace struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	GRN        string    `json:"grn"`
	Generation int64     `json:"generation"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	Workspace  struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"workspace"`
}

// ListTenantGroups lists the MSP's tenant groups, 2000 a page unless opts says otherwise.
func (c *Client) ListTenantGroups(ctx context.Context, opts *ListOptions) iter.Seq2[TenantGroup, error] {
	return list[TenantGroup](c, ctx, tenantGroupsPath, opts, 2000)
}

// GetTenantGroup reads a tenant group.
func (c *Client) GetTenantGroup(ctx context.Context, id string) (*TenantGroup, error) {
	return call[TenantGroup](c, ctx, http.MethodGet, tenantGroupsPath+"/"+escape(id), nil)
}

// CreateTenantGroup creates a tenant group.
func (c *Client) CreateTenantGroup(ctx context.Context, in TenantGroupInput) (*TenantGroup, error) {
	body := map[string]string{"name": in.Name, "description": in.Description, "groupType": "TenantGroup"}
	return call[TenantGroup](c, ctx, http.MethodPost, tenantGroupsPath, body)
}

// UpdateTenantGroup replaces a tenant group's name and description.
func (c *Client) UpdateTenantGroup(ctx context.Context, id string, in TenantGroupInput) (*TenantGroup, error) {
	body := map[string]string{"name": in.Name, "description": in.Description}
	return call[TenantGroup](c, ctx, http.MethodPut, tenantGroupsPath+"/"+escape(id), body)
}

// DeleteTenantGroup deletes a tenant group (412 while a role assignment uses it).
func (c *Client) DeleteTenantGroup(ctx context.Context, id string) error {
	return c.delete(ctx, tenantGroupsPath+"/"+escape(id))
}

// ListGroupWorkspaces lists the tenants of a tenant group, 500 a page unless opts says
// otherwise.
func (c *Client) ListGroupWorkspaces(ctx context.Context, groupID string, opts *ListOptions) iter.Seq2[GroupWorkspace, error] {
	return list[GroupWorkspace](c, ctx, tenantGroupsPath+"/"+escape(groupID)+"/group-workspaces", opts, 500)
}

// AddGroupWorkspace adds a tenant to a tenant group.
func (c *Client) AddGroupWorkspace(ctx context.Context, groupID, tenantID string) (*GroupWorkspace, error) {
	return call[GroupWorkspace](c, ctx, http.MethodPost, tenantGroupsPath+"/"+escape(groupID)+"/group-workspaces",
		map[string]string{"workspaceId": tenantID})
}

// GetGroupWorkspace reads one membership of a tenant group.
func (c *Client) GetGroupWorkspace(ctx context.Context, groupID, id string) (*GroupWorkspace, error) {
	return call[GroupWorkspace](c, ctx, http.MethodGet, tenantGroupsPath+"/"+escape(groupID)+"/group-workspaces/"+escape(id), nil)
}

// RemoveGroupWorkspace removes a tenant from a tenant group (by the membership's id).
func (c *Client) RemoveGroupWorkspace(ctx context.Context, groupID, id string) error {
	return c.delete(ctx, tenantGroupsPath+"/"+escape(groupID)+"/group-workspaces/"+escape(id))
}
