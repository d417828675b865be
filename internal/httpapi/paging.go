package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

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

// parsePaging reads limit (1..200, default 100) and offset (≥ 0, default 0) from a parsed
// query.
func parsePaging(q url.Values) (limit, offset int, err error) {
	limit, offset = defaultLimit, 0
	if v := q.Get("limit"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 || n > maxLimit {
			return 0, 0, apperr.Invalid(apperr.SourceQuery, "limit", "must be an integer from 1 to 200")
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 0 {
			return 0, 0, apperr.Invalid(apperr.SourceQuery, "offset", "must be a non-negative integer")
		}
		offset = n
	}
	return limit, offset, nil
}

func truncated(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
