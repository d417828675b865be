// Package sqlite is keyhold's embedded default backend: the shared SQL of package sqlstore on
// modernc.org/sqlite (pure Go, no cgo) with its own DDL migrations.
//
// Durability: the database runs in WAL mode with synchronous=FULL, so a write that returned
// has been fsynced and survives kill -9 and power loss. Every transaction begins IMMEDIATE,
// taking the write lock up front; with a busy timeout this serialises writers (including a
// `keyhold workspace create` running beside the server) without deadlocks.
package sqlite
