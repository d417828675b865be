package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// ListOptions narrows and pages a list. Lists that do not support an option answer a 400
// naming it when it is set.
type ListOptions struct {
	// Filter is the list's OData filter, e.g. "username eq 'ada@example.com'".
	Filter string
	// Sort is the list's sort expression (scope groups: "name desc").
	Sort string
	// PageSize is how many items each request asks for; 0 means the largest page the
	// endpoint serves.
	PageSize int
}

// page is keyhold's list body.
type page[T any] struct {
	Items  []T `json:"items"`
	Count  int `json:"count"`
	Offset int `json:"offset"`
	Total  int `json:"total"`
}

// list iterates over an offset-paged list, fetching pages of size (opts.PageSize or max)
// until total is reached or a page comes back empty. Paging by offset sees a list that
// changes between pages as it is then: an item added or removed before the current offset
// may shift another one across a page boundary, so it may be skipped or seen twice.
func list[T any](c *Client, ctx context.Context, path string, opts *ListOptions, max int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		q := url.Values{}
		size := max
		if opts != nil {
			if opts.Filter != "" {
				q.Set("filter", opts.Filter)
			}
			if opts.Sort != "" {
				q.Set("sort", opts.Sort)
			}
			if opts.PageSize > 0 {
				size = opts.PageSize
			}
		}
		q.Set("limit", strconv.Itoa(size))
		for offset := 0; ; {
			q.Set("offset", strconv.Itoa(offset))
			var p page[T]
			if _, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, out: &p}); err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			offset += len(p.Items)
			if len(p.Items) == 0 || offset >= p.Total {
				return
			}
		}
	}
}

// Collect gathers an iterator's items into a slice, stopping at its first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
