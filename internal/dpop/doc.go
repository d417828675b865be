// Package dpop verifies DPoP proofs (RFC 9449): the signed JWTs with which a client proves,
// on each request, that it holds the private key its access token is bound to.
//
// A proof is checked for what RFC 9449 §4.3 lists: the "dpop+jwt" type, an asymmetric
// algorithm of the allow-list, a public JWK in the header that verifies the signature, the
// request's method and URL (htm, htu), a fresh iat, a jti, and, with an access token, the
// token's hash (ath). The JWK's SHA-256 thumbprint (RFC 7638) is what a token is bound to
// (cnf.jkt). Replays are refused by a Cache of the jtis seen while a proof is acceptable.
package dpop
