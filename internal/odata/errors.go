package odata

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxSnippet bounds how many bytes of client input any one quoted fragment in an error
// message may contain; no message contains more than one such fragment.
const maxSnippet = 40

// Error describes why a filter was rejected. Every error returned by Parse, Compile and Match
// is an *Error. The HTTP layer turns it into a 400 naming the filter parameter.
type Error struct {
	Property string // property involved, as written by the client (truncated), if any
	Operator string // operator involved ("eq", "in", ...), if any
	Pos      int    // byte offset into the filter, 0-based
	Reason   string // complete human-readable explanation, without the "filter: " prefix
}

func (e *Error) Error() string { return "filter: " + e.Reason }

// errorf builds an *Error at pos; format must not embed raw input (use snip for that).
func errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Reason: fmt.Sprintf(format, args...)}
}

// withProp records the property and operator an error concerns.
func (e *Error) withProp(prop, op string) *Error {
	e.Property, e.Operator = truncate(prop), op
	return e
}

// snip quotes a fragment of client input. The quoted form, escapes included, holds at most
// maxSnippet bytes between its quotes; a cut fragment is followed by "...".
func snip(s string) string {
	q := strconv.Quote(s)
	if len(q) <= maxSnippet+2 {
		return q
	}
	n := 0
	for i := range s { // rune starts: grow while the quoted prefix fits
		if len(strconv.Quote(s[:i])) > maxSnippet+2 {
			break
		}
		n = i
	}
	return strconv.Quote(s[:n]) + "..."
}

// truncate cuts s to at most maxSnippet bytes at a rune boundary.
func truncate(s string) string {
	if len(s) <= maxSnippet {
		return s
	}
	n := maxSnippet
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
