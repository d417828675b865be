// Package periodic owns the loop of keyhold's write-behind recorders (last logins, audited
// authentication failures): flush on a ticker until the context ends, then once more with a
// short deadline of its own, so that what was noted before shutdown is not lost.
package periodic
