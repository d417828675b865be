package scim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Op is a comparison operator of the filter language.
type Op int

// Operators (RFC 7644 §3.4.2.2, table 3); Pr is the unary "present".
const (
	Eq Op = iota + 1
	Ne
	Co
	Sw
	Ew
	Gt
	Ge
	Lt
	Le
	Pr
)

var opNames = [...]string{Eq: "eq", Ne: "ne", Co: "co", Sw: "sw", Ew: "ew", Gt: "gt", Ge: "ge", Lt: "lt", Le: "le", Pr: "pr"}

var opByName = map[string]Op{"eq": Eq, "ne": Ne, "co": Co, "sw": Sw, "ew": Ew, "gt": Gt, "ge": Ge, "lt": Lt, "le": Le}

// String returns the operator as clients write it.
func (o Op) String() string {
	if o > 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// AttrPath is an attribute reference: an optional schema URN, a name and an optional
// sub-attribute, as written; Pos is its byte offset.
type AttrPath struct {
	URN  string
	Name string
	Sub  string
	Pos  int
}

// String renders the path as written.
func (p AttrPath) String() string {
	s := p.Name
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// Expr is a node of a parsed filter: *Compare, *ValuePath, *And, *Or or *Not. String
// renders it back as filter text with only the parentheses precedence requires.
type Expr interface {
	String() string
	expr()
}

// Compare is `Path Op Value`, or `Path pr` (Op Pr, Value nil). Value is nil (null), string,
// bool or json.Number.
type Compare struct {
	Path  AttrPath
	Op    Op
	OpPos int
	Value any
}

// ValuePath is `Path[Filter]`: Filter's attributes are sub-attributes of Path.
type ValuePath struct {
	Path   AttrPath
	Filter Expr
}

// And is `Left and Right`.
type And struct{ Left, Right Expr }

// Or is `Left or Right`.
type Or struct{ Left, Right Expr }

// Not is `not (X)`.
type Not struct {
	X   Expr
	Pos int
}

func (*Compare) expr()   {}
func (*ValuePath) expr() {}
func (*And) expr()       {}
func (*Or) expr()        {}
func (*Not) expr()       {}

func (e *Compare) String() string {
	if e.Op == Pr {
		return e.Path.String() + " pr"
	}
	return e.Path.String() + " " + e.Op.String() + " " + literal(e.Value)
}

func (e *ValuePath) String() string { return e.Path.String() + "[" + e.Filter.String() + "]" }
func (e *And) String() string       { return binary(e.Left, e.Right, " and ", 2) }
func (e *Or) String() string        { return binary(e.Left, e.Right, " or ", 1) }
func (e *Not) String() string       { return "not (" + e.X.String() + ")" }

// binary renders a left-associative operator: the right operand needs parentheses at equal
// precedence, the left one only at lower.
func binary(l, r Expr, op string, prec int) string {
	ls, rs := l.String(), r.String()
	if precedence(l) < prec {
		ls = "(" + ls + ")"
	}
	if precedence(r) <= prec {
		rs = "(" + rs + ")"
	}
	return ls + op + rs
}

func precedence(e Expr) int {
	switch e.(type) {
	case *Or:
		return 1
	case *And:
		return 2
	}
	return 3
}

// literal renders a comparison value as JSON.
func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return string(v)
	case string:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		return strings.TrimSuffix(b.String(), "\n")
	}
	return "?"
}
