package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCheckEvery is how often, at most, the files are looked at.
const DefaultCheckEvery = 2 * time.Second

// Reloader holds the current certificate and reloads it when its files change.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger
	every             time.Duration
	now               func() time.Time

	cert      atomic.Pointer[tls.Certificate]
	nextCheck atomic.Int64 // unix nanoseconds
	// mu serialises checks; seen is the pair of files last looked at (loaded or not).
	mu   sync.Mutex
	seen stamp
}

// stamp identifies a version of the two files: which file (a replaced file is another one,
// even with the same time and size), when it was written and how long it is.
type stamp struct {
	cert, key os.FileInfo
}

func (s stamp) same(o stamp) bool {
	eq := func(a, b os.FileInfo) bool {
		return a != nil && b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
	}
	return eq(s.cert, o.cert) && eq(s.key, o.key)
}

// New loads the pair now (an error names the file and the problem) and returns a Reloader
// that checks the files at most every checkEvery (DefaultCheckEvery when 0).
func New(certFile, keyFile string, checkEvery time.Duration, log *slog.Logger) (*Reloader, error) {
	if checkEvery <= 0 {
		checkEvery = DefaultCheckEvery
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log, every: checkEvery, now: time.Now}
	st, err := r.stat()
	if err != nil {
		return nil, err
	}
	c, err := load(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.seen = st
	r.cert.Store(c)
	r.nextCheck.Store(r.now().Add(r.every).UnixNano())
	return r, nil
}

// Config is a server TLS configuration serving r's certificate, TLS 1.2 at least. It asks
// clients for a certificate without requiring or verifying one: mutual-TLS client
// authentication (RFC 8705) decides per credential what a certificate proves.
func (r *Reloader) Config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate, ClientAuth: tls.RequestClientCert}
}

// Certificate is the certificate served now.
func (r *Reloader) Certificate() *tls.Certificate { return r.cert.Load() }

// GetCertificate is tls.Config's hook: the current certificate, after looking at the files
// when the last look is older than the interval. Handshakes never wait for one another: when
// a check is under way, the others serve the current certificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if r.now().UnixNano() >= r.nextCheck.Load() && r.mu.TryLock() {
		r.check()
		r.mu.Unlock()
	}
	return r.cert.Load(), nil
}

// check reloads the pair if the files changed since they were last looked at. Called with mu.
func (r *Reloader) check() {
	r.nextCheck.Store(r.now().Add(r.every).UnixNano())
	st, err := r.stat()
	if err != nil {
		if r.seen.cert != nil {
			r.log.Warn("TLS certificate files unreadable; serving the previous certificate", "error", err)
		}
		r.seen = stamp{} // log once, and load again as soon as the files are back
		return
	}
	if st.same(r.seen) {
		return
	}
	r.seen = st
	c, err := load(r.certFile, r.keyFile)
	if err != nil {
		r.log.Warn("TLS certificate files changed but do not load; serving the previous certificate", "error", err)
		return
	}
	r.cert.Store(c)
	r.log.Info("TLS certificate reloaded", "subject", c.Leaf.Subject.String(), "not_after", c.Leaf.NotAfter.UTC())
}

func (r *Reloader) stat() (stamp, error) {
	ci, err := os.Stat(r.certFile)
	if err != nil {
		return stamp{}, fmt.Errorf("TLS certificate file: %w", err)
	}
	ki, err := os.Stat(r.keyFile)
	if err != nil {
		return stamp{}, fmt.Errorf("TLS key file: %w", err)
	}
	return stamp{ci, ki}, nil
}

// load reads the pair and checks that the certificate is in its validity period.
func load(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("TLS certificate %s: %w", certFile, err)
		}
	}
	if now := time.Now(); now.After(c.Leaf.NotAfter) {
		return nil, errors.New("TLS certificate " + certFile + " expired on " + c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &c, nil
}
