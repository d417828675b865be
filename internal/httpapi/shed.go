package httpapi

import (
	"net/http"
	"sync/atomic"

	"github.com/keyhold/keyhold/internal/ids"
)

// ShedRoute is the route label (metrics, access log) of a request refused because too many
// were in flight.
const ShedRoute = "shed"

// inFlight bounds the requests being served at once. Admission is one atomic add; a request
// over the bound is answered 503 at once instead of queueing for the CPU or the database
// behind the others, so that the admitted ones keep their latency under overload.
type inFlight struct {
	n   atomic.Int64
	max int64
}

// acquire admits a request, or reports false when max are already in flight.
func (f *inFlight) acquire() bool {
	if f.n.Add(1) > f.max {
		f.n.Add(-1)
		return false
	}
	return true
}

func (f *inFlight) release() { f.n.Add(-1) }

// exemptFromShedding reports the operations endpoints, which answer whatever the load: a
// load balancer must see /readyz and a monitor /metrics most of all when the node is
// overloaded. They do little work and are not worth attacking.
func exemptFromShedding(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// InFlight is the number of requests being served, operations endpoints excluded (0 when
// there is no bound).
func (a *API) InFlight() int64 {
	if a.inflight == nil {
		return 0
	}
	return a.inflight.n.Load()
}

// overloadedPrefix and overloadedSuffix frame the debugId of the 503 answer: the GreenLake
// error body, built without encoding/json or the error log line of writeError, since
// shedding must cost far less than serving.
const (
	overloadedPrefix = `{"httpStatusCode":503,"errorCode":"HPE_GL_ERROR_SERVICE_UNAVAILABLE",` +
		`"message":"the server is overloaded; retry later","debugId":"`
	overloadedSuffix = "\"}\n"
)

var retryAfterOne = []string{"1"}

// writeOverloaded answers a shed request: 503 with Retry-After.
func writeOverloaded(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Retry-After"] = retryAfterOne
	w.WriteHeader(http.StatusServiceUnavailable)
	b := make([]byte, 0, len(overloadedPrefix)+40+len(overloadedSuffix))
	b = append(b, overloadedPrefix...)
	b = append(b, ids.New()...)
	b = append(b, overloadedSuffix...)
	_, _ = w.Write(b)
}
