// Package clientauth verifies private_key_jwt client authentication (RFC 7523 §2.2, OpenID
// Connect Core §9): the public keys a credential registers (inline, or fetched from its
// jwks_uri without reaching private networks), and the signed client assertions presented
// with them at the token endpoint.
//
// It checks what a signature alone cannot: the algorithm is one of an allow-list of
// asymmetric algorithms (never "none", never HMAC, so a public key can never be used as a
// shared secret), the issuer and subject are the client, the audience is this workspace's
// issuer or token endpoint, the assertion is short-lived, and it carries a jti. Replay is the
// caller's to refuse (the jti must be recorded where every node sees it: the store).
package clientauth
