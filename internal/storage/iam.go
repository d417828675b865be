package storage

import (
	"context"
	"time"
)

// Change kinds of the identity and access management records. Key is the record's id unless
// said otherwise.
const (
	KindProvider     = "resource_provider"
	KindResourceType = "resource_type" // key: provider + "/" + type name
	// KindScopeGroup is logged for a scope group and for every change of its scopes, so a
	// view re-reads the group with its scopes.
	KindScopeGroup      = "scope_group"
	KindUserGroup       = "user_group"
	KindUserGroupMember = "user_group_member" // key: groupID + "/" + userID
)

// ResourceProvider is a service registered with the platform; ID is its namespace, the first
// segment of its permissions' names and the provider segment of its GRNs.
type ResourceProvider struct {
	ID          string
	Name        string
	Description string
	Generation  int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ResourceType is a kind of resource a provider declares. Its key "<provider>/<name>" is
// what permissions list as applicable resource types and what a GRN's last type resolves to.
type ResourceType struct {
	Provider    string
	Name        string
	DisplayName string
	Description string
	Generation  int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ScopeGroup is a named set of scopes made in a workspace; an assignment naming the group's
// GRN reaches every scope in it.
type ScopeGroup struct {
	ID          string
	WorkspaceID string
	Name        string
	Description string
	Generation  int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// GroupScope is one scope (a GRN string) in a scope group.
type GroupScope struct {
	ID          string
	GroupID     string
	GRN         string
	Description string
	CreatedAt   time.Time
}

// UserGroup is a set of users of a workspace; assignments to "user-group:<id>" apply to every
// member.
type UserGroup struct {
	ID          string
	WorkspaceID string
	Name        string
	Description string
	// ExternalID is the identity provider's id for the group (SCIM externalId); Source is
	// who manages it: SourceLocal or SourceSCIM.
	ExternalID string
	Source     string
	Generation int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// UserGroupMember records that a user belongs to a user group.
type UserGroupMember struct {
	GroupID   string
	UserID    string
	CreatedAt time.Time
}

// AssignmentQuery selects the assignments made in a workspace. Each non-empty list narrows
// the result to assignments matching one of its values; Scopes matches an assignment that
// holds one of the scopes (exact GRN text).
type AssignmentQuery struct {
	WorkspaceID string
	Subjects    []string
	RoleIDs     []string
	Scopes      []string
	Page        Page
}

// MemberQuery selects the users who are members of a workspace. Filter may use the columns
// u.id, u.email, u.first_name, u.last_name, u.display_name, u.country_code, u.external_id,
// u.active, u.source, u.last_login, u.created_at and u.updated_at. Members come by creation
// (the default), by display name or by last login (Sort), descending when Desc.
type MemberQuery struct {
	WorkspaceID string
	Filter      Predicate
	Page        Page
	Sort        MemberSort
	Desc        bool
}

// MemberSort is the order of a MemberQuery.
type MemberSort int

// Orders of members.
const (
	SortCreated MemberSort = iota
	SortDisplayName
	SortLastLogin
)

// Sources of users and user groups: who manages their lifecycle.
const (
	SourceLocal = "Local"
	SourceSCIM  = "SCIM"
)

// UserGroupQuery selects the user groups of a workspace, ordered by name. Filter may use the
// columns g.id, g.name, g.description, g.external_id, g.source, g.created_at, g.updated_at
// (and g.id in a sub-query).
type UserGroupQuery struct {
	WorkspaceID string
	Filter      Predicate
	Page        Page
}

// ScopeGroupQuery selects scope groups of a workspace (of every workspace when WorkspaceID is
// ""), by id or name when those lists are non-empty, ordered by name (descending when Desc).
type ScopeGroupQuery struct {
	WorkspaceID string
	IDs         []string
	Names       []string
	Desc        bool
	Page        Page
}

// ResourceProviders stores resource providers and their resource types.
type ResourceProviders interface {
	// CreateProvider fails with ErrConflict when the id is taken.
	CreateProvider(ctx context.Context, p *ResourceProvider) error
	// UpdateProvider replaces name and description and increments the generation.
	UpdateProvider(ctx context.Context, p *ResourceProvider) error
	GetProvider(ctx context.Context, id string) (*ResourceProvider, error)
	ListProviders(ctx context.Context) ([]ResourceProvider, error)
	// DeleteProvider fails with ErrInUse while the provider has resource types or permissions.
	DeleteProvider(ctx context.Context, id string) error
	// CreateResourceType fails with ErrNotFound for an unknown provider, ErrConflict when
	// the provider already has the type.
	CreateResourceType(ctx context.Context, t *ResourceType) error
	// UpdateResourceType replaces display name and description, incrementing the generation.
	UpdateResourceType(ctx context.Context, t *ResourceType) error
	GetResourceType(ctx context.Context, provider, name string) (*ResourceType, error)
	// ListResourceTypes lists a provider's types, or every type when provider is "".
	ListResourceTypes(ctx context.Context, provider string) ([]ResourceType, error)
	// DeleteResourceType fails with ErrInUse while a permission applies to the type.
	DeleteResourceType(ctx context.Context, provider, name string) error
}

// PermissionRegistry stores the permissions providers register through the API, with the
// referential checks the management API needs (Authorization.UpsertPermission stays for
// keyhold's own built-ins).
type PermissionRegistry interface {
	// CreatePermission fails with ErrConflict when the name is taken and ErrNotFound when
	// the provider or one of the resource types ("<provider>/<type>") does not exist.
	CreatePermission(ctx context.Context, p *Permission) error
	// UpdatePermission replaces every attribute but name and provider, incrementing the
	// generation; ErrNotFound as for CreatePermission.
	UpdatePermission(ctx context.Context, p *Permission) error
	// DeletePermission fails with ErrInUse while a role holds the permission.
	DeletePermission(ctx context.Context, name string) error
	// ListProviderPermissions lists a provider's permissions by name.
	ListProviderPermissions(ctx context.Context, provider string) ([]Permission, error)
	// CustomRolesHolding counts the custom roles that hold a permission.
	CustomRolesHolding(ctx context.Context, permission string) (int, error)
}

// RoleRegistry manages roles through the API.
type RoleRegistry interface {
	// CreateRole inserts a role. ErrConflict: id taken, or a custom role of that name in the
	// workspace, or a predefined role of that slug. ErrLimit: the workspace already has
	// maxCustom custom roles (0: no limit). ErrNotFound: an unknown permission.
	CreateRole(ctx context.Context, r *Role, maxCustom int) error
	// UpdateRole replaces name, description, release stage and permissions and increments
	// the generation. ErrNotFound, ErrConflict as for CreateRole.
	UpdateRole(ctx context.Context, r *Role) error
	// DeleteRole fails with ErrInUse while an assignment grants the role.
	DeleteRole(ctx context.Context, id string) error
	// ListRolesIn lists the predefined roles and the custom roles of a workspace.
	ListRolesIn(ctx context.Context, workspaceID string) ([]Role, error)
}

// AssignmentRegistry queries and changes role assignments through the API.
type AssignmentRegistry interface {
	// QueryAssignments returns one page of the matching assignments, oldest first, and how
	// many match in all.
	QueryAssignments(ctx context.Context, q AssignmentQuery) ([]Assignment, int, error)
	// UpdateAssignmentScopes replaces an assignment's scopes and increments its generation.
	// ErrNotFound; ErrConflict when another assignment would become an exact duplicate.
	UpdateAssignmentScopes(ctx context.Context, id string, scopes []string, at time.Time) (*Assignment, error)
}

// ScopeGroups stores scope groups and their scopes.
type ScopeGroups interface {
	// CreateScopeGroup fails with ErrConflict when the workspace has a group of that name.
	CreateScopeGroup(ctx context.Context, g *ScopeGroup) error
	// UpdateScopeGroup replaces name and description, incrementing the generation.
	UpdateScopeGroup(ctx context.Context, g *ScopeGroup) error
	GetScopeGroup(ctx context.Context, id string) (*ScopeGroup, error)
	ListScopeGroups(ctx context.Context, q ScopeGroupQuery) ([]ScopeGroup, int, error)
	// DeleteScopeGroup removes a group with its scopes; ErrInUse while an assignment's scopes
	// name grn, the group's GRN.
	DeleteScopeGroup(ctx context.Context, id, grn string) error
	// ListGroupScopes pages through a group's scopes ordered by description and GRN, or
	// lists every group's scopes when groupID is "".
	ListGroupScopes(ctx context.Context, groupID string, p Page) ([]GroupScope, int, error)
	// AddGroupScopes adds scopes to a group and reports each one: nil when added,
	// ErrConflict when the group already has that GRN, ErrLimit past max scopes (0: none).
	// The second result is a failure of the whole call (ErrNotFound: no such group).
	AddGroupScopes(ctx context.Context, groupID string, scopes []GroupScope, max int) ([]error, error)
	// RemoveGroupScopes removes scopes by id and reports each: nil, or ErrNotFound.
	RemoveGroupScopes(ctx context.Context, groupID string, ids []string) ([]error, error)
}

// Members lists and removes workspace memberships.
type Members interface {
	// ListMembers returns one page of a workspace's members, oldest first, and the total.
	ListMembers(ctx context.Context, q MemberQuery) ([]User, int, error)
	// RemoveMember ends a membership; ErrNotFound when there is none.
	RemoveMember(ctx context.Context, workspaceID, userID string) error
	// CountMemberships counts the workspaces a user belongs to.
	CountMemberships(ctx context.Context, userID string) (int, error)
	// DeleteUser removes a user record (callers first remove what refers to it, so that each
	// removal is logged).
	DeleteUser(ctx context.Context, id string) error
}

// UserGroups stores user groups and their members.
type UserGroups interface {
	// CreateUserGroup fails with ErrConflict when the workspace has a group of that name.
	CreateUserGroup(ctx context.Context, g *UserGroup) error
	// UpdateUserGroup replaces name, description and external id, incrementing the
	// generation.
	UpdateUserGroup(ctx context.Context, g *UserGroup) error
	GetUserGroup(ctx context.Context, id string) (*UserGroup, error)
	// ListUserGroups pages through a workspace's groups by name, or every group when
	// workspaceID is "".
	ListUserGroups(ctx context.Context, workspaceID string, p Page) ([]UserGroup, int, error)
	// QueryUserGroups pages through a workspace's groups that match a filter, by name.
	QueryUserGroups(ctx context.Context, q UserGroupQuery) ([]UserGroup, int, error)
	// DeleteUserGroup removes a group and its memberships; ErrInUse while an assignment is
	// made to subject (the group's principal).
	DeleteUserGroup(ctx context.Context, id, subject string) error
	// AddUserGroupMember fails with ErrConflict for an existing member, ErrNotFound for an
	// unknown group or user.
	AddUserGroupMember(ctx context.Context, m *UserGroupMember) error
	// RemoveUserGroupMember fails with ErrNotFound when the user is not a member.
	RemoveUserGroupMember(ctx context.Context, groupID, userID string) error
	IsUserGroupMember(ctx context.Context, groupID, userID string) (bool, error)
	// ListUserGroupMembers pages through a group's members (oldest first), or every
	// membership of every group when groupID is "".
	ListUserGroupMembers(ctx context.Context, groupID string, p Page) ([]UserGroupMember, int, error)
	// ListGroupsOfUser lists the groups of a workspace that a user belongs to.
	ListGroupsOfUser(ctx context.Context, workspaceID, userID string) ([]UserGroup, error)
}

// IAM is the identity and access management part of a Store.
type IAM interface {
	ResourceProviders
	PermissionRegistry
	RoleRegistry
	AssignmentRegistry
	ScopeGroups
	Members
	UserGroups
}
