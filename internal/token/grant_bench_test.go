package token

import (
	"net/url"
	"testing"
)

// BenchmarkClientCredentials is the token endpoint's client_credentials grant as a handler
// call (form parsing, client authentication, token settings, minting), without and with a
// requested scope.
func BenchmarkClientCredentials(b *testing.B) {
	ts := newTestServer(b)
	for _, bc := range []struct{ name, scope string }{{"unscoped", ""}, {"scoped", "glp.workspace.view glp.identity.*"}} {
		b.Run(bc.name, func(b *testing.B) {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {ts.clientID}, "client_secret": {ts.secret}}
			if bc.scope != "" {
				form.Set("scope", bc.scope)
			}
			body := form.Encode()
			s := ts.fresh()
			b.ReportAllocs()
			for b.Loop() {
				if rec := ts.do(s, ts.ws, "", "application/x-www-form-urlencoded", "", body); rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
