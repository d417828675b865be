package storage

import "context"

// MemberWalker streams workspace memberships with their users, for the in-memory user
// directory's start-up load.
type MemberWalker interface {
	// EachMember calls fn with every membership: the workspace id and the member user, in user
	// id then workspace id order (a user of several workspaces comes once per workspace). fn
	// must not use the store and must not keep u; an error from fn ends the walk and is
	// returned.
	EachMember(ctx context.Context, fn func(workspaceID string, u *User) error) error
}
