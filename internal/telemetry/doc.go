// Package telemetry owns keyhold's Prometheus metrics on a private registry (no global state,
// so tests can build many servers): HTTP requests and latencies by route and status, tokens
// issued by grant, and authentication failures by kind.
package telemetry
