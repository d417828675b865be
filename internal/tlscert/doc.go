// Package tlscert serves keyhold's TLS certificate from a certificate file and a key file
// that an operator (or certbot, cert-manager, a secrets agent) replaces while keyhold runs:
// the files are checked at most every few seconds, on a handshake, and a pair that changed is
// loaded for the next connections. A pair that does not load (a certificate written before its
// key, a typo) is logged and the previous certificate kept, so a bad rotation never takes the
// listener down. Config gives the server's TLS configuration: TLS 1.2 at least.
package tlscert
