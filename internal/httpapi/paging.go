package httpapi

import (
	"net/http"
	"strconv"

	"github.com/keyhold/keyhold/internal/apperr"
)

// Paging defaults of every list endpoint that pages.
const (
	defaultLimit = 100
	maxLimit     = 200
)

// parsePaging reads limit (1..200, default 100) and offset (≥ 0, default 0).
func parsePaging(r *http.Request) (limit, offset int, err error) {
	q := r.URL.Query()
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

// onlyParams refuses query parameters a list endpoint does not take.
func onlyParams(r *http.Request, allowed ...string) error {
	for name := range r.URL.Query() {
		ok := false
		for _, a := range allowed {
			ok = ok || name == a
		}
		if !ok {
			return apperr.Invalid(apperr.SourceQuery, truncated(name), "is not a supported query parameter")
		}
	}
	return nil
}

func truncated(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
