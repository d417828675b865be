package apidoctest

import "github.com/getkin/kin-openapi/openapi3"

// closeSchemas closes, in place, every object schema reachable from the document's
// operations and components (see the package comment), and turns const into a one-value
// enum. A schema reached twice is handled once.
func closeSchemas(t *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var visit func(*openapi3.SchemaRef)
	visit = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if s.Const != nil && len(s.Enum) == 0 {
			s.Enum = []any{s.Const} // the 3.0 validator the check runs does not read const
		}
		for _, p := range s.Properties {
			visit(p)
		}
		visit(s.Items)
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, m := range group {
				visit(m)
			}
		}
		visit(s.AdditionalProperties.Schema)
		visit(s.Not)
		if len(s.AllOf) > 0 && !flattenAllOf(ref) {
			return
		}
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
	}
	for _, s := range t.Components.Schemas {
		visit(s)
	}
	for _, item := range t.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					visit(mt.Schema)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					for _, mt := range r.Value.Content {
						visit(mt.Schema)
					}
				}
			}
		}
	}
}

// flattenAllOf replaces an allOf whose members are all objects (or constraints without
// properties) by one schema holding their properties and required fields, so that the
// result can be closed; it reports whether it did. The members themselves, which other
// schemas may share, are left as they are.
func flattenAllOf(ref *openapi3.SchemaRef) bool {
	s := ref.Value
	props := openapi3.Schemas{}
	var required []string
	for k, v := range s.Properties {
		props[k] = v
	}
	required = append(required, s.Required...)
	var merge func(*openapi3.Schema) bool
	merge = func(m *openapi3.Schema) bool {
		if m == nil {
			return false
		}
		if len(m.AnyOf) > 0 || len(m.OneOf) > 0 {
			return false
		}
		for _, sub := range m.AllOf {
			if !merge(sub.Value) {
				return false
			}
		}
		for k, v := range m.Properties {
			props[k] = v
		}
		required = append(required, m.Required...)
		return true
	}
	for _, m := range s.AllOf {
		if !merge(m.Value) {
			return false
		}
	}
	if len(props) == 0 {
		return true // a wrapper of a scalar or an enum: nothing to close
	}
	flat := *s
	flat.AllOf = nil
	flat.Properties = props
	flat.Required = required
	if flat.Type == nil {
		flat.Type = &openapi3.Types{openapi3.TypeObject}
	}
	*s = flat
	return true
}
