// Package apidoctest checks HTTP exchanges against keyhold's OpenAPI document (package
// apidoc) in tests. The document is loaded, validated and prepared once per test binary.
//
// For the check every object schema that lists properties and does not say otherwise is
// closed (additionalProperties false), after flattening allOf compositions into one object:
// a field keyhold sends but the document does not describe fails, as does a status the
// operation does not list. The document as served stays open, so that clients tolerate
// fields added later.
package apidoctest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/keyhold/keyhold/internal/apidoc"
)

// Doc is the prepared document: closed schemas and a path matcher.
type Doc struct {
	T      *openapi3.T
	routes []route
}

type route struct {
	re       *regexp.Regexp
	path     string
	literals int // characters outside {wildcards}: the more, the more specific
}

var load = sync.OnceValues(func() (*Doc, error) {
	j, err := apidoc.JSON()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromData(j)
	if err != nil {
		return nil, err
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the document does not validate: %w", err)
	}
	closeSchemas(t)
	// kin-openapi checks 3.1 documents with a JSON Schema 2020-12 validator it compiles
	// again for every value (milliseconds per exchange); its own validator, used for 3.0,
	// checks each value directly. The document keeps to keywords both understand (see
	// package apidoc), const aside, which closeSchemas turns into a one-value enum; so the
	// check runs the prepared copy as 3.0. TestOpenAPIValidationHasTeeth covers type arrays
	// with null and const under this mode.
	t.OpenAPI = "3.0.3"
	d := &Doc{T: t}
	for path := range t.Paths.Map() {
		d.routes = append(d.routes, route{re: templateRegexp(path), path: path, literals: len(wildcard.ReplaceAllString(path, ""))})
	}
	sort.Slice(d.routes, func(i, j int) bool { return d.routes[i].literals > d.routes[j].literals })
	return d, nil
})

// Load returns the prepared document (loaded once per process).
func Load() (*Doc, error) { return load() }

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

func templateRegexp(path string) *regexp.Regexp {
	parts := wildcard.Split(path, -1)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, "[^/]+") + "$")
}

// Template finds the documented path template a request path falls under ("" when none),
// the most specific first. One trailing slash is ignored, as keyhold ignores it.
func (d *Doc) Template(method, path string) (string, *openapi3.Operation) {
	if item := d.T.Paths.Value(path); item != nil && item.GetOperation(method) != nil {
		return path, item.GetOperation(method) // a path documented with its slash (/console/)
	}
	if len(path) > 1 && strings.HasSuffix(path, "/") {
		path = path[:len(path)-1]
	}
	for _, r := range d.routes {
		if r.re.MatchString(path) {
			if op := d.T.Paths.Value(r.path).GetOperation(method); op != nil {
				return r.path, op
			}
		}
	}
	return "", nil
}

// Options are the validation options of every check: undocumented statuses fail, UUID
// formats are checked, and authentication is not (the server decides that).
func Options() *openapi3filter.Options { return options } // shared: do not modify

var options = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	// keyhold ignores read-only fields a client sends back (a PUT of what it read).
	ExcludeReadOnlyValidations: true,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
	},
}

// Check validates one exchange. The response is always checked. The request is checked
// only when the server accepted it (2xx): a request the server refused may well break the
// document, that is what the refusal is for. A path the document does not describe must
// have been answered 404 or 405.
func (d *Doc) Check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	// Matched on the escaped path, segment by segment, as http.ServeMux matches: "%2F" in
	// a segment is part of a wildcard's value, not a separator.
	escaped := req.URL.EscapedPath()
	path, op := d.Template(req.Method, escaped)
	if op == nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("%s %s answered %d but the document does not describe it", req.Method, req.URL.Path, status)
	}
	r := req.Clone(context.Background())
	if len(escaped) > 1 && strings.HasSuffix(escaped, "/") && !strings.HasSuffix(path, "/") {
		escaped = escaped[:len(escaped)-1]
		r.URL.Path, r.URL.RawPath = strings.TrimSuffix(r.URL.Path, "/"), ""
	}
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	params, err := pathParams(path, escaped)
	if err != nil {
		return err
	}
	rt := &routers.Route{Spec: d.T, Path: path, PathItem: d.T.Paths.Value(path), Method: req.Method, Operation: op}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: rt, Options: Options()}
	var errs []string
	if status >= 200 && status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			errs = append(errs, "request: "+err.Error())
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: Options()}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		errs = append(errs, "response: "+err.Error())
	}
	if errs != nil {
		return fmt.Errorf("%s %s (%s) does not match keyhold's OpenAPI document:\n%s", req.Method, req.URL.Path, path, strings.Join(errs, "\n"))
	}
	return nil
}

func pathParams(template, path string) (map[string]string, error) {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return nil, fmt.Errorf("path %s does not follow %s", path, template)
	}
	m := map[string]string{}
	for i, t := range ts {
		if strings.HasPrefix(t, "{") {
			v, err := url.PathUnescape(ps[i])
			if err != nil {
				return nil, fmt.Errorf("path %s: %w", path, err)
			}
			m[strings.Trim(t, "{}")] = v
		}
	}
	return m, nil
}
