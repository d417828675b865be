// Package app assembles a keyhold node from its configuration: it opens the store, makes sure
// the built-in roles and a signing key exist, bootstraps the first workspace on an empty store,
// loads the in-memory views and keeps them fresh, and serves HTTP until told to stop, then
// drains in-flight requests and closes the store. cmd/keyhold parses flags into a Config; tests
// start whole nodes through this package.
package app
