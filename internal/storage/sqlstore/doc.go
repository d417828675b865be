// Package sqlstore is the one database/sql implementation of storage.Store. SQL is written
// once with `?` placeholders; a Dialect rebinds it for its driver, translates driver errors into
// storage's sentinels, and carries its own embedded DDL migrations. Backends (sqlite, postgres)
// only provide a Dialect and a way to open the database.
//
// Conventions that keep one SQL text portable across SQLite, PostgreSQL and CockroachDB: times
// are stored as fixed-width RFC 3339 text in UTC with microseconds (sortable as text, identical
// on every engine); ids are text; list-valued fields live in child tables; no engine-specific
// functions appear in shared SQL. Every write appends to the changes table in the same
// transaction.
package sqlstore
