// Package identity owns the principals that people are: the users of a workspace
// (/identity/v1/users: list, invite, read, remove) and the user groups of a workspace with
// their members. Removing a user from a workspace ends everything it holds there in the
// same transaction: its credentials (so their tokens are refused from that moment), its
// role assignments and its group memberships; a user who belongs to no workspace anymore is
// deleted. Every write syncs this node's views before it returns, so the next decision
// reflects it.
package identity
