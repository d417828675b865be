package grn

import (
	"fmt"
	"strings"

	"github.com/keyhold/keyhold/internal/ids"
)

const scheme = "grn:"

// Parse parses s as a GRN (see the package documentation for the grammar) and returns it with
// the workspace id normalised to 32 lower-case hex digits. Every error is an *Error. Parse
// never panics, whatever s holds.
func Parse(s string) (GRN, error) {
	if err := checkFrame(s); err != nil {
		return GRN{}, err
	}
	c := &cursor{in: s, pos: len(scheme)}
	platform, _, err := c.name("platform")
	if err != nil {
		return GRN{}, err
	}
	g := GRN{Platform: platform}
	if !c.more() {
		return g, nil
	}
	kw, at, err := c.name(`"workspaces" or "providers"`)
	switch {
	case err != nil:
		return GRN{}, err
	case kw == "workspaces":
		err = c.workspaceTail(&g)
	case kw == "providers":
		err = c.providerTail(&g)
	default:
		err = c.fail(at, `expected "workspaces" or "providers" after the platform`)
	}
	if err != nil {
		return GRN{}, err
	}
	return g, nil
}

// checkFrame enforces what holds for the input as a whole: a length limit and the scheme.
func checkFrame(s string) error {
	switch {
	case s == "":
		return &Error{Input: s, Pos: 0, Reason: "empty input"}
	case len(s) > MaxLength:
		return &Error{Input: s, Pos: MaxLength, Reason: fmt.Sprintf("longer than %d bytes", MaxLength)}
	case strings.HasPrefix(s, scheme):
		return nil
	case len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme):
		return &Error{Input: s, Pos: 0, Reason: `scheme must be lower-case "grn:"`}
	}
	return &Error{Input: s, Pos: 0, Reason: `must start with "grn:"`}
}

// cursor walks the '/'-separated segments of a GRN after its scheme.
type cursor struct {
	in  string
	pos int // offset of the next unread segment; len(in)+1 once all are read
}

// more reports whether another segment (possibly empty) follows.
func (c *cursor) more() bool { return c.pos <= len(c.in) }

// fail returns an *Error at byte offset at.
func (c *cursor) fail(at int, reason string) *Error {
	return &Error{Input: c.in, Pos: at, Reason: reason}
}

// next returns the next raw segment and its offset, or an error naming what was expected.
func (c *cursor) next(what string) (string, int, error) {
	if !c.more() {
		return "", len(c.in), c.fail(len(c.in), "missing "+what)
	}
	at := c.pos
	end := strings.IndexByte(c.in[at:], '/')
	if end < 0 {
		end = len(c.in)
	} else {
		end += at
	}
	c.pos = end + 1
	seg := c.in[at:end]
	if seg == "" {
		return "", at, c.emptySegment(at, what)
	}
	return seg, at, nil
}

// emptySegment explains an empty segment at offset at.
func (c *cursor) emptySegment(at int, what string) error {
	if at == len(c.in) && at > len(scheme) {
		return c.fail(at-1, "trailing slash")
	}
	return c.fail(at, "empty segment where "+what+" was expected")
}

// name reads a segment that must be a plain name (no wildcard).
func (c *cursor) name(what string) (string, int, error) {
	seg, at, err := c.next(what)
	if err != nil {
		return "", at, err
	}
	if off, reason := segmentProblem(seg); reason != "" {
		return "", at, c.fail(at+off, reason)
	}
	return seg, at, nil
}

// id reads the id of resource type typ: a name, or Wildcard if it is the last segment of the
// input. The error message is built only on failure, keeping the success path lean.
func (c *cursor) id(typ string) (string, error) {
	if !c.more() {
		return "", c.fail(len(c.in), "missing id of resource type "+typ)
	}
	seg, at, err := c.next("id")
	if err != nil {
		return "", err
	}
	if seg == Wildcard && !c.more() {
		return seg, nil
	}
	if off, reason := segmentProblem(seg); reason != "" {
		return "", c.fail(at+off, reason)
	}
	return seg, nil
}

// keyword reads a segment that must equal kw exactly; quoted is kw in double quotes, for
// messages.
func (c *cursor) keyword(kw, quoted string) error {
	seg, at, err := c.name(quoted)
	if err != nil {
		return err
	}
	if seg != kw {
		return c.fail(at, "expected "+quoted)
	}
	return nil
}

// workspaceTail parses what follows "workspaces": "<ws>" and optionally
// "/regions/<r>/providers/<ns>" and the pairs.
func (c *cursor) workspaceTail(g *GRN) error {
	ws, at, err := c.name("workspace id")
	if err != nil {
		return err
	}
	canonical, err := ids.Parse(ws)
	if err != nil {
		return c.fail(at, "workspace id is not a UUID")
	}
	g.Workspace = ids.Hex(canonical)
	if !c.more() {
		return nil
	}
	if err := c.keyword("regions", `"regions"`); err != nil {
		return err
	}
	if g.Region, _, err = c.name("region"); err != nil {
		return err
	}
	if err := c.keyword("providers", `"providers"`); err != nil {
		return err
	}
	return c.providerTail(g)
}

// providerTail parses what follows "providers": "<ns>" and one to MaxPairs type/id pairs.
func (c *cursor) providerTail(g *GRN) error {
	var err error
	if g.Provider, _, err = c.name("provider namespace"); err != nil {
		return err
	}
	if !c.more() {
		return c.fail(len(c.in), "missing resource type after the provider namespace")
	}
	for c.more() {
		if len(g.Path) == MaxPairs {
			return c.fail(c.pos, fmt.Sprintf("more than %d type/id pairs", MaxPairs))
		}
		var p Pair
		if p.Type, _, err = c.name("resource type"); err != nil {
			return err
		}
		if p.ID, err = c.id(p.Type); err != nil {
			return err
		}
		g.Path = append(g.Path, p)
	}
	return nil
}

// segmentProblem returns "" if seg is a valid non-wildcard segment, otherwise the offset in
// seg of the problem and a reason.
func segmentProblem(seg string) (int, string) {
	if seg == "." || seg == ".." {
		return 0, `segment may not be "." or ".."`
	}
	for i := 0; i < len(seg); i++ {
		if reason := byteProblem(seg[i]); reason != "" {
			return i, reason
		}
	}
	return 0, ""
}

// checkName returns "" if s is a valid non-wildcard segment, otherwise a reason.
func checkName(s string) string {
	if s == "" {
		return "empty segment"
	}
	_, reason := segmentProblem(s)
	return reason
}

// byteProblem returns "" if b may appear in a segment, otherwise why not.
func byteProblem(b byte) string {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9',
		b == '-', b == '_', b == '.':
		return ""
	case b == '*':
		return `wildcard "*" is only allowed as the whole last id`
	case b == '%':
		return "percent-encoding is not allowed"
	case b == '?' || b == '#':
		return "query and fragment are not allowed"
	case b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f':
		return "whitespace is not allowed"
	case b >= 0x80:
		return "non-ASCII byte is not allowed"
	case b < 0x20 || b == 0x7f:
		return fmt.Sprintf("control byte 0x%02x is not allowed", b)
	}
	return fmt.Sprintf("character %q is not allowed", rune(b))
}
