package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies (load balancers) in front of keyhold whose
// X-Forwarded-For header it believes. Without them, a request's source is its TCP peer, and
// behind a load balancer every client would share the balancer's failure budget: one
// client's failures would lock all of them out.
type Proxies []netip.Prefix

// ParseProxies reads addresses and CIDR prefixes ("10.0.0.0/8", "192.0.2.7", "::1").
func ParseProxies(list []string) (Proxies, error) {
	var out Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an IP address or a CIDR prefix", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (p Proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr returns the address of the client behind r. When the TCP peer is a trusted
// proxy, it is the right-most X-Forwarded-For address that is not one: every address to
// its right was added by a proxy keyhold trusts, while everything to its left was written
// by the client and may be forged. An entry that is not an address ends the walk at the
// last trusted proxy, which is then held responsible. Otherwise it is the peer.
func (p Proxies) ClientAddr(r *http.Request) string {
	peer := SourceAddr(r)
	a, err := netip.ParseAddr(peer)
	if len(p) == 0 || err != nil || !p.trusts(a) {
		return peer
	}
	client := a
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		entries := strings.Split(hops[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			hop, ok := parseHop(entries[j])
			if !ok {
				return client.String()
			}
			client = hop
			if !p.trusts(hop) {
				return hop.String()
			}
		}
	}
	return client.String()
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// Handler sets each request's RemoteAddr to its client's address (see ClientAddr) before
// next sees it, so that failure budgets and access logs key on the client, not on the load
// balancer. With no proxies it returns next unchanged.
func (p Proxies) Handler(next http.Handler) http.Handler {
	if len(p) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if client := p.ClientAddr(r); client != SourceAddr(r) {
			r2 := *r
			r2.RemoteAddr = net.JoinHostPort(client, "0")
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}
