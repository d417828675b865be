// Package cluster holds end-to-end tests of several keyhold processes on one PostgreSQL database.
package cluster
