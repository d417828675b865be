// Package postgres is keyhold's shared-database backend for several nodes: the shared SQL of
// package sqlstore on PostgreSQL through pgx, with its own DDL migrations. It also runs on
// CockroachDB, which speaks PostgreSQL's protocol: nothing here needs advisory locks, LOCK
// TABLE or engine-specific functions, and LISTEN/NOTIFY is only a fast path.
//
// Ordering: every write transaction first locks the single change-counter row (SELECT ... FOR
// UPDATE), so writers serialise and change log sequence numbers follow commit order. Migrations
// take goose's table-based lock, so nodes starting together migrate once. Serialization
// failures and deadlocks (SQLSTATE 40001, 40P01) are retried by sqlstore.
package postgres
