package odata

import (
	"strconv"
	"strings"
	"time"
)

// Op is a comparison operator.
type Op int

// Operators. Has is the array-membership form 'value' in arrayProperty; clients spell it "in".
const (
	Eq Op = iota + 1
	Ne
	Gt
	Ge
	Lt
	Le
	In
	Has
)

var opNames = map[Op]string{Eq: "eq", Ne: "ne", Gt: "gt", Ge: "ge", Lt: "lt", Le: "le", In: "in", Has: "in"}

var opByName = map[string]Op{"eq": Eq, "ne": Ne, "gt": Gt, "ge": Ge, "lt": Lt, "le": Le}

// String returns the operator as clients write it.
func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Expr is a node of a parsed filter: *Compare, *InList, *Member, *And, *Or or *Not.
// String renders it back as filter text with only the parentheses precedence requires.
type Expr interface {
	String() string
	expr()
}

// Ident is a property name as written, with its byte offset in the filter.
type Ident struct {
	Name string
	Pos  int
}

// Literal is a constant from the filter. Value is nil (null), string, int64, float64, bool
// or time.Time (always UTC). Pos is its byte offset in the filter.
type Literal struct {
	Value any
	Pos   int
}

// Compare is `Property Op Value` with Op one of Eq, Ne, Gt, Ge, Lt, Le.
type Compare struct {
	Property Ident
	Op       Op
	OpPos    int
	Value    Literal
}

// InList is `Property in (Values...)`.
type InList struct {
	Property Ident
	OpPos    int
	Values   []Literal
}

// Member is `Value in Property`, membership of a literal in an array-valued property
// (operator Has).
type Member struct {
	Value    Literal
	OpPos    int
	Property Ident
}

// And is `Left and Right`.
type And struct{ Left, Right Expr }

// Or is `Left or Right`.
type Or struct{ Left, Right Expr }

// Not is `not X`; NotPos is the offset of the keyword.
type Not struct {
	X      Expr
	NotPos int
}

func (*Compare) expr() {}
func (*InList) expr()  {}
func (*Member) expr()  {}
func (*And) expr()     {}
func (*Or) expr()      {}
func (*Not) expr()     {}

func (e *Compare) String() string {
	return e.Property.Name + " " + e.Op.String() + " " + e.Value.String()
}

func (e *InList) String() string {
	items := make([]string, len(e.Values))
	for i, v := range e.Values {
		items[i] = v.String()
	}
	return e.Property.Name + " in (" + strings.Join(items, ",") + ")"
}

func (e *Member) String() string { return e.Value.String() + " in " + e.Property.Name }
func (e *And) String() string    { return binary(e.Left, e.Right, " and ", 2) }
func (e *Or) String() string     { return binary(e.Left, e.Right, " or ", 1) }

func (e *Not) String() string {
	if precedence(e.X) < 3 {
		return "not (" + e.X.String() + ")"
	}
	return "not " + e.X.String()
}

// binary renders a left-associative operator: the right operand needs parentheses already
// at equal precedence, the left one only at lower precedence.
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

// String renders the literal in filter syntax.
func (l Literal) String() string {
	switch v := l.Value.(type) {
	case nil:
		return "null"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return "?"
}
