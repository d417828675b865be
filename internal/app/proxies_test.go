package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
)

// Behind a trusted load balancer (here: the test's own loopback address), failure budgets
// key on the client that X-Forwarded-For names: one client's failures lock out that client,
// not everyone behind the balancer. Without the setting the header is ignored, so a client
// cannot pick a fresh budget by writing the header itself.
func TestTrustedProxiesKeyBudgetsOnTheClient(t *testing.T) {
	for _, tc := range []struct {
		name        string
		proxies     []string
		otherLocked bool
	}{
		{"trusted balancer", []string{"127.0.0.1", "::1"}, false},
		{"no trusted proxies", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := apptest.Start(t, app.Config{TrustedProxies: tc.proxies})
			a := e.Admin
			post := func(from string, v url.Values) *http.Response {
				req, err := http.NewRequest(http.MethodPost, a.TokenURL, strings.NewReader(v.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", from)
				resp, _ := e.Send(t, req)
				return resp
			}
			// 50 failures from one client, each with another unknown client id, spend the
			// address budget only.
			for i := 0; i < 50; i++ {
				if resp := post("198.51.100.1", oaClientForm(ids.New(), strings.Repeat("0", 64))); resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d", i, resp.StatusCode)
				}
			}
			if resp := post("198.51.100.1", oaClientForm(a.ClientID, a.ClientSecret)); resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("the failing client after 50 failures: %d, want 429", resp.StatusCode)
			}
			resp := post("198.51.100.2", oaClientForm(a.ClientID, a.ClientSecret))
			if locked := resp.StatusCode == http.StatusTooManyRequests; locked != tc.otherLocked {
				t.Errorf("another client behind the same balancer: %d (locked %v, want %v)", resp.StatusCode, locked, tc.otherLocked)
			}
		})
	}
}
