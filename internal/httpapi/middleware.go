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
		if !acceptableRequestID(id) {
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

// maxRequestIDLen bounds a client's X-Request-Id that keyhold keeps.
const maxRequestIDLen = 128

// acceptableRequestID reports whether a client's X-Request-Id is kept and echoed (AuthZEN 1.0
// §10.1.3 asks a PDP to answer with the PEP's id as sent): 1 to 128 bytes of printable ASCII
// (space to '~'). Anything else (control bytes, non-ASCII, longer) is replaced by a fresh
// UUID, so that logs and headers only ever carry such text (the access log also escapes it as
// a JSON string).
func acceptableRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < ' ' || id[i] > '~' {
			return false
		}
	}
	return true
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
