package grn

import (
	"errors"
	"strings"
)

// EscapeID turns any string into a GRN id segment, reversibly (UnescapeID undoes it), so that
// an id from outside (an email, a path such as "/users/{id}") can name a resource in a GRN:
//
//   - ASCII letters, digits, '-' and '.' are kept;
//   - every other byte, '_' included, becomes '_' and two upper-case hex digits
//     ("@" -> "_40", "/" -> "_2F", "_" -> "_5F", "*" -> "_2A");
//   - the ids "." and ".." (not valid segments) escape their dots ("_2E").
//
// The encoding is canonical: one string has one segment and the segment parses as a GRN id,
// never as the wildcard. "" has no segment and yields "".
func EscapeID(s string) string {
	if s == "." || s == ".." {
		return strings.Repeat("_2E", len(s))
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !keep(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

const hexDigits = "0123456789ABCDEF"

func keep(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.'
}

// ErrEscape reports a segment that EscapeID cannot have produced.
var ErrEscape = errors.New("not an escaped id: '_' must start _XX with two upper-case hex digits, other bytes must be letters, digits, '-' or '.'")

// UnescapeID returns the string whose EscapeID is seg; a segment EscapeID cannot have
// produced (a lower-case or short escape, an escaped byte that needs none, a raw byte that
// needs one) is ErrEscape, so that every id has exactly one GRN.
func UnescapeID(seg string) (string, error) {
	if !strings.Contains(seg, "_") {
		if seg == "." || seg == ".." || !allKept(seg) {
			return "", ErrEscape
		}
		return seg, nil
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c != '_' {
			if !keep(c) {
				return "", ErrEscape
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(seg) {
			return "", ErrEscape
		}
		hi, lo := unhex(seg[i+1]), unhex(seg[i+2])
		if hi < 0 || lo < 0 {
			return "", ErrEscape
		}
		v := byte(hi<<4 | lo)
		if keep(v) && v != '.' {
			return "", ErrEscape
		}
		b.WriteByte(v)
		i += 2
	}
	s := b.String()
	if EscapeID(s) != seg {
		return "", ErrEscape
	}
	return s, nil
}

func allKept(s string) bool {
	for i := 0; i < len(s); i++ {
		if !keep(s[i]) {
			return false
		}
	}
	return true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
