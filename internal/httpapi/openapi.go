package httpapi

import (
	"net/http"

	"github.com/keyhold/keyhold/internal/apidoc"
)

// openAPIRoutes serves keyhold's OpenAPI document (package apidoc) without authentication:
// it describes the public API and nothing about any workspace.
func (a *API) openAPIRoutes() {
	a.mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		j, err := apidoc.JSON()
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		serveDocument(w, "application/json", j)
	})
	a.mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		serveDocument(w, "application/yaml", apidoc.YAML())
	})
}

func serveDocument(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(body)
}
