package telemetry

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRequestSeriesAreBounded(t *testing.T) {
	m := New()
	for i := range 100 {
		m.ObserveRequest("unmatched", "X-"+strings.Repeat("A", i), 404, time.Millisecond)
	}
	m.ObserveRequest("GET /healthz", "GET", 200, time.Millisecond)
	m.ObserveRequest("GET /healthz", "GET", 200, time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	if !strings.Contains(text, `keyhold_http_requests_total{method="OTHER",route="unmatched",status="404"} 100`) {
		t.Errorf("odd methods did not share one series:\n%s", grep(text, "keyhold_http_requests_total"))
	}
	if !strings.Contains(text, `keyhold_http_requests_total{method="GET",route="GET /healthz",status="200"} 2`) {
		t.Errorf("standard method series missing:\n%s", grep(text, "keyhold_http_requests_total"))
	}
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
