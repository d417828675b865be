package httpapi

import (
	"net/http"
	"net/url"

	"github.com/keyhold/keyhold/internal/apperr"
)

// Paging defaults of every list endpoint that pages.
const (
	defaultLimit = 100
	maxLimit     = 200
)

// queryParams parses the query string strictly and allows only the named parameters, each at
// most once. (r.URL.Query() silently drops a malformed pair, such as a bad escape or a raw ';',
// which would turn a filtered list into an unfiltered one.)
func queryParams(r *http.Request, allowed ...string) (url.Values, error) {
	if r.URL.RawQuery == "" {
		return nil, nil // reads of a nil url.Values find nothing, as in an empty one
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourceQuery, "query", "is not a valid URL query string")
	}
	for name, vals := range q {
		known := false
		for _, a := range allowed {
			known = known || name == a
		}
		switch {
		case !known:
			return nil, apperr.Invalid(apperr.SourceQuery, truncated(name), "is not a supported query parameter")
		case len(vals) > 1:
			return nil, apperr.Invalid(apperr.SourceQuery, name, "must be given at most once")
		}
	}
	return q, nil
}

func truncated(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
