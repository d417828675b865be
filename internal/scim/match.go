package scim

import (
	"strings"
)

// Match evaluates a value filter (the part between brackets of a PATCH path) against one
// element of a multi-valued attribute; get returns a sub-attribute's value (a string or a
// bool) by its lower-cased name. Strings compare case-insensitively; a missing
// sub-attribute satisfies only "eq null" and "ne <value>".
func Match(e Expr, get func(name string) (any, bool)) (bool, error) {
	switch e := e.(type) {
	case *And:
		l, err := Match(e.Left, get)
		if err != nil || !l {
			return false, err
		}
		return Match(e.Right, get)
	case *Or:
		l, err := Match(e.Left, get)
		if err != nil || l {
			return l, err
		}
		return Match(e.Right, get)
	case *Not:
		x, err := Match(e.X, get)
		return !x, err
	case *Compare:
		return matchCompare(e, get)
	}
	return false, errorf(0, "a value filter cannot hold %s", snip(e.String()))
}

func matchCompare(e *Compare, get func(string) (any, bool)) (bool, error) {
	if e.Path.URN != "" || e.Path.Sub != "" {
		return false, errorf(e.Path.Pos, "%s is not a sub-attribute name", snip(e.Path.String()))
	}
	got, ok := get(strings.ToLower(e.Path.Name))
	if s, isStr := got.(string); isStr && s == "" {
		ok = false
	}
	switch {
	case e.Op == Pr:
		return ok, nil
	case e.Value == nil && (e.Op == Eq || e.Op == Ne):
		return ok == (e.Op == Ne), nil
	case !ok:
		return e.Op == Ne, nil
	}
	switch g := got.(type) {
	case bool:
		b, isBool := e.Value.(bool)
		if !isBool || (e.Op != Eq && e.Op != Ne) {
			return false, errorf(e.OpPos, "%s is a boolean: compare it with eq or ne and true or false", snip(e.Path.Name))
		}
		return (g == b) == (e.Op == Eq), nil
	case string:
		v, isStr := e.Value.(string)
		if !isStr {
			return false, errorf(e.OpPos, "%s is a string: compare it with a \"string\"", snip(e.Path.Name))
		}
		g, v = strings.ToLower(g), strings.ToLower(v)
		switch e.Op {
		case Eq:
			return g == v, nil
		case Ne:
			return g != v, nil
		case Co:
			return strings.Contains(g, v), nil
		case Sw:
			return strings.HasPrefix(g, v), nil
		case Ew:
			return strings.HasSuffix(g, v), nil
		case Gt:
			return g > v, nil
		case Ge:
			return g >= v, nil
		case Lt:
			return g < v, nil
		case Le:
			return g <= v, nil
		}
	}
	return false, errorf(e.OpPos, "%s cannot be compared", snip(e.Path.Name))
}
