// Package heapstat measures what an in-memory view costs the Go collector, for the
// benchmarks that load the IAM data set (rbac's engine, identity's directory): the bytes and
// objects live after a full collection, and how long a forced collection takes with them
// live (the marking work every cycle of a busy node pays).
package heapstat
