package scim

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Limits of a filter.
const (
	MaxLength      = 4096
	MaxDepth       = 16
	MaxComparisons = 64
)

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tNumber
	tLParen
	tRParen
	tLBracket
	tRBracket
	tDot
)

type token struct {
	kind tokKind
	pos  int
	text string // a word as written; a string's decoded value; a number's text
}

// lower is a word lower-cased (keywords and operators are case-insensitive).
func (t token) lower() string { return strings.ToLower(t.text) }

// checkBytes enforces the length limit and refuses invalid UTF-8 and control characters
// before any tokenising, so that messages can quote the input safely.
func checkBytes(s string) error {
	if len(s) > MaxLength {
		return errorf(MaxLength, "the filter is %d bytes long; at most %d are allowed", len(s), MaxLength)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return errorf(i, "invalid UTF-8 at position %d", i)
		case r < 0x20 && r != '\t', r == 0x7f:
			return errorf(i, "control character %U at position %d", r, i)
		}
		i += size
	}
	return nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '$' || c == ':' || c == '.'
}

type lexer struct {
	src string
	pos int
}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && (l.src[l.pos] == ' ' || l.src[l.pos] == '\t') {
		l.pos++
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[start]
	switch {
	case c == '(' || c == ')' || c == '[' || c == ']' || c == '.':
		l.pos++
		return token{kind: map[byte]tokKind{'(': tLParen, ')': tRParen, '[': tLBracket, ']': tRBracket, '.': tDot}[c], pos: start}, nil
	case c == '"':
		return l.str()
	case c == '-' || isDigit(c):
		return l.number()
	case isAlpha(c) || c == '$':
		for l.pos < len(l.src) && isWordChar(l.src[l.pos]) {
			l.pos++
		}
		return token{kind: tWord, pos: start, text: l.src[start:l.pos]}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	return token{}, errorf(start, "unexpected character %s at position %d", snip(string(r)), start)
}

// str scans a JSON string and decodes it.
func (l *lexer) str() (token, error) {
	start := l.pos
	i := start + 1
	for i < len(l.src) && l.src[i] != '"' {
		if l.src[i] == '\\' {
			i++
		}
		i++
	}
	if i >= len(l.src) {
		return token{}, errorf(start, "unterminated string starting at position %d", start)
	}
	l.pos = i + 1
	var s string
	if err := json.Unmarshal([]byte(l.src[start:l.pos]), &s); err != nil {
		return token{}, errorf(start, "invalid JSON string at position %d", start)
	}
	return token{kind: tString, pos: start, text: s}, nil
}

// number scans a JSON number.
func (l *lexer) number() (token, error) {
	start := l.pos
	i := start
	if l.src[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(l.src) && isDigit(l.src[i]) {
			i, n = i+1, n+1
		}
		return n
	}
	ok := digits() > 0
	if ok && i < len(l.src) && l.src[i] == '.' {
		i++
		ok = digits() > 0
	}
	if ok && i < len(l.src) && (l.src[i] == 'e' || l.src[i] == 'E') {
		i++
		if i < len(l.src) && (l.src[i] == '+' || l.src[i] == '-') {
			i++
		}
		ok = digits() > 0
	}
	text := l.src[start:i]
	if !ok || !json.Valid([]byte(text)) || i < len(l.src) && isWordChar(l.src[i]) && l.src[i] != '.' {
		return token{}, errorf(start, "invalid number at position %d", start)
	}
	l.pos = i
	return token{kind: tNumber, pos: start, text: text}, nil
}

type parser struct {
	lex         lexer
	tok         token
	depth       int
	comparisons int
}

func newParser(input string) (*parser, error) {
	if err := checkBytes(input); err != nil {
		return nil, err
	}
	p := &parser{lex: lexer{src: input}}
	return p, p.advance()
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	p.tok = t
	return err
}

// Parse parses a filter. Blank input is refused: a list request without a filter omits the
// parameter.
func Parse(input string) (Expr, error) {
	p, err := newParser(input)
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, errorf(0, "the filter is empty")
	}
	e, err := p.or(false)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected("the end of the filter")
	}
	return e, nil
}

func (p *parser) unexpected(want string) error {
	if p.tok.kind == tEOF {
		return errorf(p.tok.pos, "the filter ends where %s was expected", want)
	}
	end := p.lex.pos
	return errorf(p.tok.pos, "expected %s at position %d, found %s", want, p.tok.pos, snip(p.lex.src[p.tok.pos:end]))
}

func (p *parser) keyword(k string) bool { return p.tok.kind == tWord && p.tok.lower() == k }

func (p *parser) enter() error {
	if p.depth++; p.depth > MaxDepth {
		return errorf(p.tok.pos, "the filter nests more than %d levels", MaxDepth)
	}
	return nil
}

// or and and parse left-associative chains; inValue is true inside brackets, where attribute
// paths are sub-attributes and brackets cannot nest.
func (p *parser) or(inValue bool) (Expr, error) {
	l, err := p.and(inValue)
	for err == nil && p.keyword("or") {
		if err = p.advance(); err != nil {
			break
		}
		var r Expr
		if r, err = p.and(inValue); err == nil {
			l = &Or{l, r}
		}
	}
	return l, err
}

