package scim

// Path is the target of a PATCH operation (RFC 7644 §3.5.2): an attribute, optionally a
// value filter selecting elements of a multi-valued attribute, and optionally the
// sub-attribute of those elements the operation changes.
type Path struct {
	Attr   AttrPath
	Filter Expr   // nil: the whole attribute
	Sub    string // after the brackets: members[value eq "x"].display
}

// String renders the path back as text.
func (p Path) String() string {
	s := p.Attr.String()
	if p.Filter != nil {
		s += "[" + p.Filter.String() + "]"
		if p.Sub != "" {
			s += "." + p.Sub
		}
	}
	return s
}

// ParsePath parses a PATCH path. Errors are *Error with Type invalidPath.
func ParsePath(input string) (Path, error) {
	p, err := parsePath(input)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.Type = TypeInvalidPath
		}
		return Path{}, err
	}
	return p, nil
}

func parsePath(input string) (Path, error) {
	var out Path
	p, err := newParser(input)
	if err != nil {
		return out, err
	}
	if p.tok.kind != tWord || isKeyword(p.tok.lower()) {
		return out, p.unexpected("an attribute name")
	}
	if out.Attr, err = splitPath(p.tok.text, p.tok.pos); err != nil {
		return out, err
	}
	if err := p.advance(); err != nil {
		return out, err
	}
	if p.tok.kind == tLBracket {
		if out.Attr.Sub != "" {
			return out, errorf(p.tok.pos, "a value filter applies to an attribute, not to a sub-attribute")
		}
		vp, err := p.valuePath(out.Attr)
		if err != nil {
			return out, err
		}
		out.Filter = vp.(*ValuePath).Filter
		if p.tok.kind == tDot {
			if err := p.advance(); err != nil {
				return out, err
			}
			if p.tok.kind != tWord || !validName(p.tok.text) {
				return out, p.unexpected("a sub-attribute name")
			}
			out.Sub = p.tok.text
			if err := p.advance(); err != nil {
				return out, err
			}
		}
	}
	if p.tok.kind != tEOF {
		return out, p.unexpected("the end of the path")
	}
	return out, nil
}
