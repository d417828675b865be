// Package console owns keyhold's admin console: the static page, style sheet and ES modules
// served at /console/, embedded in the binary, and the security headers they are served with.
//
// The console is a client like any other: it signs in at keyhold's own token endpoint and calls
// the public API with a bearer token it keeps in memory only. It holds no secrets, has no
// private endpoints and decides nothing; every rule and permission check stays in the API.
// The headers (a strict Content-Security-Policy without inline code, frame-ancestors 'none',
// X-Frame-Options, no-referrer, nosniff) are the threat model's defence against script
// injection, clickjacking and token leaks through the Referer (docs/console.md).
package console