func (p *parser) and(inValue bool) (Expr, error) {
	l, err := p.unary(inValue)
	for err == nil && p.keyword("and") {
		if err = p.advance(); err != nil {
			break
		}
		var r Expr
		if r, err = p.unary(inValue); err == nil {
			l = &And{l, r}
		}
	}
	return l, err
}

func (p *parser) unary(inValue bool) (Expr, error) {
	if p.keyword("not") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tLParen {
			return nil, p.unexpected(`"(" after not`)
		}
		x, err := p.group(inValue)
		if err != nil {
			return nil, err
		}
		return &Not{X: x, Pos: pos}, nil
	}
	if p.tok.kind == tLParen {
		return p.group(inValue)
	}
	return p.attrExp(inValue)
}

// group parses "(" or ")".
func (p *parser) group(inValue bool) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.or(inValue)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tRParen {
		return nil, p.unexpected(`")"`)
	}
	p.depth--
	return x, p.advance()
}

func (p *parser) attrExp(inValue bool) (Expr, error) {
	if p.tok.kind != tWord || isKeyword(p.tok.lower()) {
		return nil, p.unexpected("an attribute name")
	}
	path, err := splitPath(p.tok.text, p.tok.pos)
	if err != nil {
		return nil, err
	}
	if inValue && (path.URN != "" || path.Sub != "") {
		return nil, errorf(path.Pos, "inside brackets, %s must be a plain sub-attribute name", snip(path.String()))
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tLBracket {
		if inValue {
			return nil, errorf(p.tok.pos, "brackets cannot nest (position %d)", p.tok.pos)
		}
		if path.Sub != "" {
			return nil, errorf(p.tok.pos, "a value filter applies to an attribute, not to a sub-attribute")
		}
		return p.valuePath(path)
	}
	if p.comparisons++; p.comparisons > MaxComparisons {
		return nil, errorf(path.Pos, "the filter has more than %d comparisons", MaxComparisons)
	}
	if p.tok.kind != tWord {
		return nil, p.unexpected("an operator (eq ne co sw ew gt lt ge le pr)")
	}
	opPos, name := p.tok.pos, p.tok.lower()
	if name == "pr" {
		return &Compare{Path: path, Op: Pr, OpPos: opPos}, p.advance()
	}
	op, ok := opByName[name]
	if !ok {
		return nil, p.unexpected("an operator (eq ne co sw ew gt lt ge le pr)")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return &Compare{Path: path, Op: op, OpPos: opPos, Value: v}, nil
}

func (p *parser) valuePath(path AttrPath) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	f, err := p.or(true)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tRBracket {
		return nil, p.unexpected(`"]"`)
	}
	p.depth--
	return &ValuePath{Path: path, Filter: f}, p.advance()
}

// value parses a comparison value: a JSON string, number, true, false or null.
func (p *parser) value() (any, error) {
	t := p.tok
	var v any
	switch {
	case t.kind == tString:
		v = t.text
	case t.kind == tNumber:
		v = json.Number(t.text)
	case t.kind == tWord && t.lower() == "true":
		v = true
	case t.kind == tWord && t.lower() == "false":
		v = false
	case t.kind == tWord && t.lower() == "null":
		v = nil
	default:
		return nil, p.unexpected(`a value (a "string", a number, true, false or null)`)
	}
	return v, p.advance()
}

var keywords = map[string]bool{"and": true, "or": true, "not": true, "pr": true, "true": true, "false": true, "null": true,
	"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "lt": true, "ge": true, "le": true}

func isKeyword(w string) bool { return keywords[w] }

// splitPath splits a word into URN, name and sub-attribute: the URN is everything before
// the last colon; the rest is a name with at most one ".sub".
func splitPath(word string, pos int) (AttrPath, error) {
	p := AttrPath{Pos: pos}
	rest := word
	if i := strings.LastIndexByte(word, ':'); i >= 0 {
		p.URN, rest = word[:i], word[i+1:]
		if !validURN(p.URN) {
			return p, errorf(pos, "%s is not a schema URN", snip(p.URN))
		}
	}
	p.Name = rest
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		p.Name, p.Sub = rest[:i], rest[i+1:]
		if !validName(p.Sub) {
			return p, errorf(pos, "%s is not an attribute path", snip(word))
		}
	}
	if !validName(p.Name) {
		return p, errorf(pos, "%s is not an attribute path", snip(word))
	}
	return p, nil
}

// validName: ( ALPHA / "$" ) *( ALPHA / DIGIT / "-" / "_" / "$" ).
func validName(s string) bool {
	if s == "" || !(isAlpha(s[0]) || s[0] == '$') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '$') {
			return false
		}
	}
	return true
}

// validURN accepts urn:<segments> where no segment is empty.
func validURN(s string) bool {
	if !strings.HasPrefix(strings.ToLower(s), "urn:") {
		return false
	}
	for _, seg := range strings.Split(s, ":") {
		if seg == "" {
			return false
		}
	}
	return true
}
