package apidoc

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/oasdiff/yaml"
)

//go:embed openapi.yaml
var source []byte

// YAML is the document as maintained (the embedded openapi.yaml). Callers must not modify
// the returned slice.
func YAML() []byte { return source }

// JSON is the document converted to JSON, computed once. The conversion of the embedded
// source cannot fail at run time unless the source is broken, which the package's tests
// catch; the error is returned rather than hidden all the same.
func JSON() ([]byte, error) { return jsonOnce() }

var jsonOnce = sync.OnceValues(func() ([]byte, error) {
	j, err := yaml.YAMLToJSON(source)
	if err != nil {
		return nil, fmt.Errorf("apidoc: openapi.yaml does not convert to JSON: %w", err)
	}
	return j, nil
})
