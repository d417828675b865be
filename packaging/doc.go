// Package packaging holds no code: its tests check the repository's packaging, the
// Dockerfile at the root and the systemd unit packaging/keyhold.service, for what must hold
// wherever they are built (a non-root user, the data volume, a health check, a static binary,
// the unit's confinement). docs/operations.md describes both.
package packaging
