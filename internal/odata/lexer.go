package odata

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF     tokKind = iota
	tIdent           // property path
	tKeyword         // and or not eq ne gt ge lt le in true false null (lower-cased in text)
	tString          // 'quoted'; lit holds the unescaped value
	tNumber          // lit holds int64 or float64
	tTime            // lit holds time.Time in UTC
	tLParen
	tRParen
	tComma
)

var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "true": true, "false": true, "null": true,
	"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true,
}

type token struct {
	kind     tokKind
	pos, end int    // byte span in the input
	text     string // identifier name or lower-cased keyword
	lit      any    // literal value for tString, tNumber, tTime
}

func (t token) wordLike() bool {
	return t.kind >= tIdent && t.kind <= tTime
}

type lexer struct {
	src      string
	pos      int
	prevWord bool // the previous token was word-like and ended at the current position
}

// checkBytes enforces the length limit and rejects invalid UTF-8 and control characters
// before any tokenising, so later messages can quote input safely.
func checkBytes(s string) error {
	if len(s) > MaxLength {
		return errorf(MaxLength, "filter is %d bytes long; at most %d are allowed", len(s), MaxLength)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return errorf(i, "invalid UTF-8 byte at position %d", i)
		case r < 0x20 && r != '\t', r == 0x7f:
			return errorf(i, "control character %U at position %d", r, i)
		}
		i += size
	}
	return nil
}

func (l *lexer) next() (token, error) {
	start := l.pos
	for l.pos < len(l.src) && (l.src[l.pos] == ' ' || l.src[l.pos] == '\t') {
		l.pos++
	}
	adjacent := l.prevWord && l.pos == start
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: l.pos, end: l.pos}, nil
	}
	tok, err := l.scan()
	if err != nil {
		return tok, err
	}
	if adjacent && tok.wordLike() {
		return tok, errorf(tok.pos, "expected a space before position %d", tok.pos)
	}
	l.prevWord = tok.wordLike()
	return tok, nil
}

func (l *lexer) scan() (token, error) {
	c := l.src[l.pos]
	switch {
	case c == '(' || c == ')' || c == ',':
		l.pos++
		return token{kind: punctuation(c), pos: l.pos - 1, end: l.pos}, nil
	case c == '\'':
		return l.scanString()
	case isLetter(c) || c == '_':
		return l.scanIdent()
	case isDigit(c) || c == '-':
		return l.scanNumberOrTime()
	}
	return token{}, l.unexpected()
}

func punctuation(c byte) tokKind {
	switch c {
	case '(':
		return tLParen
	case ')':
		return tRParen
	}
	return tComma
}

func (l *lexer) unexpected() error {
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	switch r {
	case '"':
		return errorf(l.pos, "unexpected '\"' at position %d; strings use single quotes", l.pos)
	case '=', '!', '<', '>':
		return errorf(l.pos, "unexpected %q at position %d; comparison operators are eq, ne, gt, ge, lt, le", r, l.pos)
	case '&', '|':
		return errorf(l.pos, "unexpected %q at position %d; logical operators are and, or, not", r, l.pos)
	}
	return errorf(l.pos, "unexpected character %q at position %d", r, l.pos)
}

func (l *lexer) scanString() (token, error) {
	start := l.pos
	var b strings.Builder
	for i := start + 1; i < len(l.src); i++ {
		if l.src[i] != '\'' {
			b.WriteByte(l.src[i])
			continue
		}
		if i+1 < len(l.src) && l.src[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		l.pos = i + 1
		return token{kind: tString, pos: start, end: l.pos, lit: b.String()}, nil
	}
	return token{}, errorf(start, "unterminated string starting at position %d", start)
}

func (l *lexer) scanIdent() (token, error) {
	start := l.pos
	for {
		for l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
			l.pos++
		}
		if l.pos >= len(l.src) || l.src[l.pos] != '/' {
			break
		}
		l.pos++
		if l.pos >= len(l.src) || !(isLetter(l.src[l.pos]) || l.src[l.pos] == '_') {
			return token{}, errorf(l.pos, "incomplete property path: expected a name after \"/\" at position %d", l.pos)
		}
	}
	text := l.src[start:l.pos]
	if lower := strings.ToLower(text); keywords[lower] {
		return token{kind: tKeyword, pos: start, end: l.pos, text: lower}, nil
	}
	return token{kind: tIdent, pos: start, end: l.pos, text: text}, nil
}

func (l *lexer) scanNumberOrTime() (token, error) {
	start := l.pos
	for l.pos < len(l.src) && isLiteralChar(l.src[l.pos]) {
		l.pos++
	}
	word := l.src[start:l.pos]
	tok := token{pos: start, end: l.pos}
	if isDecimal(word) {
		v, err := parseNumber(word)
		if err != nil {
			return tok, errorf(start, "number %s at position %d is out of range", snip(word), start)
		}
		tok.kind, tok.lit = tNumber, v
		return tok, nil
	}
	if t, err := parseTime(word); err == nil && isDigit(word[0]) {
		tok.kind, tok.lit = tTime, t
		return tok, nil
	}
	return tok, errorf(start, "invalid literal %s at position %d; expected a number or an RFC 3339 date-time (strings must be single-quoted)", snip(word), start)
}

// isDecimal reports whether s matches -?[0-9]+(\.[0-9]+)?.
func isDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(s, ".")
	return allDigits(intPart) && (!hasDot || allDigits(frac))
}

func parseNumber(s string) (any, error) {
	if !strings.Contains(s, ".") {
		return strconv.ParseInt(s, 10, 64)
	}
	return strconv.ParseFloat(s, 64)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isLetter(c byte) bool    { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isIdentChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }
func isLiteralChar(c byte) bool {
	return isIdentChar(c) || c == '.' || c == ':' || c == '+' || c == '-'
}

// zonelessLayout is an RFC 3339 date-time without its zone, as GreenLake's documents write
// filter examples ('2020-09-21T14:19:09.769747'); the fraction is optional.
const zonelessLayout = "2006-01-02T15:04:05.999999999"

// parseTime reads an RFC 3339 date-time in UTC. A date-time without a zone offset is taken
// as UTC, the zone keyhold serves every timestamp in.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse(zonelessLayout, s)
	}
	return t.UTC(), err
}
