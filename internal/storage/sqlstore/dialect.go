package sqlstore

import (
	"io/fs"
	"strconv"
	"strings"
)

// Dialect is what differs between database engines.
type Dialect struct {
	// Name identifies the dialect in logs and errors ("sqlite", "postgres").
	Name string
	// Goose is the goose dialect name for migrations.
	Goose string
	// Migrations holds the dialect's DDL files (goose format) at its root.
	Migrations fs.FS
	// Numbered placeholders ($1, $2, ...) instead of ?.
	Numbered bool
	// LockChanges runs first in every transaction to lock the change counter row ("" where
	// the engine serialises write transactions anyway, as SQLite's BEGIN IMMEDIATE does).
	LockChanges string
	// ForUpdate is appended to a SELECT that must lock the rows it reads until commit
	// (" FOR UPDATE"; "" where write transactions are serialised anyway).
	ForUpdate string
	// Notify runs after each change log append to wake other nodes at commit ("" for none).
	Notify string
	// IsUnique reports a unique-constraint violation.
	IsUnique func(error) bool
	// IsRetryable reports a serialization failure or deadlock worth retrying the transaction.
	IsRetryable func(error) bool
	// IsUnavailable reports a failure of the store itself that may pass and says nothing
	// about the request (a full disk, an I/O error, a lost connection): the store answers it
	// as apperr.StorageUnavailable, which the API serves as 503 with Retry-After.
	IsUnavailable func(error) bool
	// CommitUnknown reports a failed COMMIT whose outcome the client cannot know (the
	// connection broke before the server's answer): it becomes apperr.OutcomeUnknown. Nil:
	// every commit failure is a definite failure (an embedded engine).
	CommitUnknown func(error) bool
}

// Rebind rewrites ? placeholders for the dialect. Shared SQL never contains a literal '?'
// inside a string, so a plain scan is exact.
func (d *Dialect) Rebind(query string) string {
	if !d.Numbered {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
