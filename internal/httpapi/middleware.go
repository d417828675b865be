package httpapi

import (
	"net/http"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/ratelimit"
)

// requestID is the id the middleware gave the request. It travels in the X-Request-Id
// response header, which the middleware sets before any handler runs: carrying it in the
// request's context instead would copy the request.
func requestID(w http.ResponseWriter) string {
	return w.Header().Get("X-Request-Id")
}

// nosniff is the X-Content-Type-Options value of every response. Header slices are only
// read once set, so one slice serves every response.
var nosniff = []string{"nosniff"}

// recorder remembers the status a handler wrote.
type recorder struct {
	http.ResponseWriter
	status int
}

func (rec *recorder) WriteHeader(s int) {
	if rec.status == 0 {
		rec.status = s
	}
	rec.ResponseWriter.WriteHeader(s)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(b)
}

// middleware gives each request an id, recovers panics as 500s, and records one access log
// line and the metrics. The log line names the route pattern and path, never the query
// string, headers or body: tokens and secrets travel there.
func (a *API) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if _, err := ids.Parse(id); err != nil {
			id = ids.New()
		}
		h := w.Header()
		h["X-Request-Id"] = []string{id}
		h["X-Content-Type-Options"] = nosniff
		rec := &recorder{ResponseWriter: w}
		shed := false
		if !exemptFromShedding(r.URL.Path) {
			if shed = !a.Shed.Admit(); !shed && a.inflight != nil {
				if shed = !a.inflight.acquire(); !shed {
					defer a.inflight.release()
				}
			}
		}
		defer func() {
			if p := recover(); p != nil {
				a.writeError(rec, r, apperr.Wrap(panicError{p}, "panic"))
			}
			route := r.Pattern
			switch {
			case shed:
				route = ShedRoute
			case route == "":
				route = "unmatched"
			}
			end := time.Now()
			d := end.Sub(start)
			a.Metrics.ObserveRequest(route, r.Method, rec.status, d)
			a.logAccess(r.Context(), &accessEntry{time: end, id: id, method: r.Method, route: route, path: r.URL.Path,
				status: rec.status, duration: d, src: ratelimit.SourceAddr(r)})
		}()
		if shed {
			writeOverloaded(rec)
			return
		}
		next.ServeHTTP(rec, r)
	})
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic: " + fmtAny(p.v) }

func fmtAny(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "non-error value"
}
