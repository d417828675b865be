package app_test

import (
	"net/http"
	"testing"

	"github.com/keyhold/keyhold/internal/ids"
)

// isoContactRows: a workspace's contact is read where the workspace is (its own, an MSP's
// tenants) and set only by the workspace itself (a tenant's is its MSP's to set through
// msp-tenants: 403); another workspace's answers 404 like one that does not exist.
func isoContactRows(wsWant map[string]string) []isoRow {
	put := map[string]string{
		"A":  "404 200 403 403 404 404 404 404",
		"O":  isoRepeat("403", 8),
		"X":  "404 404 200 404 404 404 404 404",
		"TA": "404 404 200 404 404 404 404 404",
		"SA": "200 404 404 404 404 404 404 404",
		"B":  "404 404 404 404 200 403 403 404",
	}
	path := func(w *isoWorld, target string, hex bool) string {
		id := w.id(target)
		if hex {
			id = ids.Hex(id)
		}
		return "/workspaces/v1/workspaces/" + id + "/contact"
	}
	return []isoRow{
		{name: "get workspace contact", pattern: "GET /workspaces/v1/workspaces/{id}/contact", targets: isoWSTargets, want: wsWant,
			req: func(w *isoWorld, c *isoCaller, target string) isoReq {
				return isoAPIReq(http.MethodGet, path(w, target, false), c, nil)
			},
			check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
				if m := isoDecode(t, body); m["resourceUri"] != "/workspaces/v1/workspaces/"+w.id(target)+"/contact" {
					t.Errorf("contact of %s read by %s: %s", target, c.key, isoSnip(body))
				}
			}},
		{name: "set workspace contact (32-hex id)", pattern: "PUT /workspaces/v1/workspaces/{id}/contact", targets: isoWSTargets, want: put,
			writes: true,
			req: func(w *isoWorld, c *isoCaller, target string) isoReq {
				return isoAPIReq(http.MethodPut, path(w, target, true), c, map[string]any{"email": "ops@example.test",
					"address": map[string]string{"city": "Austin", "countryCode": "US"}})
			},
			check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
				if m := isoDecode(t, body); m["email"] != "ops@example.test" {
					t.Errorf("contact of %s set by %s: %s", target, c.key, isoSnip(body))
				}
			}},
	}
}
