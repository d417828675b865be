package apidoc_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/keyhold/keyhold/internal/apidoc"
)

// TestDocumentValidates loads the JSON form with kin-openapi and validates it as an OpenAPI
// 3.1 document (examples included), and checks that the YAML and JSON forms say the same.
func TestDocumentValidates(t *testing.T) {
	j, err := apidoc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(j)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	fromYAML, err := loader.LoadFromData(apidoc.YAML())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(doc)
	b, _ := json.Marshal(fromYAML)
	if string(a) != string(b) {
		t.Error("the JSON and YAML forms differ")
	}
}

// TestOperationsNamed checks what clients and generators rely on: every operation has a
// unique operationId, a summary and a tag.
func TestOperationsNamed(t *testing.T) {
	j, err := apidoc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(j)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: operationId %q, summary %q, tags %v", where, op.OperationID, op.Summary, op.Tags)
			}
			if other, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s used by %s and %s", op.OperationID, other, where)
			}
			ids[op.OperationID] = where
		}
	}
}
