// Package credential owns API client credentials: their secrets (generation, hashing,
// constant-time verification), the lifecycle rules of the credentials API (create, list,
// reset, delete; names, ownership, limits, references) and Index, the in-memory view that token
// issuance and bearer checks read instead of the database.
//
// Secrets are 256 random bits, shown once, stored as SHA-256. A slow password hash would add
// nothing for a secret with this much entropy (RFC 6749 §10.10) and would cap token issuance at
// a few dozen per second per core.
package credential
