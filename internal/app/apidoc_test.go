package app_test

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/apidoc"
	"github.com/keyhold/keyhold/internal/apidoc/apidoctest"
	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
)

var wildcardRE = regexp.MustCompile(`\{[^}]*\}`)

// TestOpenAPIDocumentsEveryRoute compares the routes a node registers with the operations of
// keyhold's OpenAPI document, both ways: a route added without documenting it fails, and so
// does a documented operation nothing serves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, err := apidoctest.Load()
	if err != nil {
		t.Fatal(err)
	}
	e := apptest.Start(t, app.Config{})
	served := map[string]bool{}
	for _, pattern := range e.Node.API.Routes() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			t.Errorf("route %q has no method", pattern)
			continue
		}
		served[method+" "+wildcardRE.ReplaceAllString(path, "{}")] = true
		if strings.HasSuffix(path, "/") {
			// A pattern ending in "/" serves a subtree: the document describes its files.
			served[method+" "+path+"{}"] = true
		}
	}
	documented := map[string]bool{}
	for path, item := range doc.T.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+wildcardRE.ReplaceAllString(path, "{}")] = true
		}
	}
	var missing, extra []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			extra = append(extra, r)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("served but not in internal/apidoc/openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("in internal/apidoc/openapi.yaml but not served:\n  %s", strings.Join(extra, "\n  "))
	}
	if len(served) < 100 {
		t.Errorf("only %d routes registered: Routes does not see them all", len(served))
	}
}

// TestOpenAPIDocumentServed checks that /openapi.json and /openapi.yaml serve the embedded
// document itself, to anyone.
func TestOpenAPIDocumentServed(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	j, err := apidoc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, contentType string
		want              []byte
	}{
		{"/openapi.json", "application/json", j},
		{"/openapi.yaml", "application/yaml", apidoc.YAML()},
	} {
		resp, body := e.Do(t, http.MethodGet, c.path, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != c.contentType {
			t.Errorf("%s: Content-Type %q, want %q", c.path, ct, c.contentType)
		}
		if !bytes.Equal(body, c.want) {
			t.Errorf("%s does not serve the embedded document", c.path)
		}
	}
}
