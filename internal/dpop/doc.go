// Package dpop verifies DPoP proofs (RFC 9449): the signed JWTs with which a client proves,
// on each request, that it holds the private key its access token is bound to.
//
// A proof is checked for what RFC 9449 §4.3 lists: the "dpop+jwt" type, an asymmetric
// algorithm of the allow-list, a public JWK in the header that verifies the signature, the
// request's method and URL (htm, htu), a fresh iat, a jti, and, with an access token, the
// token's hash (ath). The JWK's SHA-256 thumbprint (RFC 7638) is what a token is bound to
// (cnf.jkt). Replays are refused by a Cache of the jtis seen while a proof is acceptable.
//
// Nonces makes and checks server nonces (RFC 9449 §8, §9) without state: a nonce is the
// number of a NonceWindow-long time window and an HMAC-SHA256 of it under a key every node
// derives from the same shared secret (NonceKey), so any node accepts another's nonces
// without asking the store.
package dpop
