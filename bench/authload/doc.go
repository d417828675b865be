// Command authload loads keyhold's token endpoint with client authentications that wrk cannot
// send: private_key_jwt (a fresh signed client assertion per request, RFC 7523) and DPoP (a
// fresh signed proof per request, RFC 9449), and, for comparison with the same generator,
// plain client_secret_post.
//
// Every assertion and proof carries a unique jti, and keyhold records each jti in its store
// (one SQL write per issuance), so the load must be made of distinct signed JWTs. Signing them
// while measuring would bill the client's signatures to the server's CPU (both share the
// machine's cores), so authload signs them before the measured phase: enough for the rate the
// warm-up measured (or -rate) over -duration. When the pool runs out, or its JWTs get too old
// (a DPoP proof is accepted for 60 seconds after its iat, an assertion until its exp, at most
// 5 minutes ahead), a background signer makes more during the run, and the report says how
// many: those figures include client signing.
//
// DPoP server nonces (RFC 9449 §8) are handled as the RFC describes: a 400 use_dpop_nonce
// with a DPoP-Nonce header makes authload sign its proofs with that nonce from then on (the
// refused request is sent again with such a proof, and its latency includes both answers);
// proofs already signed with a refused nonce are discarded. A DPoP-Nonce header on a
// successful answer is adopted for proofs signed later. It works whether the server requires
// nonces or not.
//
// Requests are written on N keep-alive connections as pre-built bytes and the answers read
// with net/http's parser, as lightly as wrk does, and the report is printed in wrk's format
// (Latency Distribution, Requests/sec, the "bench: non-2xx responses:" line of wrk/report.lua)
// so that bench/run.sh reads it as it reads wrk's. Only loopback addresses are loaded.
//
// Usage (CLIENT_ID and CLIENT_SECRET from the environment, so the secret is not on the
// command line):
//
//	authload -mode private_key_jwt|dpop|secret -url TOKEN_URL [-c 64] [-d 10s] [-warmup 2s]
//	         [-alg ES256|EdDSA] [-rate N] [-endpoint URL] [-api BASE]
//
// In private_key_jwt mode CLIENT_ID and CLIENT_SECRET are a workspace administrator's API
// client (keyhold's bootstrap client): authload creates a credential of its own with
// POST /workspaces/v1/credentials, registers the public key it generated with
// PUT .../keys (an inline JWKS), authenticates as that credential, and deletes it at the end.
// In dpop and secret modes it authenticates as CLIENT_ID with client_secret_post.
package main
