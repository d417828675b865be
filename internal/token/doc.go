// Package token owns the OAuth 2.0 token service: signing keys (generated, persisted —
// sealed with a key-encryption key when one is configured, see Sealer — rotated with
// overlap, published as JWKS), JWT access tokens in the RFC 9068 profile, their
// verification for bearer checks, and the wire protocol of the token endpoint (RFC 6749
// client_credentials, RFC 8693 token exchange), introspection (RFC 7662), revocation
// (RFC 7009) and metadata (RFC 8414).
//
// Hot paths touch no SQL: client authentication reads credential.Index, signing uses the
// in-memory KeySet, and verification caches each verified token by its SHA-256 until it
// expires (a bounded cache, tokenCache), re-checking on every use only what can change (the credential's generation and the
// revocation set), both in memory.
package token
