package client

import (
	"context"
	"iter"
	"net/http"
	"time"
)

// AuthzPath is the prefix of the authorization management API the client uses (GreenLake's
// IAM v2alpha2; keyhold also serves assignments and scope groups under v1beta1).
const AuthzPath = "/authorization/v2alpha2"

// Role kinds.
const (
	RoleCustom     = "CUSTOM"
	RolePredefined = "PREDEFINED"
)

// Role is a predefined role (Kind PREDEFINED, with a Slug) or a custom role of the
// workspace. Assignments name it by GRN.
type Role struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Kind         string    `json:"kind"`
	Slug         string    `json:"slug"`
	ReleaseStage string    `json:"releaseStage,omitempty"`
	GRN          string    `json:"grn"`
	Permissions  []string  `json:"permissions"`
	Source       string    `json:"source"`
	Generation   int64     `json:"generation"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// RoleInput creates or replaces a role. Custom roles need only Name and Permissions;
// predefined roles (platform administrators) also Kind RolePredefined and Slug.
type RoleInput struct {
	Name         string   `json:"name"`
	Description  string   `json:"description,omitempty"`
	Permissions  []string `json:"permissions"`
	Kind         string   `json:"kind,omitempty"`
	Slug         string   `json:"slug,omitempty"`
	ReleaseStage string   `json:"releaseStage,omitempty"`
}

// ListRoles lists the predefined roles and the workspace's custom roles (filter: eq and in
// on kind, name, slug), 200 a page unless opts says otherwise.
func (c *Client) ListRoles(ctx context.Context, opts *ListOptions) iter.Seq2[Role, error] {
	return list[Role](c, ctx, AuthzPath+"/roles", opts, 200)
}

// GetRole reads a role by id.
func (c *Client) GetRole(ctx context.Context, id string) (*Role, error) {
	return call[Role](c, ctx, http.MethodGet, AuthzPath+"/roles/"+escape(id), nil)
}

// CreateRole creates a role. Every permission it adds must be one the caller holds on its
// whole workspace (403 naming it otherwise).
func (c *Client) CreateRole(ctx context.Context, in RoleInput) (*Role, error) {
	in.Permissions = nonNil(in.Permissions)
	return call[Role](c, ctx, http.MethodPost, AuthzPath+"/roles", in)
}

// UpdateRole replaces a role's name, description and permissions.
func (c *Client) UpdateRole(ctx context.Context, id string, in RoleInput) (*Role, error) {
	in.Permissions = nonNil(in.Permissions)
	return call[Role](c, ctx, http.MethodPut, AuthzPath+"/roles/"+escape(id), in)
}

// DeleteRole deletes a role (412 while it is assigned).
func (c *Client) DeleteRole(ctx context.Context, id string) error {
	return c.delete(ctx, AuthzPath+"/roles/"+escape(id))
}

// nonNil sends an empty list as [] rather than null, so that keyhold names the field's real
// fault (too few items) rather than a missing field.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Metadata names the kind and id of an assignment's subject or role.
type Metadata struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Assignment is a role assignment: a role granted to a subject on scopes.
type Assignment struct {
	ID string `json:"id"`
	// Subject is "user:<id>", "user-group:<id>" or "api-client:<clientId>".
	Subject           string   `json:"subject"`
	Type              string   `json:"type"`
	PrincipalMetadata Metadata `json:"principalMetadata"`
	Role              string   `json:"role"` // the role's GRN
	RoleMetadata      Metadata `json:"roleMetadata"`
	Scope             []string `json:"scope"`  // GRNs
	Source            string   `json:"source"` // LOCAL, or EXTERNAL for an MSP's grant seen from a tenant
	// Condition is the CEL expression the assignment grants under in AuthZEN decisions (a
	// keyhold extension; "" when unconditional). See docs/api.md, "Conditions".
	Condition  string    `json:"condition,omitempty"`
	Generation int64     `json:"generation"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// AssignmentInput creates a role assignment.
type AssignmentInput struct {
	Subject string   `json:"subject"`
	Role    string   `json:"role"`
	Scope   []string `json:"scope"`
	// Condition, when set, makes the assignment grant only in AuthZEN decisions where this
	// CEL expression holds (a keyhold extension; 400 naming the position of an error).
	Condition string `json:"condition,omitempty"`
}

// Subject strings of role assignments.
func UserSubject(id string) string            { return "user:" + id }
func UserGroupSubject(id string) string       { return "user-group:" + id }
func APIClientSubject(clientID string) string { return "api-client:" + clientID }

// ListAssignments lists the workspace's role assignments (filter: in on role, scope,
// subject), 200 a page unless opts says otherwise.
func (c *Client) ListAssignments(ctx context.Context, opts *ListOptions) iter.Seq2[Assignment, error] {
	return list[Assignment](c, ctx, AuthzPath+"/role-assignments", opts, 200)
}

// GetAssignment reads a role assignment.
func (c *Client) GetAssignment(ctx context.Context, id string) (*Assignment, error) {
	return call[Assignment](c, ctx, http.MethodGet, AuthzPath+"/role-assignments/"+escape(id), nil)
}

// CreateAssignment assigns a role. The caller must hold every permission of the role on
// every scope (403 naming the first one missing otherwise).
func (c *Client) CreateAssignment(ctx context.Context, in AssignmentInput) (*Assignment, error) {
	in.Scope = nonNil(in.Scope)
	return call[Assignment](c, ctx, http.MethodPost, AuthzPath+"/role-assignments", in)
}

// UpdateAssignmentScope replaces the scopes of an assignment (its subject, role and
// condition do not change).
func (c *Client) UpdateAssignmentScope(ctx context.Context, a *Assignment, scope []string) (*Assignment, error) {
	body := map[string]any{"id": a.ID, "subject": a.Subject, "role": a.Role, "scope": nonNil(scope)}
	if a.Condition != "" {
		body["condition"] = a.Condition // a PUT that left it out would widen the assignment: refused
	}
	return call[Assignment](c, ctx, http.MethodPut, AuthzPath+"/role-assignments/"+escape(a.ID), body)
}

// DeleteAssignment deletes a role assignment.
func (c *Client) DeleteAssignment(ctx context.Context, id string) error {
	return c.delete(ctx, AuthzPath+"/role-assignments/"+escape(id))
}
