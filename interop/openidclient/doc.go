// Package openidclient holds an interoperability test: openid-client, the widely used OAuth 2 /
// OpenID Connect client for Node.js (pinned in testdata/package.json and package-lock.json),
// discovers a running keyhold node's issuer metadata, authenticates with private_key_jwt, obtains
// a plain and a DPoP-bound client_credentials token, and calls keyhold's API with them.
//
// The package has no code of its own; its test needs Debian's nodejs (node and npm). In CI
// (CI set) a missing node or npm fails the test; elsewhere it skips.
package openidclient
