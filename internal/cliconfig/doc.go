// Package cliconfig owns the keyhold CLI's configuration file: named contexts, each a keyhold
// server and the API client credential that logs in to it.
//
// The file holds client secrets, so it is kept as ssh keeps its keys: written 0600 in a
// directory made 0700, replaced atomically (a crash leaves the old file or the new one, never
// half of one), and refused on reading when its group or others may read or write it, when it
// is not a regular file, or when another user owns it. The secret is never taken from a flag
// (it would land in shell history and in every process listing); see cmd/keyhold's login.
package cliconfig
