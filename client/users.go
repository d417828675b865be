package client

import (
	"context"
	"iter"
	"net/http"
	"time"
)

const usersPath = "/identity/v1/users"

// User is a member of the caller's workspace. Username is the user's email.
type User struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Username    string    `json:"username"`
	UserStatus  string    `json:"userStatus"`
	Generation  int64     `json:"generation"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	ResourceURI string    `json:"resourceUri"`
}

// ListUsers lists the workspace's users (filter on id, username, userStatus, createdAt,
// updatedAt), 600 a page unless opts says otherwise.
func (c *Client) ListUsers(ctx context.Context, opts *ListOptions) iter.Seq2[User, error] {
	return list[User](c, ctx, usersPath, opts, 600)
}

// GetUser reads one user of the workspace.
func (c *Client) GetUser(ctx context.Context, id string) (*User, error) {
	var out User
	if _, err := c.do(ctx, request{method: http.MethodGet, path: usersPath + "/" + escape(id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddUser adds the user with this email to the workspace, creating the user if keyhold does
// not know the address, and returns its id. keyhold sends no email.
func (c *Client) AddUser(ctx context.Context, email string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	_, err := c.do(ctx, request{method: http.MethodPost, path: usersPath,
		body: map[string]any{"email": email, "sendWelcomeEmail": false}, out: &out})
	return out.ID, err
}

// RemoveUser removes a user from the workspace, with its credentials, assignments and group
// memberships there.
func (c *Client) RemoveUser(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: usersPath + "/" + escape(id)})
	return err
}
