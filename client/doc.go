// Package client is the Go SDK of keyhold: a typed client for every endpoint family keyhold
// serves (API client credentials, users, user groups, roles, role assignments, scope groups,
// resource providers, types and permissions, MSP tenants and tenant groups, OAuth token
// exchange, introspection and revocation, AuthZEN evaluations and searches).
//
// # Written by hand
//
// The package is written by hand, not generated. Generators for OpenAPI 3.1 (oapi-codegen,
// ogen) turn GreenLake's shapes into poor Go types: optional members become pointers to
// anonymous structs, the `{items, count, offset, total}` pages become one type per endpoint
// with no common paging, the GreenLake error body is not an error, and the OAuth and AuthZEN
// endpoints (form bodies, per-workspace issuers, token paging) fall outside what they model.
// A hand-written package gives one [Error] type, one paging iterator and small request
// structs, and its tests run every call against a real keyhold, so it cannot drift from the
// server without a test failing.
//
// # Contracts
//
//   - Authentication is OAuth 2.0 client credentials at the workspace's issuer, through
//     golang.org/x/oauth2/clientcredentials: a token is fetched on first use and fetched
//     again shortly before it expires. The secret is sent only to the token endpoint.
//   - Every call takes a [context.Context]; cancelling it aborts the call.
//   - Every failure that keyhold answered is an [*Error] (use errors.As) carrying the HTTP
//     status and GreenLake's error body (errorCode, message, debugId, errorDetails). OAuth
//     endpoints' RFC 6749 errors are mapped onto the same type (ErrorCode is the OAuth
//     `error`). Transport failures are returned as they are.
//   - Every list is an iterator (iter.Seq2[T, error]) that fetches pages as it is ranged
//     over and stops at the first error, which it yields once.
//   - The API of this package only grows: fields and methods are added, never changed.
//
// Subpackage enforce verifies keyhold access tokens and protects net/http services with
// keyhold's decisions.
package client
