package client

import (
	"context"
	"iter"
	"net/http"
	"time"
)

const userGroupsPath = "/identity/v1/user-groups"

// UserGroup is a group of users of the workspace. Principal ("user-group:<id>") is what role
// assignments name.
type UserGroup struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Principal   string    `json:"principal"`
	Generation  int64     `json:"generation"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// UserGroupInput creates or replaces a user group.
type UserGroupInput struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// GroupMember is a user in a user group.
type GroupMember struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Username string    `json:"username"`
	AddedAt  time.Time `json:"addedAt"`
}

// ListUserGroups lists the workspace's user groups, 200 a page unless opts says otherwise.
func (c *Client) ListUserGroups(ctx context.Context, opts *ListOptions) iter.Seq2[UserGroup, error] {
	return list[UserGroup](c, ctx, userGroupsPath, opts, 200)
}

// GetUserGroup reads one user group.
func (c *Client) GetUserGroup(ctx context.Context, id string) (*UserGroup, error) {
	return call[UserGroup](c, ctx, http.MethodGet, userGroupsPath+"/"+escape(id), nil)
}

// CreateUserGroup creates a user group.
func (c *Client) CreateUserGroup(ctx context.Context, in UserGroupInput) (*UserGroup, error) {
	return call[UserGroup](c, ctx, http.MethodPost, userGroupsPath, in)
}

// UpdateUserGroup replaces a user group's name and description.
func (c *Client) UpdateUserGroup(ctx context.Context, id string, in UserGroupInput) (*UserGroup, error) {
	return call[UserGroup](c, ctx, http.MethodPut, userGroupsPath+"/"+escape(id), in)
}

// DeleteUserGroup deletes a user group (412 while role assignments name it).
func (c *Client) DeleteUserGroup(ctx context.Context, id string) error {
	return c.delete(ctx, userGroupsPath+"/"+escape(id))
}

// ListGroupMembers lists a user group's members, 200 a page unless opts says otherwise.
func (c *Client) ListGroupMembers(ctx context.Context, groupID string, opts *ListOptions) iter.Seq2[GroupMember, error] {
	return list[GroupMember](c, ctx, userGroupsPath+"/"+escape(groupID)+"/members", opts, 200)
}

// AddGroupMember adds a user of the workspace to a group. The caller must hold every
// permission the group's assignments grant (403 otherwise).
func (c *Client) AddGroupMember(ctx context.Context, groupID, userID string) (*GroupMember, error) {
	return call[GroupMember](c, ctx, http.MethodPost, userGroupsPath+"/"+escape(groupID)+"/members",
		map[string]string{"userId": userID})
}

// RemoveGroupMember removes a user from a group.
func (c *Client) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	return c.delete(ctx, userGroupsPath+"/"+escape(groupID)+"/members/"+escape(userID))
}

// call sends a JSON request and decodes a T from the answer.
func call[T any](c *Client, ctx context.Context, method, path string, body any) (*T, error) {
	var out T
	if _, err := c.do(ctx, request{method: method, path: path, body: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// delete sends a DELETE.
func (c *Client) delete(ctx context.Context, path string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: path})
	return err
}
