package httpapi

import (
	"net/http"
	"slices"
)

// routeMux is the ServeMux the API registers its routes on. It remembers every pattern so
// that the OpenAPI document (package apidoc) can be checked to describe exactly what is
// served: a route added anywhere shows up in Routes without a list to keep by hand.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

// Routes lists the patterns ("METHOD /path/{wildcard}") of every route Handler registered,
// in registration order; nil before Handler is called.
func (a *API) Routes() []string {
	if a.mux == nil {
		return nil
	}
	return slices.Clone(a.mux.patterns)
}
