package app_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/keyhold/keyhold/internal/catalog"
)

// isoServiceManagers are service managers of the built-in catalogue available in us-west and
// eu-central (the regions the matrix provisions in).
var isoServiceManagers = func() []string {
	var out []string
	for _, sm := range catalog.Default().ServiceManagers() {
		if sm.AvailableIn("us-west") && sm.AvailableIn("eu-central") {
			out = append(out, sm.ID)
		}
	}
	return out
}()

// isoManagerFor is the service manager caller provisions in its n-th creating cell: distinct
// for every (caller, n), so that two callers of one workspace never ask for the same one.
func isoManagerFor(caller string, n int) string {
	return isoServiceManagers[(slices.Index(isoCallers, caller)*2+n)%len(isoServiceManagers)]
}

// isoCatalogRows: the service catalogue is the platform's, the same for every caller whose
// role lets it read the catalogue; it holds nothing of any workspace.
func isoCatalogRows() []isoRow {
	var rows []isoRow
	for _, base := range []string{"/service-catalog/v1", "/service-catalog/v1beta1"} {
		sms, regions := base+"/service-managers", base+"/per-region-service-managers"
		rows = append(rows, isoRow{name: "list service managers " + base, pattern: "GET " + sms, targets: []string{"-"},
			want: isoSame(isoCallers, "200"),
			req:  func(w *isoWorld, c *isoCaller, _ string) isoReq { return isoAPIReq(http.MethodGet, sms, c, nil) },
			check: func(t *testing.T, w *isoWorld, c *isoCaller, _ string, _ *http.Response, body []byte) {
				if m := isoDecode(t, body); m["total"] != float64(len(catalog.Default().ServiceManagers())) {
					t.Errorf("service managers listed for %s: %v", c.key, m["total"])
				}
			}})
		rows = append(rows, isoRow{name: "get service manager " + base, pattern: "GET " + sms + "/{id}", targets: []string{"known", "?"},
			want: isoSame(isoCallers, "200 404"),
			req: func(w *isoWorld, c *isoCaller, target string) isoReq {
				id := isoServiceManagers[0]
				if target == "?" {
					id = w.id(target)
				}
				return isoAPIReq(http.MethodGet, sms+"/"+id, c, nil)
			},
			check: func(t *testing.T, w *isoWorld, c *isoCaller, _ string, _ *http.Response, body []byte) {
				if m := isoDecode(t, body); m["id"] != isoServiceManagers[0] {
					t.Errorf("service manager read by %s: %s", c.key, isoSnip(body))
				}
			}})
		rows = append(rows, isoRow{name: "list per-region service managers " + base, pattern: "GET " + regions, targets: []string{"-"},
			want: isoSame(isoCallers, "200"),
			req:  func(w *isoWorld, c *isoCaller, _ string) isoReq { return isoAPIReq(http.MethodGet, regions, c, nil) },
			check: func(t *testing.T, w *isoWorld, c *isoCaller, _ string, _ *http.Response, body []byte) {
				if m := isoDecode(t, body); m["total"] != float64(len(catalog.Default().Regions())) {
					t.Errorf("regions listed for %s: %v", c.key, m["total"])
				}
			}})
		rows = append(rows, isoRow{name: "get region's service managers " + base, pattern: "GET " + regions + "/{id}", targets: []string{"us-west", "nowhere"},
			want: isoSame(isoCallers, "200 404"),
			req: func(w *isoWorld, c *isoCaller, target string) isoReq {
				return isoAPIReq(http.MethodGet, regions+"/"+target, c, nil)
			},
			check: func(t *testing.T, w *isoWorld, c *isoCaller, _ string, _ *http.Response, body []byte) {
				if m := isoDecode(t, body); m["id"] != "us-west" {
					t.Errorf("region read by %s: %s", c.key, isoSnip(body))
				}
			}})
	}
	return rows
}
