package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/keyhold/keyhold/internal/loadshed"
	"github.com/keyhold/keyhold/internal/telemetry"
)

// Past MaxInFlight requests in flight, a request is answered 503 with Retry-After and the
// GreenLake error body at once, without reaching its handler; the operations endpoints are
// still served; once the in-flight requests finish, requests are admitted again.
func TestInFlightBoundSheds(t *testing.T) {
	const limit = 3
	a := &API{Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: telemetry.New(), inflight: &inFlight{max: limit}}
	entered, release := make(chan struct{}), make(chan struct{})
	h := a.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusOK)
	}))
	var done sync.WaitGroup
	for range limit {
		done.Add(1)
		go func() {
			defer done.Done()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/block", nil))
			if w.Code != http.StatusOK {
				t.Errorf("admitted request: %d", w.Code)
			}
		}()
		<-entered
	}
	if got := a.InFlight(); got != limit {
		t.Fatalf("InFlight = %d, want %d", got, limit)
	}

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/authorization/v2/oauth2/x/token", nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the bound: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.HTTPStatusCode != 503 ||
		body.ErrorCode != "HPE_GL_ERROR_SERVICE_UNAVAILABLE" || body.DebugID == "" || body.Message == "" {
		t.Errorf("body %s: %+v %v", w.Body.Bytes(), body, err)
	}
	if w.Header().Get("X-Request-Id") == "" {
		t.Error("a shed answer has no request id")
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("%s while overloaded: %d", path, w.Code)
		}
	}
	if got := a.InFlight(); got != limit {
		t.Errorf("InFlight after refusals = %d, want %d", got, limit)
	}

	close(release)
	done.Wait()
	if got := a.InFlight(); got != 0 {
		t.Errorf("InFlight when idle = %d", got)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/other", nil))
	if w.Code != http.StatusOK {
		t.Errorf("after the load passed: %d", w.Code)
	}
}

// A panicking handler still gives its slot back.
func TestInFlightReleasedOnPanic(t *testing.T) {
	a := &API{Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: telemetry.New(), inflight: &inFlight{max: 1}}
	h := a.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	for range 3 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
		if w.Code != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500 (the slot leaked?)", w.Code)
		}
	}
}

// BenchmarkInFlight is the admission check alone, from all CPUs at once.
func BenchmarkInFlight(b *testing.B) {
	f := &inFlight{max: 1 << 30}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if f.acquire() {
				f.release()
			}
		}
	})
}

// A node that the Shedder calls overloaded answers a share of requests 503 with Retry-After
// and the GreenLake error body before any handler runs; the operations endpoints are still
// served, and the refused requests hold no in-flight slot.
func TestOverloadedNodeShedsByDelay(t *testing.T) {
	a := &API{Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: telemetry.New(),
		inflight: &inFlight{max: 10}, Shed: loadshed.Fixed(1)}
	reached := 0
	h := a.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.WriteHeader(http.StatusOK)
	}))
	refused := 0
	for range 200 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/authorization/v2/oauth2/x/token", nil))
		switch w.Code {
		case http.StatusServiceUnavailable:
			refused++
			if w.Header().Get("Retry-After") != "1" {
				t.Fatalf("refused without Retry-After: %v", w.Header())
			}
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.ErrorCode != "HPE_GL_ERROR_SERVICE_UNAVAILABLE" {
				t.Fatalf("body %s: %v", w.Body.Bytes(), err)
			}
		case http.StatusOK:
		default:
			t.Fatalf("status %d", w.Code)
		}
	}
	// The cap (99 %) lets a few through: 200 requests at 1 % admit about 2.
	if refused < 180 || reached != 200-refused {
		t.Fatalf("refused %d of 200, handler reached %d times", refused, reached)
	}
	if a.InFlight() != 0 {
		t.Fatalf("refused requests hold %d in-flight slots", a.InFlight())
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("%s while shedding: %d", path, w.Code)
		}
	}
}

// TestRequestIDEcho checks which client request ids are echoed as sent and which replaced.
func TestRequestIDEcho(t *testing.T) {
	for id, kept := range map[string]bool{
		"bfe9eb29-ab87-4ca3-be83-a1d5d8305716": true, "req 42/x": true, strings.Repeat("a", 128): true,
		strings.Repeat("a", 129): false, "a\x01b": false, "é": false,
	} {
		if acceptableRequestID(id) != kept {
			t.Errorf("request id %q kept: %v, want %v", id, !kept, kept)
		}
	}
}
