package scim

import (
	"fmt"
	"strconv"
)

// SCIM error types (RFC 7644 §3.12) this package reports.
const (
	TypeInvalidFilter = "invalidFilter"
	TypeInvalidPath   = "invalidPath"
)

// maxSnippet bounds the bytes of client input one quoted fragment in a message may hold.
const maxSnippet = 40

// Error says why a filter or a path was refused. Type is the SCIM error type the HTTP layer
// answers with; Pos is a byte offset into the input.
type Error struct {
	Type   string
	Pos    int
	Reason string
}

func (e *Error) Error() string { return e.Reason }

func errorf(pos int, format string, args ...any) *Error {
	return &Error{Type: TypeInvalidFilter, Pos: pos, Reason: fmt.Sprintf(format, args...)}
}

// snip quotes a fragment of client input, cut to maxSnippet bytes at a rune boundary.
func snip(s string) string {
	if len(s) <= maxSnippet {
		return strconv.Quote(s)
	}
	n := maxSnippet
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return strconv.Quote(s[:n]) + "..."
}
