package app

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/keyhold/keyhold/internal/tlscert"
)

// checkTransport refuses configurations that would carry tokens and client secrets over the
// network in the clear, or that contradict themselves: plain HTTP with an http:// base URL on
// a listener other clients can reach (the same machine's loopback aside) needs
// AllowInsecureHTTP; native TLS needs both files and an https:// base URL. A TLS-terminating
// proxy in front of keyhold is the other way: keyhold then listens in plain HTTP, where only
// the proxy reaches it, with an https:// base URL (the proxy's).
func (c *Config) checkTransport() error {
	tls := c.TLSCertFile != "" || c.TLSKeyFile != ""
	if tls && (c.TLSCertFile == "" || c.TLSKeyFile == "") {
		return errors.New("TLS needs both --tls-cert-file and --tls-key-file")
	}
	httpBase := c.BaseURL == "" || strings.HasPrefix(strings.ToLower(c.BaseURL), "http://")
	if tls && c.BaseURL != "" && httpBase {
		return fmt.Errorf("base URL %s: keyhold serves TLS (--tls-cert-file), so its base URL is https://", c.BaseURL)
	}
	if !tls && httpBase && !c.AllowInsecureHTTP && !loopbackListen(c.Listen) {
		base := c.BaseURL
		if base == "" {
			base = "http://" + c.Listen
		}
		return fmt.Errorf("listening on %s with base URL %s would carry tokens and client secrets over the network in the clear: "+
			"give --tls-cert-file and --tls-key-file, or put a TLS-terminating proxy in front and set --base-url https://..., "+
			"or, on a network you trust, --allow-insecure-http", c.Listen, base)
	}
	return nil
}

// loopbackListen reports whether a listen address only accepts connections from this
// machine: a loopback IP address or "localhost". Any other host name, and an empty host
// (every interface), is taken as reachable from the network.
func loopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// loadTLS loads the certificate pair when TLS is configured (nil otherwise).
func (n *Node) loadTLS() (*tlscert.Reloader, error) {
	if n.cfg.TLSCertFile == "" {
		return nil, nil
	}
	return tlscert.New(n.cfg.TLSCertFile, n.cfg.TLSKeyFile, n.cfg.TLSCheckInterval, n.cfg.Log)
}

// loadClientCAs reads --tls-client-ca-file (nil when not set). It needs native TLS: behind a
// TLS-terminating proxy keyhold never sees the client's certificate.
func (n *Node) loadClientCAs() (*x509.CertPool, error) {
	if n.cfg.TLSClientCAFile == "" {
		return nil, nil
	}
	if n.cfg.TLSCertFile == "" {
		return nil, fmt.Errorf("--tls-client-ca-file needs --tls-cert-file: client certificates are only seen with native TLS")
	}
	pemBytes, err := os.ReadFile(n.cfg.TLSClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-client-ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("--tls-client-ca-file %s: no PEM certificate in it", n.cfg.TLSClientCAFile)
	}
	return pool, nil
}

// scheme is the listener's URL scheme.
func (n *Node) scheme() string {
	if n.tls != nil {
		return "https"
	}
	return "http"
}

func (n *Node) closeListeners() {
	n.ln.Close()
	if n.metricsLn != nil {
		n.metricsLn.Close()
	}
}
