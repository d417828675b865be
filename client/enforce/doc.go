// Package enforce protects Go services with keyhold: a [Verifier] checks keyhold access
// tokens offline (signature against keyhold's published keys, issuer, audience, expiry,
// `typ: at+jwt`), and a [Guard] is net/http middleware that asks keyhold's AuthZEN endpoint
// whether the bearer may do an action on a resource, caching decisions briefly.
//
// # Contracts
//
//   - Keys: the JWKS is fetched on first use and kept; a token signed by a key id the
//     verifier does not know makes it fetch the JWKS again (keyhold rotated its key), at most
//     once per Config.MinRefresh whoever sends such tokens; the set is also refetched when
//     older than Config.MaxKeyAge, so retired keys stop verifying (if that fetch fails the
//     keys already fetched stay in use: verification is offline).
//   - Offline verification cannot see revocation: a token revoked (RFC 7009), or whose
//     credential was reset or deleted, verifies until it expires. Guard.Require sees
//     revocation because keyhold decides on the token itself, within the decision cache's TTL.
//   - Fail closed: when keyhold cannot be asked (unreachable, 5xx, 429, its answer
//     unreadable, or no keys could be fetched), the request is denied with 503 and
//     Retry-After; it is never let through.
//   - Decisions are cached per (token, action, resource) for at most Guard.CacheTTL (and never
//     past the token's expiry), at most Guard.CacheSize entries (least recently used evicted).
//     A change in keyhold (revocation, reset, an assignment removed) reaches a cached decision
//     after at most CacheTTL.
package enforce
