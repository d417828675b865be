package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/storage"
)

// pagingSpec is how one list endpoint pages: the limit when none is given, the largest
// accepted, and whether limit=0 (and no limit) means "everything".
type pagingSpec struct {
	def, max int
	zeroAll  bool
}

// Paging of the IAM lists. Role assignments and most lists: 100 by default, at most 200.
// Scope groups and their scopes, as GreenLake documents them: everything unless limited, at
// most 200 groups or 500 scopes. Users: 300 by default, at most 600.
var (
	pagingStandard    = pagingSpec{def: defaultLimit, max: maxLimit}
	pagingScopeGroups = pagingSpec{def: 0, max: 200, zeroAll: true}
	pagingScopes      = pagingSpec{def: 0, max: 500, zeroAll: true}
	pagingUsers       = pagingSpec{def: 300, max: 600}
)

// listQuery reads a list endpoint's query: limit and offset as spec says, and the extra
// parameters it names (returned in q).
func listQuery(r *http.Request, spec pagingSpec, extra ...string) (storage.Page, url.Values, error) {
	q, err := queryParams(r, append(extra, "limit", "offset")...)
	if err != nil {
		return storage.Page{}, nil, err
	}
	p := storage.Page{Limit: spec.def}
	if v := q.Get("limit"); v != "" {
		min := 1
		if spec.zeroAll {
			min = 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > spec.max {
			return p, nil, apperr.Invalid(apperr.SourceQuery, "limit", "must be an integer from "+strconv.Itoa(min)+" to "+strconv.Itoa(spec.max))
		}
		p.Limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, nil, apperr.Invalid(apperr.SourceQuery, "offset", "must be a non-negative integer")
		}
		p.Offset = n
	}
	if p.Limit == 0 && p.Offset > 0 {
		p.Limit = -1 // every row after offset; see pageAll
	}
	return pageAll(p), q, nil
}

// pageAll turns "everything after offset" into a limit the store understands.
func pageAll(p storage.Page) storage.Page {
	if p.Limit < 0 {
		p.Limit = int(^uint32(0) >> 1)
	}
	return p
}

// ifMatch returns the generation an If-Match header asks for ("" when absent), accepting
// the quoted entity-tag forms "3" and W/"3".
func ifMatch(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	v = strings.TrimPrefix(v, "W/")
	return strings.Trim(v, `"`)
}

// listBody is the answer of a paged list.
func listBody[T any](items []T, offset, total int) map[string]any {
	if items == nil {
		items = []T{}
	}
	return map[string]any{"items": items, "count": len(items), "offset": offset, "total": total}
}
