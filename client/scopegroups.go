package client

import (
	"context"
	"iter"
	"net/http"
	"time"
)

// ScopeGroup is a named set of resource scopes; an assignment on its GRN covers every scope
// in it.
type ScopeGroup struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	GRN         string    `json:"grn"`
	Generation  int64     `json:"generation"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// ScopeGroupInput creates or replaces a scope group.
type ScopeGroupInput struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Scope is one resource scope of a scope group.
type Scope struct {
	ID                      string `json:"id"`
	Type                    string `json:"type"`
	GRN                     string `json:"grn"`
	Description             string `json:"description"`
	Region                  string `json:"region"`
	AllScopes               bool   `json:"allScopes"`
	ResourceTypeDisplayName string `json:"resourceTypeDisplayName"`
}

// ScopeInput adds a scope to a group.
type ScopeInput struct {
	GRN         string `json:"grn"`
	Description string `json:"description"`
}

// BatchError is one failed item of a batch, in GreenLake's error shape (ID names the item
// of a removal).
type BatchError struct {
	ID             string        `json:"id,omitempty"`
	HTTPStatusCode int           `json:"httpStatusCode"`
	ErrorCode      string        `json:"errorCode"`
	Message        string        `json:"message"`
	DebugID        string        `json:"debugId"`
	ErrorDetails   []ErrorDetail `json:"errorDetails,omitempty"`
}

// ScopeBatchResult is the answer of AddScopes: each item succeeds or fails on its own.
type ScopeBatchResult struct {
	SuccessCount int          `json:"successCount"`
	ErrorCount   int          `json:"errorCount"`
	Successes    []Scope      `json:"successes"`
	Errors       []BatchError `json:"errors"`
}

// ScopeRemovalResult is the answer of RemoveScopes.
type ScopeRemovalResult struct {
	SuccessCount int `json:"successCount"`
	ErrorCount   int `json:"errorCount"`
	Successes    []struct {
		ID string `json:"id"`
	} `json:"successes"`
	Errors []BatchError `json:"errors"`
}

// ListScopeGroups lists the workspace's scope groups (sort "name", "name asc", "name desc";
// filter: in on one of name, grn), 200 a page unless opts says otherwise.
func (c *Client) ListScopeGroups(ctx context.Context, opts *ListOptions) iter.Seq2[ScopeGroup, error] {
	return list[ScopeGroup](c, ctx, AuthzPath+"/scope-groups", opts, 200)
}

// GetScopeGroup reads a scope group.
func (c *Client) GetScopeGroup(ctx context.Context, id string) (*ScopeGroup, error) {
	return call[ScopeGroup](c, ctx, http.MethodGet, AuthzPath+"/scope-groups/"+escape(id), nil)
}

// CreateScopeGroup creates a scope group.
func (c *Client) CreateScopeGroup(ctx context.Context, in ScopeGroupInput) (*ScopeGroup, error) {
	return call[ScopeGroup](c, ctx, http.MethodPost, AuthzPath+"/scope-groups", in)
}

// UpdateScopeGroup replaces a scope group's name and description.
func (c *Client) UpdateScopeGroup(ctx context.Context, id string, in ScopeGroupInput) (*ScopeGroup, error) {
	body := map[string]string{"id": id, "name": in.Name, "description": in.Description}
	return call[ScopeGroup](c, ctx, http.MethodPut, AuthzPath+"/scope-groups/"+escape(id), body)
}

// DeleteScopeGroup deletes a scope group (412 while an assignment names it).
func (c *Client) DeleteScopeGroup(ctx context.Context, id string) error {
	return c.delete(ctx, AuthzPath+"/scope-groups/"+escape(id))
}

// ListScopes lists a scope group's scopes, 500 a page unless opts says otherwise.
func (c *Client) ListScopes(ctx context.Context, groupID string, opts *ListOptions) iter.Seq2[Scope, error] {
	return list[Scope](c, ctx, AuthzPath+"/scope-groups/"+escape(groupID)+"/scopes", opts, 500)
}

// AddScopes adds 1 to 500 scopes to a group; each succeeds or fails on its own.
func (c *Client) AddScopes(ctx context.Context, groupID string, items []ScopeInput) (*ScopeBatchResult, error) {
	if items == nil {
		items = []ScopeInput{}
	}
	return call[ScopeBatchResult](c, ctx, http.MethodPost, AuthzPath+"/scope-groups/"+escape(groupID)+"/scopes/batch",
		map[string]any{"items": items})
}

// RemoveScopes removes 1 to 500 scopes (by id) from a group.
func (c *Client) RemoveScopes(ctx context.Context, groupID string, scopeIDs []string) (*ScopeRemovalResult, error) {
	items := make([]map[string]string, 0, len(scopeIDs))
	for _, id := range scopeIDs {
		items = append(items, map[string]string{"id": id})
	}
	return call[ScopeRemovalResult](c, ctx, http.MethodDelete, AuthzPath+"/scope-groups/"+escape(groupID)+"/scopes/bulk",
		map[string]any{"items": items})
}
