// Package storagetest is the one conformance suite that every storage backend passes. A
// backend's test calls Run with a factory that returns a fresh, empty, migrated store per
// subtest. A backend may skip a category only by listing it in Options.Skip with a reason.
package storagetest
