// Package storage owns keyhold's persistent data model: the record types, the small role
// interfaces a backend implements (composed into Store), and the sentinel errors every backend
// returns (callers test them with errors.Is). It imports nothing else of keyhold's and holds no
// policy: validation, hashing and authorization live in the domain packages above it.
//
// Every write appends to a change log (Change) in the same transaction. In-memory views on any
// node read the log by sequence number to stay fresh; see package changefeed.
package storage
