package storage

import (
	"context"
	"time"
)

// Change kinds of MSP records.
const (
	KindTenantGroup       = "tenant_group"
	KindTenantGroupMember = "tenant_group_member"
	KindProvision         = "provision"
)

// TenantDetails are the contact fields GreenLake keeps for a tenant workspace.
type TenantDetails struct {
	Description        string
	Email              string
	PhoneNumber        string
	InventoryOwnership string
	Address            string // JSON object as the client sent it, or ""
}

// TenantGroup groups tenants of an MSP workspace.
type TenantGroup struct {
	ID          string
	MSPID       string
	Name        string
	Description string
	Generation  int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// GroupMember is one tenant in a tenant group.
type GroupMember struct {
	ID          string
	GroupID     string
	WorkspaceID string
	Generation  int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Provision is a service manager provisioned in a workspace.
type Provision struct {
	ID               string
	WorkspaceID      string
	ServiceManagerID string
	Region           string
	Status           string
	CreatedBy        string
	Generation       int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Page selects a window of a list; Limit 0 means no limit.
type Page struct {
	Limit  int
	Offset int
}

// TenantQuery selects tenants of an MSP. Filter may use the columns id, name, created_by,
// created_at, updated_at, inventory_ownership.
type TenantQuery struct {
	ParentID string
	Filter   Predicate
	Page     Page
}

// ProvisionQuery selects provisions of a workspace. Filter may use id, service_manager_id,
// region, status, created_at.
type ProvisionQuery struct {
	WorkspaceID string
	Filter      Predicate
	Page        Page
}

// MSP stores what managed service providers need: tenant details, tenant groups and
// service-manager provisions.
type MSP interface {
	// UpdateWorkspace replaces a workspace's name and details and increments its generation.
	UpdateWorkspace(ctx context.Context, id, name string, d TenantDetails, at time.Time) (*Workspace, error)
	GetTenantDetails(ctx context.Context, id string) (*TenantDetails, error)
	// DeleteWorkspace removes a workspace and everything in it (credentials, members,
	// assignments, groups, provisions), logging a change for each record removed.
	DeleteWorkspace(ctx context.Context, id string) error
	// ListTenants returns a page of an MSP's tenants and how many match in all.
	ListTenants(ctx context.Context, q TenantQuery) ([]Workspace, int, error)

	CreateTenantGroup(ctx context.Context, g *TenantGroup) error
	GetTenantGroup(ctx context.Context, id string) (*TenantGroup, error)
	ListTenantGroups(ctx context.Context, mspID string, p Page) ([]TenantGroup, int, error)
	UpdateTenantGroup(ctx context.Context, g *TenantGroup) error
	DeleteTenantGroup(ctx context.Context, id string) error
	// AddGroupMember fails with ErrConflict when the tenant is already in the group.
	AddGroupMember(ctx context.Context, m *GroupMember) error
	GetGroupMember(ctx context.Context, id string) (*GroupMember, error)
	ListGroupMembers(ctx context.Context, groupID string, p Page) ([]GroupMember, int, error)
	// ListAllGroupMembers returns every membership (for the in-memory view).
	ListAllGroupMembers(ctx context.Context) ([]GroupMember, error)
	RemoveGroupMember(ctx context.Context, id string) error

	CreateProvision(ctx context.Context, p *Provision) error
	GetProvision(ctx context.Context, id string) (*Provision, error)
	ListProvisions(ctx context.Context, q ProvisionQuery) ([]Provision, int, error)
	DeleteProvision(ctx context.Context, id string) error
}
