// Package iamload bulk-loads a synthetic identity and access data set for benchmarks:
// Default is 10,000 workspaces, each with 35 users and 15 API clients holding 100 role
// assignments (1,000,000 in all), a custom role, a user group and a scope group. Records
// are written straight into the tables with prepared statements, hundreds of workspaces
// per transaction, without change log entries, so a node must be started (or an engine
// loaded) after the load. Every id is derived from indexes (ID), so a load generator can
// build valid requests without reading anything back.
package iamload
