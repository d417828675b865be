package app_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/keyhold/keyhold/internal/apidoc"
)

// glDeliberateStatuses are statuses keyhold documents on GreenLake's operations although
// GreenLake's document does not list them there: keyhold can answer them on every operation
// (bad input, authentication, permission, conflicts of writes, stale If-Match, oversized or
// non-JSON bodies, rate limits, internal failures, overload).
var glDeliberateStatuses = map[string]string{
	"400": "every operation validates its input",
	"401": "every operation needs a valid token",
	"403": "every operation checks a permission",
	"404": "operations on one resource answer 404 for an unknown id",
	"409": "writes can conflict with existing data",
	"412": "writes honour If-Match; deletes refuse while something depends on the resource",
	"413": "bodies are bounded",
	"415": "bodies must be JSON",
	"429": "failed authentications are rate-limited per source address",
	"500": "an unexpected failure",
	"503": "overload, start-up, or an unreachable store",
}

// glDeliberate lists the other differences from GreenLake's documents keyhold keeps on
// purpose, by "METHOD path: where: what" as glCompare reports them.
var glDeliberate = map[string]string{}

// TestOpenAPIAgreesWithGreenLake compares every operation a vendored GreenLake document
// describes with keyhold's document: the same parameters, request body and response
// schemas. Schemas are compatible when every answer keyhold's schema allows is allowed by
// GreenLake's (responses), and every request GreenLake's allows is allowed by keyhold's
// (requests); properties keyhold adds must be marked x-keyhold-extension. Formats, patterns
// and bounds are not compared. Descriptions are not compared: keyhold writes its own.
func TestOpenAPIAgreesWithGreenLake(t *testing.T) {
	kh := loadKeyholdDocPlain(t)
	dir := openAPIDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	compared := 0
	inGreenLake := map[string]bool{}
	for _, f := range files {
		loader := openapi3.NewLoader()
		gl, err := loader.LoadFromFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for glPath, glItem := range gl.Paths.Map() {
			khItem := kh.Paths.Value(glPath)
			for method, glOp := range glItem.Operations() {
				if khItem == nil || khItem.GetOperation(method) == nil {
					continue // keyhold does not serve it (the route test covers what it serves)
				}
				compared++
				khOp := khItem.GetOperation(method)
				where := method + " " + glPath
				inGreenLake[where] = true
				if khOp.Extensions["x-keyhold-extension"] == true {
					problems = append(problems, where+": operation: marked x-keyhold-extension but GreenLake documents it")
				}
				problems = append(problems, compareOperation(where, khItem, khOp, glItem, glOp)...)
			}
		}
	}
	for path, item := range kh.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if !inGreenLake[where] && op.Extensions["x-keyhold-extension"] != true {
				problems = append(problems, where+": operation: no GreenLake document describes it, but it is not marked x-keyhold-extension")
			}
		}
	}
	if compared < 40 {
		t.Errorf("only %d operations compared", compared)
	}
	seen := map[string]bool{}
	var unexpected []string
	for _, p := range problems {
		if _, ok := glDeliberate[p]; ok {
			seen[p] = true
			continue
		}
		unexpected = append(unexpected, p)
	}
	sort.Strings(unexpected)
	if len(unexpected) > 0 {
		t.Errorf("keyhold's document differs from GreenLake's (fix internal/apidoc/openapi.yaml, or list a deliberate difference in glDeliberate):\n  %s",
			strings.Join(unexpected, "\n  "))
	}
	for p := range glDeliberate {
		if !seen[p] {
			t.Errorf("glDeliberate lists a difference that no longer exists: %s", p)
		}
	}
}

