// Package identity owns the principals that people are: the users of a workspace
// (/identity/v1/users: list, invite, read, remove) and the user groups of a workspace with
// their members. Removing a user from a workspace ends everything it holds there in the
// same transaction: its credentials (so their tokens are refused from that moment), its
// role assignments and its group memberships; a user who belongs to no workspace anymore is
// deleted. Every write syncs this node's views before it returns, so the next decision
// reflects it.
//
// Directory is the in-memory view of users (id, email, external id, attributes) and their
// memberships, fed by the change log: the AuthZEN endpoints resolve subjects with it and read
// the stored attributes that conditions see as subject properties, without SQL per decision.
package identity
