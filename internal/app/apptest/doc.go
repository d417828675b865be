// Package apptest starts real keyhold nodes for tests: a node on a loopback port with its own
// SQLite store in a temporary directory, the bootstrap administrator's credential, and helpers
// to get tokens, make API calls, and set up further workspaces and users with given roles.
// It is imported only by tests.
package apptest
