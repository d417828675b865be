// Package changefeed keeps keyhold's in-memory views fresh. Every storage write appends to a
// change log; a Feed reads the log by sequence number and hands each entry to the views
// (Handlers) that care about its kind, which re-read that one record and update themselves.
//
// Freshness contract: a write made through this process is followed by Sync before the
// request that made it returns, so the next request on this node sees it. Writes made by other
// processes (the `keyhold workspace create` command, other nodes) are seen within one poll
// interval, and at once by a caller that misses in a view and calls Sync before concluding a
// record does not exist. Applying an entry is idempotent, so entries written while the
// initial load runs are simply applied again.
package changefeed
