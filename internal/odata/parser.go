package odata

import "strings"

// Limits on a single filter.
const (
	MaxLength      = 2048 // bytes of input
	MaxDepth       = 16   // nesting of parentheses and not, counted together
	MaxComparisons = 64   // comparisons, in-lists and array memberships
	MaxInItems     = 100  // literals in one in-list
)

type parser struct {
	lx          lexer
	tok         token
	prev        token // previous token, used only to name keywords in messages
	depth       int
	comparisons int
}

// Parse checks the syntax of a filter and returns its tree. An empty or all-blank filter
// yields a nil Expr and no error. Parse knows nothing of properties; see Schema.Compile.
func Parse(input string) (Expr, error) {
	e, err := parse(input)
	if err != nil && wrappedInQuotes(input) {
		return nil, errorf(0, "the filter is wrapped in quotes; send the expression without the surrounding %c characters", input[0])
	}
	return e, err
}

// wrappedInQuotes reports whether input is a valid filter enclosed in a pair of quotes, which
// some clients add by mistake; it lets Parse explain the problem instead of its symptom.
func wrappedInQuotes(input string) bool {
	n := len(input)
	if n < 2 || input[0] != input[n-1] || (input[0] != '\'' && input[0] != '"') {
		return false
	}
	inner := input[1 : n-1]
	if e, err := parse(inner); e != nil && err == nil {
		return true
	}
	e, err := parse(strings.ReplaceAll(inner, "''", "'"))
	return input[0] == '\'' && e != nil && err == nil
}

func parse(input string) (Expr, error) {
	if err := checkBytes(input); err != nil {
		return nil, err
	}
	if strings.Trim(input, " \t") == "" {
		return nil, nil
	}
	p := &parser{lx: lexer{src: input}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tEOF:
		return e, nil
	case tRParen:
		return nil, errorf(p.tok.pos, "unbalanced \")\" at position %d", p.tok.pos)
	}
	return nil, p.expected(`"and", "or" or end of input`)
}

func (p *parser) advance() error {
	p.prev = p.tok
	tok, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = tok
	return nil
}

func (p *parser) isKeyword(kw string) bool {
	return p.tok.kind == tKeyword && p.tok.text == kw
}

// expected reports that what was expected at the current token, naming the keyword
// before it (never raw input) and a bounded quote of the token found.
func (p *parser) expected(what string) *Error {
	after := ""
	if p.prev.kind == tKeyword || p.prev.kind == tLParen || p.prev.kind == tComma {
		after = " after " + p.describe(p.prev)
	}
	return errorf(p.tok.pos, "expected %s%s at position %d, found %s", what, after, p.tok.pos, p.describe(p.tok))
}

func (p *parser) describe(t token) string {
	if t.kind == tEOF {
		return "end of input"
	}
	return snip(p.lx.src[t.pos:t.end])
}

func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	for err == nil && p.isKeyword("or") {
		var right Expr
		if err = p.advance(); err == nil {
			right, err = p.parseAnd()
			left = &Or{Left: left, Right: right}
		}
	}
	return left, err
}

func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseUnary()
	for err == nil && p.isKeyword("and") {
		var right Expr
		if err = p.advance(); err == nil {
			right, err = p.parseUnary()
			left = &And{Left: left, Right: right}
		}
	}
	return left, err
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return errorf(p.tok.pos, "filter nests deeper than %d levels of parentheses and not at position %d", MaxDepth, p.tok.pos)
	}
	return p.advance()
}

func (p *parser) parseUnary() (Expr, error) {
	if !p.isKeyword("not") {
		return p.parsePrimary()
	}
	pos := p.tok.pos
	if err := p.enter(); err != nil {
		return nil, err
	}
	x, err := p.parseUnary()
	p.depth--
	return &Not{X: x, NotPos: pos}, err
}

func (p *parser) parsePrimary() (Expr, error) {
	switch p.tok.kind {
	case tLParen:
		return p.parseGroup()
	case tIdent:
		return p.parseComparison()
	case tString:
		return p.parseHas()
	}
	return nil, p.expected("a property name")
}

func (p *parser) parseGroup() (Expr, error) {
	open := p.tok.pos
	if err := p.enter(); err != nil {
		return nil, err
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tRParen:
		p.depth--
		return e, p.advance()
	case tEOF:
		return nil, errorf(open, "unbalanced \"(\" at position %d is never closed", open)
	}
	return nil, p.expected(`"and", "or" or ")"`)
}

func (p *parser) count() error {
	p.comparisons++
	if p.comparisons > MaxComparisons {
		return errorf(p.tok.pos, "more than %d comparisons; the one at position %d is one too many", MaxComparisons, p.tok.pos)
	}
	return nil
}

func (p *parser) parseComparison() (Expr, error) {
	if err := p.count(); err != nil {
		return nil, err
	}
	prop := Ident{Name: p.tok.text, Pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	opPos := p.tok.pos
	if p.isKeyword("in") {
		return p.parseInList(prop, opPos)
	}
	op, ok := opByName[p.tok.text]
	if p.tok.kind != tKeyword || !ok {
		return nil, p.expected("an operator (eq, ne, gt, ge, lt, le, in)")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	lit, err := p.parseLiteral()
	return &Compare{Property: prop, Op: op, OpPos: opPos, Value: lit}, err
}

func (p *parser) parseLiteral() (Literal, error) {
	lit := Literal{Pos: p.tok.pos}
	switch {
	case p.tok.kind == tString || p.tok.kind == tNumber || p.tok.kind == tTime:
		lit.Value = p.tok.lit
	case p.isKeyword("true") || p.isKeyword("false"):
		lit.Value = p.tok.text == "true"
	case p.isKeyword("null"):
	default:
		return lit, p.expected("a literal")
	}
	return lit, p.advance()
}

func (p *parser) parseInList(prop Ident, opPos int) (Expr, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tLParen {
		return nil, p.expected(`"("`)
	}
	n := &InList{Property: prop, OpPos: opPos}
	for {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tRParen && len(n.Values) == 0 {
			return nil, errorf(p.tok.pos, "empty \"in\" list at position %d; expected 1 to %d literals", p.tok.pos, MaxInItems)
		}
		if len(n.Values) == MaxInItems {
			return nil, errorf(p.tok.pos, "\"in\" list has more than %d items at position %d", MaxInItems, p.tok.pos)
		}
		lit, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		n.Values = append(n.Values, lit)
		if p.tok.kind == tRParen {
			return n, p.advance()
		}
		if p.tok.kind != tComma {
			return nil, p.expected(`"," or ")"`)
		}
	}
}

func (p *parser) parseHas() (Expr, error) {
	if err := p.count(); err != nil {
		return nil, err
	}
	lit := Literal{Value: p.tok.lit, Pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	opPos := p.tok.pos
	if !p.isKeyword("in") {
		return nil, p.expected(`"in" (a string can only start 'value' in arrayProperty)`)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tIdent {
		return nil, p.expected("an array property name")
	}
	prop := Ident{Name: p.tok.text, Pos: p.tok.pos}
	return &Member{Value: lit, OpPos: opPos, Property: prop}, p.advance()
}
