package telemetry

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds keyhold's collectors.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	tokensIssued *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	// series caches resolved request series. Keys are bounded: routes are patterns (unmatched
	// requests share one), methods outside HTTP's standard set share one label, and statuses
	// are those keyhold writes.
	series sync.Map
	// issued caches the tokensIssued counter of each grant type keyhold issues tokens for.
	issued sync.Map
}

// New registers keyhold's metrics and the Go runtime's on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyhold_http_requests_total",
			Help: "HTTP requests by route pattern, method and status."}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "keyhold_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}},
			[]string{"route", "method", "status"}),
		tokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyhold_tokens_issued_total",
			Help: "Access tokens issued by grant type."}, []string{"grant"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyhold_auth_failures_total",
			Help: "Failed authentications by kind (client, bearer) and whether they were rate limited."}, []string{"kind", "reason"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.tokensIssued, m.authFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MustRegister adds collectors of other packages (gauges read from a view, say).
func (m *Metrics) MustRegister(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// requestSeries are the two series of one (route, method, status), resolved once: label
// lookups hash every label on every call, which the request path need not pay.
type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

type seriesKey struct {
	route, method string
	status        int
}

// ObserveRequest records one finished HTTP request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	k := seriesKey{route, methodLabel(method), status}
	v, ok := m.series.Load(k)
	if !ok {
		s := strconv.Itoa(status)
		v, _ = m.series.LoadOrStore(k, &requestSeries{m.requests.WithLabelValues(route, k.method, s),
			m.latency.WithLabelValues(route, k.method, s)})
	}
	rs := v.(*requestSeries)
	rs.count.Inc()
	rs.latency.Observe(d.Seconds())
}

// TokenIssued counts one issued token; grant is one of keyhold's grant type names.
func (m *Metrics) TokenIssued(grant string) {
	c, ok := m.issued.Load(grant)
	if !ok {
		c, _ = m.issued.LoadOrStore(grant, m.tokensIssued.WithLabelValues(grant))
	}
	c.(prometheus.Counter).Inc()
}

// AuthFailed counts one failed authentication.
func (m *Metrics) AuthFailed(kind, reason string) { m.authFailures.WithLabelValues(kind, reason).Inc() }

// GaugeFunc registers a gauge whose value f reads at each scrape (f must be safe for
// concurrent use). Registering a name twice panics, as registering any collector twice does.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// CounterFunc registers a counter whose value f reads at each scrape; f must never decrease.
func (m *Metrics) CounterFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// methodLabel keeps a client-chosen method from creating series without bound.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "OTHER"
}

// Register adds collectors that other packages build (gauges read at scrape time, for
// instance) to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }
