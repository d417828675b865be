package scim

import (
	"strings"
	"time"
)

// Kind is the type of a filterable attribute.
type Kind int

// Kinds of attributes.
const (
	String Kind = iota + 1
	Bool
	DateTime
)

// Attribute maps a filterable SCIM attribute to SQL.
type Attribute struct {
	// Path is the attribute as clients name it, without the core schema's URN:
	// "userName", "name.givenName", "meta.created", or an extension attribute with its
	// URN ("urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Group:source").
	Path string
	// Column is the SQL expression the attribute compares as (a column, or a constant).
	Column string
	Kind   Kind
	// CaseExact strings compare as stored; the others through LOWER on both sides.
	CaseExact bool
	// Normalize, when set, rewrites a string value before it is bound (ids in one spelling).
	Normalize func(string) string
	// Sub, for a complex multi-valued attribute (members, emails), is the schema of its
	// sub-attributes; a condition on them compiles to Prefix + condition + Suffix (an EXISTS
	// over the child rows, for instance). Column and Kind are then unused.
	Sub            *Schema
	Prefix, Suffix string
}

// Schema is the set of attributes an endpoint filters on.
type Schema struct {
	core  string // the core schema URN, lower-cased: paths qualified with it drop it
	attrs map[string]*Attribute
}

// NewSchema builds a schema whose resources' core schema URN is core.
func NewSchema(core string, attrs ...Attribute) *Schema {
	s := &Schema{core: strings.ToLower(core), attrs: map[string]*Attribute{}}
	for i := range attrs {
		s.attrs[strings.ToLower(attrs[i].Path)] = &attrs[i]
	}
	return s
}

// Predicate is a compiled filter: a boolean SQL expression with ? placeholders and its
// arguments in order.
type Predicate struct {
	SQL  string
	Args []any
}

// Compile parses input and compiles it against the schema.
func (s *Schema) Compile(input string) (Predicate, error) {
	e, err := Parse(input)
	if err != nil {
		return Predicate{}, err
	}
	return s.CompileExpr(e)
}

// CompileExpr compiles a parsed filter.
func (s *Schema) CompileExpr(e Expr) (Predicate, error) {
	c := &compiler{}
	if err := c.expr(s, e); err != nil {
		return Predicate{}, err
	}
	return Predicate{SQL: c.sql.String(), Args: c.args}, nil
}

// Lookup finds the attribute a path names (case-insensitively), and for a path into a
// complex attribute (emails.value) that attribute and the sub-attribute's name.
func (s *Schema) Lookup(p AttrPath) (attr *Attribute, sub string, ok bool) {
	key := strings.ToLower(p.Name)
	if p.URN != "" && strings.ToLower(p.URN) != s.core {
		key = strings.ToLower(p.URN) + ":" + key
	}
	if p.Sub != "" {
		if a, found := s.attrs[key+"."+strings.ToLower(p.Sub)]; found {
			return a, "", true
		}
	}
	a, found := s.attrs[key]
	if !found || (p.Sub != "" && a.Sub == nil) {
		return nil, "", false
	}
	return a, p.Sub, true
}

type compiler struct {
	sql  strings.Builder
	args []any
}

func (c *compiler) expr(s *Schema, e Expr) error {
	switch e := e.(type) {
	case *And:
		return c.binary(s, e.Left, " AND ", e.Right)
	case *Or:
		return c.binary(s, e.Left, " OR ", e.Right)
	case *Not:
		c.sql.WriteString("(NOT ")
		if err := c.expr(s, e.X); err != nil {
			return err
		}
		c.sql.WriteByte(')')
		return nil
	case *ValuePath:
		a, _, ok := s.Lookup(e.Path)
		if !ok || a.Sub == nil {
			return errorf(e.Path.Pos, "%s is not a multi-valued attribute this list filters on", snip(e.Path.String()))
		}
		return c.within(a, func() error { return c.expr(a.Sub, e.Filter) })
	case *Compare:
		return c.compare(s, e)
	}
	return errorf(0, "unsupported filter expression")
}

