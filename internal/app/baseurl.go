package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/keyhold/keyhold/internal/storage"
)

// CheckBaseURL validates a public base URL (--base-url) against the listen address and
// returns it normalised (no trailing slash). It is the one place the base URL's rules live:
// an absolute http or https URL with a host that names this service (not an unspecified
// address), no user information, query or fragment. Without a base URL, the listen address
// must name one host, since the default base URL is http://<listen address>: a listener on
// every address (":8080", "0.0.0.0:8080", "[::]:8080") has no URL clients could use.
func CheckBaseURL(baseURL, listen string) (string, error) {
	if baseURL == "" {
		host, _, err := net.SplitHostPort(listen)
		if err != nil {
			return "", fmt.Errorf("--listen %q: expected host:port (%v)", listen, err)
		}
		if unspecifiedHost(host) {
			return "", fmt.Errorf("--listen %q listens on every address, so no issuer URL can be derived from it: set --base-url to the URL clients use (e.g. https://iam.example.com)", listen)
		}
		return "", nil
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", fmt.Errorf("--base-url %q: must be an absolute http:// or https:// URL (%v)", baseURL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("--base-url %q: must be an absolute http:// or https:// URL", baseURL)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("--base-url %q: must name a host (scheme://host[:port][/path])", baseURL)
	case unspecifiedHost(u.Hostname()):
		return "", fmt.Errorf("--base-url %q: %s is not an address clients can reach", baseURL, u.Hostname())
	case u.User != nil:
		return "", fmt.Errorf("--base-url %q: must not carry user information", baseURL)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("--base-url %q: must not have a query", baseURL)
	case u.Fragment != "" || strings.Contains(baseURL, "#"):
		return "", fmt.Errorf("--base-url %q: must not have a fragment", baseURL)
	}
	return strings.TrimRight(baseURL, "/"), nil
}

// unspecifiedHost reports a listen host that means every address.
func unspecifiedHost(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// StoredBaseURL is the base URL the last started `keyhold serve` recorded in the store, for
// the commands that print issuer URLs; ErrNoBaseURL when no server has run on the store
// since it learnt to record it.
func StoredBaseURL(ctx context.Context, st storage.Store) (string, error) {
	v, err := st.GetSetting(ctx, storage.SettingBaseURL)
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrNoBaseURL
	}
	return v, err
}

// ErrNoBaseURL: the store does not know the server's base URL.
var ErrNoBaseURL = errors.New("the store does not record the server's base URL (start `keyhold serve` on it once, or pass --base-url)")