func loadKeyholdDocPlain(t *testing.T) *openapi3.T {
	t.Helper()
	j, err := apidoc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(j)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func compareOperation(where string, khItem *openapi3.PathItem, kh *openapi3.Operation, glItem *openapi3.PathItem, gl *openapi3.Operation) []string {
	var out []string
	khParams, glParams := params(khItem, kh), params(glItem, gl)
	for key, g := range glParams {
		k, ok := khParams[key]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: parameter %s: missing", where, key))
		case k.Required != g.Required:
			out = append(out, fmt.Sprintf("%s: parameter %s: required %v, GreenLake %v", where, key, k.Required, g.Required))
		default:
			out = append(out, compareSchema(where+": parameter "+key, g.Schema, k.Schema, false)...)
		}
	}
	for key, k := range khParams {
		if _, ok := glParams[key]; !ok && k.Extensions["x-keyhold-extension"] != true {
			out = append(out, fmt.Sprintf("%s: parameter %s: not in GreenLake's document nor marked x-keyhold-extension", where, key))
		}
	}
	switch {
	case (kh.RequestBody == nil) != (gl.RequestBody == nil):
		out = append(out, fmt.Sprintf("%s: request body: present %v, GreenLake %v", where, kh.RequestBody != nil, gl.RequestBody != nil))
	case kh.RequestBody != nil:
		out = append(out, compareContent(where+": request body", kh.RequestBody.Value.Content, gl.RequestBody.Value.Content, true)...)
	}
	for status, k := range kh.Responses.Map() {
		g := gl.Responses.Value(status)
		if g == nil {
			if _, ok := glDeliberateStatuses[status]; !ok {
				out = append(out, fmt.Sprintf("%s: status %s: not in GreenLake's document", where, status))
			}
			continue
		}
		out = append(out, compareContent(where+": status "+status, k.Value.Content, g.Value.Content, false)...)
		if status >= "400" {
			out = slices.DeleteFunc(out, glErrorFreedom)
		}
	}
	return out
}

// glErrorFreedom tells the differences of error bodies keyhold keeps on purpose: keyhold
// answers one error body on every API (docs/api.md, "Conventions"), where GreenLake's
// documents vary per API in the shape of errorDetails and in which errorCode values they
// enumerate. The four fields every GreenLake error has (httpStatusCode, errorCode, message,
// debugId) are still compared.
func glErrorFreedom(problem string) bool {
	return strings.Contains(problem, ".errorDetails") || strings.Contains(problem, "property errorDetails:") ||
		strings.Contains(problem, ".errorCode: GreenLake allows only")
}

func params(item *openapi3.PathItem, op *openapi3.Operation) map[string]*openapi3.Parameter {
	m := map[string]*openapi3.Parameter{}
	for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range ps {
			m[p.Value.In+" "+p.Value.Name] = p.Value
		}
	}
	return m
}

func compareContent(where string, kh, gl openapi3.Content, request bool) []string {
	var out []string
	for ct, g := range gl {
		k, ok := kh[ct]
		if !ok {
			if len(kh) > 0 || g.Schema != nil {
				out = append(out, fmt.Sprintf("%s: content %s: missing", where, ct))
			}
			continue
		}
		if request {
			out = append(out, compareSchema(where, g.Schema, k.Schema, request)...)
		} else {
			out = append(out, compareSchema(where, k.Schema, g.Schema, request)...)
		}
	}
	for ct := range kh {
		if _, ok := gl[ct]; !ok && len(gl) > 0 {
			out = append(out, fmt.Sprintf("%s: content %s: not in GreenLake's document", where, ct))
		}
	}
	return out
}