func (c *compiler) binary(s *Schema, l Expr, op string, r Expr) error {
	c.sql.WriteByte('(')
	if err := c.expr(s, l); err != nil {
		return err
	}
	c.sql.WriteString(op)
	if err := c.expr(s, r); err != nil {
		return err
	}
	c.sql.WriteByte(')')
	return nil
}

// within wraps a condition on a complex attribute's sub-attributes in its Prefix and Suffix.
func (c *compiler) within(a *Attribute, inner func() error) error {
	c.sql.WriteString("(" + a.Prefix)
	if err := inner(); err != nil {
		return err
	}
	c.sql.WriteString(a.Suffix + ")")
	return nil
}

func (c *compiler) compare(s *Schema, e *Compare) error {
	a, sub, ok := s.Lookup(e.Path)
	if !ok {
		return errorf(e.Path.Pos, "%s is not an attribute this list filters on", snip(e.Path.String()))
	}
	if a.Sub != nil {
		if sub == "" { // "members pr", or a comparison with the complex attribute itself
			if e.Op != Pr {
				return errorf(e.OpPos, "%s is a complex attribute: compare one of its sub-attributes", snip(e.Path.String()))
			}
			return c.within(a, func() error { c.sql.WriteString("(1 = 1)"); return nil })
		}
		inner := &Compare{Path: AttrPath{Name: sub, Pos: e.Path.Pos}, Op: e.Op, OpPos: e.OpPos, Value: e.Value}
		return c.within(a, func() error { return c.compare(a.Sub, inner) })
	}
	return c.simple(a, e)
}

// simple compiles a comparison with a simple attribute.
func (c *compiler) simple(a *Attribute, e *Compare) error {
	col := a.Column
	if e.Op == Pr || e.Value == nil {
		if e.Value == nil && e.Op != Pr && e.Op != Eq && e.Op != Ne {
			return errorf(e.OpPos, "null can only be compared with eq or ne")
		}
		present := "(" + col + " IS NOT NULL AND " + col + " <> '')"
		if a.Kind == Bool {
			present = "(" + col + " IS NOT NULL)"
		}
		if e.Op == Eq {
			present = "(NOT " + present + ")"
		}
		c.sql.WriteString(present)
		return nil
	}
	switch a.Kind {
	case Bool:
		b, ok := e.Value.(bool)
		if !ok || (e.Op != Eq && e.Op != Ne) {
			return errorf(e.OpPos, "%s is a boolean: compare it with eq or ne and true or false", snip(e.Path.String()))
		}
		c.sql.WriteString("(" + col + sqlOp(e.Op) + "?)")
		c.args = append(c.args, b)
		return nil
	case DateTime:
		t, ok := dateTime(e.Value)
		if !ok || e.Op == Co || e.Op == Sw || e.Op == Ew {
			return errorf(e.OpPos, "%s is a date-time: compare it with eq ne gt ge lt le and an RFC 3339 string", snip(e.Path.String()))
		}
		c.sql.WriteString("(" + col + sqlOp(e.Op) + "?)")
		c.args = append(c.args, t)
		return nil
	}
	v, ok := e.Value.(string)
	if !ok {
		return errorf(e.OpPos, "%s is a string: compare it with a \"string\"", snip(e.Path.String()))
	}
	if a.Normalize != nil {
		v = a.Normalize(v)
	}
	arg := "?"
	if !a.CaseExact {
		col, arg = "LOWER("+col+")", "LOWER(?)"
	}
	switch e.Op {
	case Co:
		v = "%" + escapeLike(v) + "%"
	case Sw:
		v = escapeLike(v) + "%"
	case Ew:
		v = "%" + escapeLike(v)
	}
	if e.Op == Co || e.Op == Sw || e.Op == Ew {
		c.sql.WriteString("(" + col + " LIKE " + arg + ` ESCAPE '\')`)
	} else {
		c.sql.WriteString("(" + col + sqlOp(e.Op) + arg + ")")
	}
	c.args = append(c.args, v)
	return nil
}

var sqlOps = map[Op]string{Eq: " = ", Ne: " <> ", Gt: " > ", Ge: " >= ", Lt: " < ", Le: " <= "}

func sqlOp(o Op) string { return sqlOps[o] }

// escapeLike escapes LIKE's wildcards and its escape character in a value.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func dateTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err == nil
}
