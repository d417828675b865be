// Package workspace owns workspaces: Create, which makes a workspace together with its first
// administrator and that administrator's first credential (used by `keyhold serve` on an empty
// store and by `keyhold workspace create`), and Directory, the in-memory view of workspaces
// that the token endpoints read.
package workspace
