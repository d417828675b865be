package rbac

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/odata"
)

// InFilter parses the restricted filter GreenLake's authorization lists accept: one or more
// `property in ('a', 'b')` joined by `and`, each property at most once, every value a
// string. It returns the values by property; an empty filter gives an empty map.
func InFilter(text string, allowed ...string) (map[string][]string, error) {
	return parseInFilter(text, false, allowed)
}

// InOrEqFilter is InFilter that also takes `property eq 'a'`, the same as a list of one (the
// roles list: GreenLake's clients look a role up by `slug eq '...'`).
func InOrEqFilter(text string, allowed ...string) (map[string][]string, error) {
	return parseInFilter(text, true, allowed)
}

func parseInFilter(text string, eq bool, allowed []string) (map[string][]string, error) {
	out := map[string][]string{}
	e, err := odata.Parse(text)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
	}
	if e == nil {
		return out, nil
	}
	if err := collectIn(e, eq, allowed, out); err != nil {
		return nil, apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
	}
	return out, nil
}

func collectIn(e odata.Expr, eq bool, allowed []string, out map[string][]string) error {
	switch x := e.(type) {
	case *odata.And:
		if err := collectIn(x.Left, eq, allowed, out); err != nil {
			return err
		}
		return collectIn(x.Right, eq, allowed, out)
	case *odata.InList:
		return collectValues(x.Property, x.Values, allowed, out)
	case *odata.Compare:
		if eq && x.Op == odata.Eq {
			return collectValues(x.Property, []odata.Literal{x.Value}, allowed, out)
		}
	}
	if eq {
		return fmt.Errorf("only `<property> in (...)` and `<property> eq '...'` comparisons joined by `and` are supported, not %q", truncate(e.String()))
	}
	return fmt.Errorf("only `<property> in (...)` comparisons joined by `and` are supported, not %q", truncate(e.String()))
}

func collectValues(prop odata.Ident, values []odata.Literal, allowed []string, out map[string][]string) error {
	name := prop.Name
	if !slices.Contains(allowed, name) {
		return fmt.Errorf("unknown property %q at position %d; allowed: %s", truncate(name), prop.Pos, strings.Join(allowed, ", "))
	}
	if _, dup := out[name]; dup {
		return fmt.Errorf("property %q appears more than once", name)
	}
	for _, v := range values {
		s, ok := v.Value.(string)
		if !ok {
			return fmt.Errorf("property %q expects quoted strings, at position %d", name, v.Pos)
		}
		out[name] = append(out[name], s)
	}
	return nil
}
