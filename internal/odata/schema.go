package odata

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
)

// Kind is the type of a filterable property.
type Kind int

// Property kinds.
const (
	String      Kind = iota + 1 // string literals; compared byte-wise
	Number                      // integer or decimal literals (int64 or float64)
	Bool                        // true, false
	Time                        // RFC 3339 date-times, unquoted or single-quoted; bound as UTC time.Time
	UUID                        // single-quoted UUIDs, hyphenated or 32 hex; bound in canonical form
	StringArray                 // only 'value' in property, compiled through ArrayMember
)

var kindNames = map[Kind]string{String: "a string", Number: "a number", Bool: "a boolean",
	Time: "an RFC 3339 date-time", UUID: "a UUID", StringArray: "a string array"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Property is one filterable property of an endpoint. Everything but Name is fixed by the
// server; Column and ArrayMember are copied into SQL verbatim and must never come from input.
type Property struct {
	Name   string // as clients write it, e.g. "tenantId", "associatedTenant/resourceUri"
	Column string // SQL expression it maps to, e.g. "c.tenant_id"; unused for StringArray
	Kind   Kind
	Ops    []Op // operators allowed for this property
	// ArrayMember is, for StringArray properties, a boolean SQL expression with exactly one
	// ? standing for the value, e.g. "EXISTS (SELECT 1 FROM scopes s WHERE s.id = a.id AND s.scope = ?)".
	ArrayMember string
}

// Schema is the set of properties one endpoint accepts in $filter.
type Schema struct {
	Properties []Property
	byName     map[string]*Property
}

// NewSchema builds a schema. Schemas are server constants, so a malformed property
// (duplicate or unparsable name, missing column, a ? in Column, ArrayMember without exactly
// one ?, Has on a non-array or other operators on an array) panics.
func NewSchema(props ...Property) *Schema {
	s := &Schema{Properties: props, byName: make(map[string]*Property, len(props))}
	for i := range s.Properties {
		p := &s.Properties[i]
		if err := validate(p); err != nil {
			panic("odata: property " + fmt.Sprintf("%q", p.Name) + ": " + err.Error())
		}
		if s.byName[p.Name] != nil {
			panic(fmt.Sprintf("odata: duplicate property %q", p.Name))
		}
		s.byName[p.Name] = p
	}
	return s
}

func validate(p *Property) error {
	lx := lexer{src: p.Name}
	if tok, err := lx.next(); err != nil || tok.kind != tIdent || tok.end != len(p.Name) {
		return fmt.Errorf("name is not a property path")
	}
	if p.Kind == StringArray {
		if strings.Count(p.ArrayMember, "?") != 1 || !slices.Equal(p.Ops, []Op{Has}) {
			return fmt.Errorf("a StringArray needs Ops {Has} and an ArrayMember with one ?")
		}
		return nil
	}
	if _, ok := kindNames[p.Kind]; !ok || p.Column == "" || strings.Contains(p.Column, "?") || p.ArrayMember != "" {
		return fmt.Errorf("needs a kind and a Column without ?, and no ArrayMember")
	}
	if slices.Contains(p.Ops, Has) || len(p.Ops) == 0 {
		return fmt.Errorf("ops must be non-empty and exclude Has")
	}
	return nil
}

func (s *Schema) lookup(name string) *Property {
	if s.byName != nil {
		return s.byName[name]
	}
	for i := range s.Properties {
		if s.Properties[i].Name == name {
			return &s.Properties[i]
		}
	}
	return nil
}

func (s *Schema) names() string {
	names := make([]string, len(s.Properties))
	for i, p := range s.Properties {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// resolve finds the property id names and checks that op may be applied to it.
func (s *Schema) resolve(id Ident, op Op, opPos int) (*Property, error) {
	p := s.lookup(id.Name)
	if p == nil {
		return nil, errorf(id.Pos, "unknown property %s at position %d; allowed: %s", snip(id.Name), id.Pos, s.names()).withProp(id.Name, "")
	}
	if (p.Kind == StringArray) != (op == Has) {
		return nil, arrayMisuse(p, op, opPos)
	}
	if !slices.Contains(p.Ops, op) {
		return nil, errorf(opPos, "operator %q is not allowed for property %q at position %d; allowed: %s",
			op.String(), p.Name, opPos, opList(p.Ops)).withProp(p.Name, op.String())
	}
	return p, nil
}

func arrayMisuse(p *Property, op Op, opPos int) *Error {
	if op == Has {
		return errorf(opPos, "property %q is not an array, so 'value' in %s is not allowed at position %d",
			p.Name, p.Name, opPos).withProp(p.Name, op.String())
	}
	return errorf(opPos, "property %q is an array: write 'value' in %s instead of operator %q at position %d",
		p.Name, p.Name, op.String(), opPos).withProp(p.Name, op.String())
}

func opList(ops []Op) string {
	names := make([]string, len(ops))
	for i, op := range ops {
		names[i] = op.String()
	}
	return strings.Join(names, ", ")
}

// bind converts a literal to the value bound for property p: string, int64, float64, bool,
// time.Time (UTC), a canonical UUID string, or nil for null (only with eq and ne).
func bind(p *Property, op Op, lit Literal) (any, error) {
	if lit.Value == nil {
		if op == Eq || op == Ne {
			return nil, nil
		}
		return nil, errorf(lit.Pos, "null at position %d can only be compared with eq or ne", lit.Pos).withProp(p.Name, op.String())
	}
	v, ok := convert(p.Kind, lit.Value)
	if ok {
		return v, nil
	}
	if p.Kind == UUID || p.Kind == Time {
		if s, isString := lit.Value.(string); isString {
			return nil, errorf(lit.Pos, "property %q expects %s at position %d, got %s", p.Name, p.Kind, lit.Pos, snip(s)).withProp(p.Name, op.String())
		}
	}
	return nil, errorf(lit.Pos, "property %q expects %s at position %d, found %s",
		p.Name, p.Kind, lit.Pos, literalKind(lit.Value)).withProp(p.Name, op.String())
}

func convert(k Kind, v any) (any, bool) {
	switch v := v.(type) {
	case string:
		switch k {
		case String, StringArray:
			return v, true
		case UUID:
			id, err := ids.Parse(v)
			return id, err == nil
		case Time:
			t, err := parseTime(v)
			return t, err == nil
		}
	case int64, float64:
		return v, k == Number
	case bool:
		return v, k == Bool
	case time.Time:
		return v.UTC(), k == Time
	}
	return nil, false
}

func literalKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	}
	return "an unsupported value"
}
