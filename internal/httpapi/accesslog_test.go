package httpapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/telemetry"
)

// TestAccessLineMatchesSlog holds the hand-written access-log line to the line slog's JSON
// handler writes for the same entry, byte for byte, on paths that need escaping.
func TestAccessLineMatchesSlog(t *testing.T) {
	paths := []string{"/workspaces/v1/credentials", "", `/a"b\c`, "/tab\there/nl\n/cr\r", "/ctl\x00\x01\x1f\x7f",
		"/<script>&amp;", "/é/日本/😀", "/bad\xff\xfe/utf8\xc3", "/sep\u2028\u2029end", strings.Repeat("/long", 200)}
	durations := []time.Duration{0, time.Microsecond, 999 * time.Nanosecond, 1500 * time.Microsecond,
		time.Second + 234567*time.Nanosecond, 7 * time.Hour}
	times := []time.Time{time.Date(2026, 11, 23, 16, 38, 18, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", -5*3600)), time.Now()}
	for i, p := range paths {
		e := &accessEntry{time: times[i%len(times)], id: "0192f3a4-5b6c-7d8e-9fab-00000000000a", method: "POST",
			route: "POST /authorization/v2/oauth2/{ws}/token", path: p, status: 200 + i,
			duration: durations[i%len(durations)], src: "192.0.2.1"}
		var want bytes.Buffer
		(&API{Log: slog.New(slog.NewJSONHandler(&want, nil))}).logAccess(context.Background(), e)
		var got bytes.Buffer
		(&API{Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), AccessLog: &got}).logAccess(context.Background(), e)
		if want.Len() == 0 || got.String() != want.String() {
			t.Errorf("path %q:\n got %s\nwant %s", p, got.Bytes(), want.Bytes())
		}
	}
}

// The access log follows Log's level: above Info, no line.
func TestAccessLogFollowsLevel(t *testing.T) {
	var out bytes.Buffer
	a := &API{Log: slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn})), AccessLog: &out}
	a.logAccess(context.Background(), &accessEntry{time: time.Now(), path: "/x"})
	if out.Len() != 0 {
		t.Errorf("logged at Warn level: %s", out.Bytes())
	}
}

// BenchmarkMiddleware is the middleware around a handler that does nothing: request id,
// headers, metrics and the access-log line into a LogWriter.
func BenchmarkMiddleware(b *testing.B) {
	lw := telemetry.NewLogWriter(io.Discard, time.Hour)
	defer lw.Close()
	for _, direct := range []bool{false, true} {
		name := "slog"
		a := &API{Log: slog.New(telemetry.UrgentHandler(slog.NewJSONHandler(lw, nil), lw)), Metrics: telemetry.New()}
		if direct {
			// The direct access log as keyhold runs it, with the in-flight bound.
			name, a.AccessLog, a.inflight = "direct", lw, &inFlight{max: 1 << 20}
		}
		h := a.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
		b.Run(name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/workspaces/v1/credentials", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				clear(w.Header())
				h.ServeHTTP(w, r)
			}
		})
	}
}
