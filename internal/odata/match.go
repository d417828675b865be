package odata

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// truth is SQL's three-valued logic: a comparison with NULL is unknown, and so is NOT
// unknown. Ordered false < unknown < true, AND is the minimum, OR the maximum.
type truth int

const (
	falsy truth = iota
	unknown
	truthy
)

func truthOf(b bool) truth {
	if b {
		return truthy
	}
	return falsy
}

// Match evaluates a parsed filter against one row, as the compiled SQL would: get returns a
// property's value (nil for NULL; string for String and UUID, any Go integer or float for
// Number, bool, time.Time, []string for StringArray). Comparisons with NULL are unknown and
// only a true result matches. Strings compare byte-wise (SQLite BINARY, PostgreSQL "C").
// A nil Expr matches every row.
func (s *Schema) Match(e Expr, get func(property string) any) (bool, error) {
	if e == nil {
		return true, nil
	}
	t, err := s.eval(e, get)
	return err == nil && t == truthy, err
}

func (s *Schema) eval(e Expr, get func(string) any) (truth, error) {
	switch e := e.(type) {
	case *And:
		return s.logic(e.Left, e.Right, get, minTruth)
	case *Or:
		return s.logic(e.Left, e.Right, get, maxTruth)
	case *Not:
		t, err := s.eval(e.X, get)
		return truthy - t, err
	case *Compare:
		return s.evalCompare(e, get)
	case *InList:
		return s.evalIn(e, get)
	case *Member:
		return s.evalHas(e, get)
	}
	return unknown, &Error{Reason: fmt.Sprintf("unsupported expression node %T", e)}
}

func (s *Schema) logic(l, r Expr, get func(string) any, f func(a, b truth) truth) (truth, error) {
	a, err := s.eval(l, get)
	if err != nil {
		return unknown, err
	}
	b, err := s.eval(r, get)
	return f(a, b), err
}

func minTruth(a, b truth) truth { return min(a, b) }
func maxTruth(a, b truth) truth { return max(a, b) }

func (s *Schema) evalCompare(e *Compare, get func(string) any) (truth, error) {
	p, err := s.resolve(e.Property, e.Op, e.OpPos)
	if err != nil {
		return unknown, err
	}
	want, err := bind(p, e.Op, e.Value)
	if err != nil {
		return unknown, err
	}
	have := get(p.Name)
	if want == nil {
		return truthOf((have == nil) == (e.Op == Eq)), nil
	}
	if have == nil {
		return unknown, nil
	}
	c, err := compareValues(p, have, want)
	if err != nil {
		return unknown, err
	}
	return truthOf(holds(e.Op, c)), nil
}

func holds(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

func (s *Schema) evalIn(e *InList, get func(string) any) (truth, error) {
	p, err := s.resolve(e.Property, In, e.OpPos)
	if err != nil {
		return unknown, err
	}
	have := get(p.Name)
	result := falsy
	for _, lit := range e.Values {
		want, err := bind(p, In, lit)
		if err != nil {
			return unknown, err
		}
		if have == nil {
			result = unknown
			continue
		}
		c, err := compareValues(p, have, want)
		if err != nil {
			return unknown, err
		}
		if c == 0 {
			result = truthy
		}
	}
	return result, nil
}

func (s *Schema) evalHas(e *Member, get func(string) any) (truth, error) {
	p, err := s.resolve(e.Property, Has, e.OpPos)
	if err != nil {
		return unknown, err
	}
	want, err := bind(p, Has, e.Value)
	if err != nil {
		return unknown, err
	}
	switch have := get(p.Name).(type) {
	case nil:
		return falsy, nil
	case []string:
		return truthOf(slices.Contains(have, want.(string))), nil
	}
	return unknown, rowTypeError(p, get(p.Name))
}

// compareValues orders a row value against a bound literal for property p.
func compareValues(p *Property, have, want any) (int, error) {
	switch w := want.(type) {
	case string:
		if h, ok := have.(string); ok {
			return strings.Compare(h, w), nil
		}
	case bool:
		if h, ok := have.(bool); ok {
			return cmp.Compare(boolRank(h), boolRank(w)), nil
		}
	case time.Time:
		if h, ok := have.(time.Time); ok {
			return h.Compare(w), nil
		}
	case int64, float64:
		if h, ok := number(have); ok {
			return compareNumbers(h, w), nil
		}
	}
	return 0, rowTypeError(p, have)
}

func rowTypeError(p *Property, have any) *Error {
	return (&Error{Reason: fmt.Sprintf("row value for property %q has Go type %T, which cannot hold %s", p.Name, have, p.Kind)}).withProp(p.Name, "")
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// number normalises any Go integer or float to int64 or float64.
func number(v any) (any, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint:
		return number(uint64(n))
	case uint64:
		if n > math.MaxInt64 {
			return float64(n), true
		}
		return int64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	return nil, false
}

// compareNumbers compares exactly when both are integers and as float64 otherwise.
func compareNumbers(a, b any) int {
	ai, aInt := a.(int64)
	bi, bInt := b.(int64)
	if aInt && bInt {
		return cmp.Compare(ai, bi)
	}
	return cmp.Compare(toFloat(a), toFloat(b))
}

func toFloat(v any) float64 {
	if i, ok := v.(int64); ok {
		return float64(i)
	}
	return v.(float64)
}
