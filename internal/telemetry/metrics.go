package telemetry

import (
	"net/http"
	"strconv"
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

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest records one finished HTTP request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	s := strconv.Itoa(status)
	m.requests.WithLabelValues(route, method, s).Inc()
	m.latency.WithLabelValues(route, method, s).Observe(d.Seconds())
}

// TokenIssued counts one issued token.
func (m *Metrics) TokenIssued(grant string) { m.tokensIssued.WithLabelValues(grant).Inc() }

// AuthFailed counts one failed authentication.
func (m *Metrics) AuthFailed(kind, reason string) { m.authFailures.WithLabelValues(kind, reason).Inc() }
