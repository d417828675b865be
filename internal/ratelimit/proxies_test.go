package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", " 192.0.2.7 ", "", "2001:db8:1::/48"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		proxies Proxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies: the peer, whatever the header says", nil, "198.51.100.1:5000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"untrusted peer: its header is ignored", proxies, "198.51.100.1:5000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"trusted peer without a header", proxies, "10.1.2.3:5000", nil, "10.1.2.3"},
		{"trusted peer names the client", proxies, "10.1.2.3:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a forged left part is skipped", proxies, "10.1.2.3:5000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies", proxies, "192.0.2.7:443", []string{"203.0.113.9, 10.0.0.2,10.9.9.9"}, "203.0.113.9"},
		{"several header lines", proxies, "10.1.2.3:5000", []string{"1.1.1.1", "203.0.113.9, 10.0.0.2"}, "203.0.113.9"},
		{"only trusted hops: the farthest", proxies, "10.1.2.3:5000", []string{"10.0.0.5"}, "10.0.0.5"},
		{"garbage ends the walk at the last trusted hop", proxies, "10.1.2.3:5000", []string{"203.0.113.9, nonsense, 10.0.0.2"}, "10.0.0.2"},
		{"garbage next to the peer", proxies, "10.1.2.3:5000", []string{"203.0.113.9, nonsense"}, "10.1.2.3"},
		{"empty entry", proxies, "10.1.2.3:5000", []string{"203.0.113.9, "}, "10.1.2.3"},
		{"address with a port", proxies, "10.1.2.3:5000", []string{"203.0.113.9:4711"}, "203.0.113.9"},
		{"IPv6 client with a port", proxies, "10.1.2.3:5000", []string{"[2001:db8:2::1]:443"}, "2001:db8:2::1"},
		{"IPv6 proxy", proxies, "[2001:db8:1::5]:443", []string{"203.0.113.9"}, "203.0.113.9"},
		{"IPv4-mapped peer", proxies, "[::ffff:10.1.2.3]:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"IPv4-mapped client", proxies, "10.1.2.3:5000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.peer
		for _, h := range tc.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := tc.proxies.ClientAddr(r); got != tc.want {
			t.Errorf("%s: ClientAddr = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseProxiesRefusesNonAddresses(t *testing.T) {
	for _, s := range []string{"example.com", "10.0.0.0/33", "10.0.0.1/8/1", "*"} {
		if _, err := ParseProxies([]string{s}); err == nil {
			t.Errorf("ParseProxies(%q) accepted it", s)
		}
	}
}

func TestHandlerRewritesTheSource(t *testing.T) {
	proxies, _ := ParseProxies([]string{"127.0.0.1"})
	var seen string
	h := proxies.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = SourceAddr(r) }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	r.Header.Set("X-Forwarded-For", "2001:db8::7")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if seen != "2001:db8::7" {
		t.Errorf("source behind the proxy: %q", seen)
	}
	if r.RemoteAddr != "127.0.0.1:4000" {
		t.Errorf("the caller's request was modified: %q", r.RemoteAddr)
	}
	// Without proxies the header is ignored.
	var none Proxies
	h = none.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = SourceAddr(r) }))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if seen != "127.0.0.1" {
		t.Errorf("source without trusted proxies: %q", seen)
	}
}

// FuzzClientAddr: whatever a client writes in X-Forwarded-For, ClientAddr does not panic and
// answers the peer or an address that parses.
func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "1.1.1.1, 203.0.113.9, 10.0.0.2", "[2001:db8::1]:443", "nonsense, 10.0.0.1", ",,,", "::ffff:1.2.3.4"} {
		f.Add(s)
	}
	proxies, _ := ParseProxies([]string{"10.0.0.0/8", "127.0.0.1"})
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "127.0.0.1:4000"
		r.Header.Set("X-Forwarded-For", xff)
		got := proxies.ClientAddr(r)
		if _, ok := parseHop(got); !ok {
			t.Fatalf("ClientAddr(%q) = %q, not an address", xff, got)
		}
	})
}
