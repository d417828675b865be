package clientauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Limits of fetching a jwks_uri.
const (
	fetchTimeout = 5 * time.Second
	// cacheFor is how long a fetched set is used before it is fetched again.
	cacheFor = 5 * time.Minute
	// refetchAfter: an assertion naming a kid the cached set lacks (the client rotated its
	// keys) fetches again, at most once in this time per URI, so that assertions with made-up
	// kids cannot make keyhold hammer the client's server.
	refetchAfter = 30 * time.Second
	maxCached    = 10_000
)

// ValidateURI checks a jwks_uri as registered: absolute https (http only when insecure is
// allowed), no credentials, no fragment, and, unless private addresses are allowed, not a
// literal loopback or private address (names are checked again when dialled).
func ValidateURI(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return errors.New("must be an absolute URL")
	case u.Scheme != "https" && !(allowPrivate && u.Scheme == "http"):
		return errors.New("must be an https URL")
	case u.User != nil || u.Fragment != "" || len(raw) > 2048:
		return errors.New("must have no user information or fragment (and at most 2048 characters)")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !allowPrivate && !publicAddr(ip) {
		return errors.New("must not point at a loopback, private or link-local address")
	}
	return nil
}

// publicAddr reports whether ip is an address on the public internet: not loopback, private
// (RFC 1918, RFC 4193), shared (RFC 6598), link-local, unspecified or multicast.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!sharedSpace.Contains(ip) && !(ip.Is4() && ip.As4()[0] == 0)
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// Fetcher fetches the key sets of jwks_uris and caches them.
type Fetcher struct {
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex
	cache  map[string]*cachedSet
}

type cachedSet struct {
	keys    *jose.JSONWebKeySet
	fetched time.Time
}

// NewFetcher returns a Fetcher. Unless allowPrivate, every connection it makes is checked
// after name resolution, so a name that resolves (or is re-resolved) to a private address is
// refused too; it uses no proxy and follows at most 3 redirects.
func NewFetcher(allowPrivate bool) *Fetcher {
	dialer := &net.Dialer{Timeout: fetchTimeout}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return fmt.Errorf("jwks_uri: %s is not a public address", address)
			}
			return nil
		}
	}
	tr := &http.Transport{Proxy: nil, DialContext: dialer.DialContext, TLSHandshakeTimeout: fetchTimeout,
		ResponseHeaderTimeout: fetchTimeout, MaxIdleConns: 16, IdleConnTimeout: time.Minute}
	return &Fetcher{
		client: &http.Client{Transport: tr, Timeout: fetchTimeout, CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			return nil
		}},
		now:   time.Now,
		cache: map[string]*cachedSet{},
	}
}

// Keys returns the key set at uri, from the cache when it is fresh and, if kid is not "",
// holds kid.
func (f *Fetcher) Keys(ctx context.Context, uri, kid string) (*jose.JSONWebKeySet, error) {
	now := f.now()
	f.mu.Lock()
	c := f.cache[uri]
	f.mu.Unlock()
	if c != nil {
		fresh := now.Sub(c.fetched) < cacheFor
		hasKid := kid == "" || len(c.keys.Key(kid)) > 0
		if fresh && (hasKid || now.Sub(c.fetched) < refetchAfter) {
			return c.keys, nil
		}
	}
	keys, err := f.fetch(ctx, uri)
	if err != nil {
		if c != nil && now.Sub(c.fetched) < cacheFor {
			return c.keys, nil // keep using a fresh set when a refetch fails
		}
		return nil, err
	}
	f.mu.Lock()
	if len(f.cache) >= maxCached {
		clear(f.cache)
	}
	f.cache[uri] = &cachedSet{keys: keys, fetched: now}
	f.mu.Unlock()
	return keys, nil
}

func (f *Fetcher) fetch(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch jwks_uri: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	return ParseKeySet(body)
}
