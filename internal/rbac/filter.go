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
	out := map[string][]string{}
	e, err := odata.Parse(text)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
	}
	if e == nil {
		return out, nil
	}
	if err := collectIn(e, allowed, out); err != nil {
		return nil, apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
	}
	return out, nil
}

func collectIn(e odata.Expr, allowed []string, out map[string][]string) error {
	switch x := e.(type) {
	case *odata.And:
		if err := collectIn(x.Left, allowed, out); err != nil {
			return err
		}
		return collectIn(x.Right, allowed, out)
	case *odata.InList:
		name := x.Property.Name
		if !slices.Contains(allowed, name) {
			return fmt.Errorf("unknown property %q at position %d; allowed: %s", truncate(name), x.Property.Pos, strings.Join(allowed, ", "))
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("property %q appears more than once", name)
		}
		for _, v := range x.Values {
			s, ok := v.Value.(string)
			if !ok {
				return fmt.Errorf("property %q expects quoted strings, at position %d", name, v.Pos)
			}
			out[name] = append(out[name], s)
		}
		return nil
	}
	return fmt.Errorf("only `<property> in (...)` comparisons joined by `and` are supported, not %q", truncate(e.String()))
}