// compareSchema reports where narrow allows a value that wide does not (as far as types,
// enums, required properties and known properties go). For responses narrow is keyhold's
// schema; for requests it is GreenLake's (keyhold must accept what GreenLake's clients send).
// Properties only keyhold's schema has must be marked x-keyhold-extension.
func compareSchema(where string, narrow, wide *openapi3.SchemaRef, request bool) []string {
	if narrow == nil || wide == nil || narrow.Value == nil || wide.Value == nil {
		return nil
	}
	n, w := flatten(narrow.Value), flatten(wide.Value)
	if len(w.AnyOf) > 0 || len(w.OneOf) > 0 {
		alts := append(slices.Clone(w.AnyOf), w.OneOf...)
		var best []string
		for i, a := range alts {
			var sub []string
			if len(n.AnyOf) == len(alts) {
				sub = compareSchema(where, n.AnyOf[i], a, request)
			} else {
				sub = compareSchema(where, &openapi3.SchemaRef{Value: n}, a, request)
			}
			if i == 0 || len(sub) < len(best) {
				best = sub
			}
		}
		return best
	}
	var out []string
	if w.Type != nil && n.Type != nil {
		for _, typ := range *n.Type {
			if !w.Type.Includes(typ) && !(typ == "integer" && w.Type.Includes("number")) {
				out = append(out, fmt.Sprintf("%s: type %v, GreenLake %v", where, *n.Type, *w.Type))
				break
			}
		}
	}
	if len(w.Enum) > 0 {
		if len(n.Enum) == 0 && n.Const == nil {
			out = append(out, fmt.Sprintf("%s: GreenLake allows only %v", where, w.Enum))
		}
		for _, v := range n.Enum {
			if !slices.Contains(w.Enum, v) {
				out = append(out, fmt.Sprintf("%s: value %v not allowed by GreenLake", where, v))
			}
		}
	}
	khProps, glProps := n.Properties, w.Properties
	khRequired, glRequired := n.Required, w.Required
	if request {
		khProps, glProps = w.Properties, n.Properties
		khRequired, glRequired = w.Required, n.Required
	}
	for _, r := range glRequired {
		if !request && !slices.Contains(khRequired, r) {
			out = append(out, fmt.Sprintf("%s: property %s: GreenLake requires it", where, r))
		}
	}
	if request {
		for _, r := range khRequired {
			if !slices.Contains(glRequired, r) {
				out = append(out, fmt.Sprintf("%s: property %s: keyhold requires it, GreenLake does not", where, r))
			}
		}
	}
	for name, kp := range khProps {
		gp, ok := glProps[name]
		if !ok {
			if kp.Value == nil || kp.Value.Extensions["x-keyhold-extension"] != true {
				out = append(out, fmt.Sprintf("%s: property %s: not in GreenLake's document nor marked x-keyhold-extension", where, name))
			}
			continue
		}
		if request {
			out = append(out, compareSchema(where+"."+name, gp, kp, request)...)
		} else {
			out = append(out, compareSchema(where+"."+name, kp, gp, request)...)
		}
	}
	if request {
		for name := range glProps {
			if _, ok := khProps[name]; !ok {
				out = append(out, fmt.Sprintf("%s: property %s: GreenLake's clients may send it, keyhold does not document it", where, name))
			}
		}
	}
	if n.Items != nil && w.Items != nil {
		out = append(out, compareSchema(where+"[]", n.Items, w.Items, request)...)
	}
	return out
}

// flatten merges an allOf into one schema (properties, required, type, enum), leaving the
// input untouched.
func flatten(s *openapi3.Schema) *openapi3.Schema {
	if len(s.AllOf) == 0 {
		return s
	}
	f := *s
	f.AllOf = nil
	f.Properties = openapi3.Schemas{}
	for k, v := range s.Properties {
		f.Properties[k] = v
	}
	f.Required = slices.Clone(s.Required)
	for _, m := range s.AllOf {
		if m.Value == nil {
			continue
		}
		mv := flatten(m.Value)
		for k, v := range mv.Properties {
			f.Properties[k] = v
		}
		f.Required = append(f.Required, mv.Required...)
		if f.Type == nil {
			f.Type = mv.Type
		}
		if len(f.Enum) == 0 {
			f.Enum = mv.Enum
		}
		if len(mv.AnyOf) > 0 && len(f.AnyOf) == 0 {
			f.AnyOf = mv.AnyOf
		}
	}
	return &f
}
