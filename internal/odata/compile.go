package odata

import (
	"fmt"
	"strings"
)

// Predicate is a compiled filter: a boolean SQL expression using ? placeholders, with its
// arguments in order. The zero Predicate (SQL "") means "no filter".
type Predicate struct {
	SQL  string
	Args []any
}

var sqlOps = map[Op]string{Eq: "=", Ne: "<>", Gt: ">", Ge: ">=", Lt: "<", Le: "<="}

// Compile parses input and compiles it against the schema. The SQL it returns is made only
// of the schema's Column and ArrayMember strings, fixed keywords, operators, parentheses,
// commas and ? placeholders; every value from the input is in Args.
func (s *Schema) Compile(input string) (Predicate, error) {
	e, err := Parse(input)
	if err != nil || e == nil {
		return Predicate{}, err
	}
	return s.CompileExpr(e)
}

// CompileExpr compiles an already parsed filter; a nil Expr gives the zero Predicate.
func (s *Schema) CompileExpr(e Expr) (Predicate, error) {
	if e == nil {
		return Predicate{}, nil
	}
	c := compiler{s: s}
	if err := c.expr(e); err != nil {
		return Predicate{}, err
	}
	return Predicate{SQL: c.sql.String(), Args: c.args}, nil
}

type compiler struct {
	s    *Schema
	sql  strings.Builder
	args []any
}

func (c *compiler) expr(e Expr) error {
	switch e := e.(type) {
	case *And:
		return c.binary(e.Left, " AND ", e.Right)
	case *Or:
		return c.binary(e.Left, " OR ", e.Right)
	case *Not:
		c.sql.WriteString("(NOT ")
		err := c.expr(e.X)
		c.sql.WriteByte(')')
		return err
	case *Compare:
		return c.compare(e)
	case *InList:
		return c.in(e)
	case *Member:
		return c.has(e)
	}
	return &Error{Reason: fmt.Sprintf("unsupported expression node %T", e)}
}

func (c *compiler) binary(l Expr, op string, r Expr) error {
	c.sql.WriteByte('(')
	if err := c.expr(l); err != nil {
		return err
	}
	c.sql.WriteString(op)
	if err := c.expr(r); err != nil {
		return err
	}
	c.sql.WriteByte(')')
	return nil
}

func (c *compiler) compare(e *Compare) error {
	if _, ok := sqlOps[e.Op]; !ok {
		return errorf(e.OpPos, "operator %q cannot be used as a comparison", e.Op.String())
	}
	p, err := c.s.resolve(e.Property, e.Op, e.OpPos)
	if err != nil {
		return err
	}
	v, err := bind(p, e.Op, e.Value)
	if err != nil {
		return err
	}
	c.sql.WriteString("(" + p.Column)
	switch {
	case v == nil && e.Op == Eq:
		c.sql.WriteString(" IS NULL)")
	case v == nil:
		c.sql.WriteString(" IS NOT NULL)")
	default:
		c.sql.WriteString(" " + sqlOps[e.Op] + " ?)")
		c.args = append(c.args, v)
	}
	return nil
}

func (c *compiler) in(e *InList) error {
	if len(e.Values) == 0 || len(e.Values) > MaxInItems {
		return errorf(e.OpPos, "\"in\" list must have 1 to %d items", MaxInItems)
	}
	p, err := c.s.resolve(e.Property, In, e.OpPos)
	if err != nil {
		return err
	}
	c.sql.WriteString("(" + p.Column + " IN (")
	for i, lit := range e.Values {
		v, err := bind(p, In, lit)
		if err != nil {
			return err
		}
		if i > 0 {
			c.sql.WriteString(", ")
		}
		c.sql.WriteByte('?')
		c.args = append(c.args, v)
	}
	c.sql.WriteString("))")
	return nil
}

func (c *compiler) has(e *Member) error {
	p, err := c.s.resolve(e.Property, Has, e.OpPos)
	if err != nil {
		return err
	}
	v, err := bind(p, Has, e.Value)
	if err != nil {
		return err
	}
	c.sql.WriteString("(" + p.ArrayMember + ")")
	c.args = append(c.args, v)
	return nil
}
