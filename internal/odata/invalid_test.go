package odata

import (
	"errors"
	"strings"
	"testing"
)

type invalidCase struct {
	filter string
	substr string // expected in Error()
	prop   string // expected Error.Property
	op     string // expected Error.Operator
	pos    int    // expected Error.Pos
}

func nested(depth int) string {
	return strings.Repeat("(", depth) + "count eq 1" + strings.Repeat(")", depth)
}

func inItems(n int) string {
	return "count in (" + strings.TrimSuffix(strings.Repeat("1,", n), ",") + ")"
}

func comparisons(n int) string {
	return strings.TrimSuffix(strings.Repeat("count eq 1 or ", n), " or ")
}

var invalidCases = []invalidCase{
	{"foo eq 1", `unknown property "foo" at position 0; allowed: tenantId, credentialName, description, count`, "foo", "", 0},
	{"count lt 2 or foo/bar eq 1", `unknown property "foo/bar" at position 14`, "foo/bar", "", 14},
	{"tenantId gt '" + u1 + "'", `operator "gt" is not allowed for property "tenantId" at position 9; allowed: eq, ne, in`, "tenantId", "gt", 9},
	{"description in ('a')", `operator "in" is not allowed for property "description"`, "description", "in", 12},
	{"enabled eq 'yes'", `property "enabled" expects a boolean at position 11, found a string`, "enabled", "eq", 11},
	{"count eq 'ten'", `property "count" expects a number at position 9, found a string`, "count", "eq", 9},
	{"credentialName eq 5", `property "credentialName" expects a string at position 18, found a number`, "credentialName", "eq", 18},
	{"credentialName eq true", `expects a string at position 18, found a boolean`, "credentialName", "eq", 18},
	{"enabled eq 2024-01-01T00:00:00Z", `expects a boolean at position 11, found a date-time`, "enabled", "eq", 11},
	{"createdAt gt 'yesterday'", `property "createdAt" expects an RFC 3339 date-time at position 13, got "yesterday"`, "createdAt", "gt", 13},
	{"tenantId eq 'not-a-uuid'", `property "tenantId" expects a UUID at position 12, got "not-a-uuid"`, "tenantId", "eq", 12},
	{"tenantId in ('" + u1 + "', 'bad')", `property "tenantId" expects a UUID at position 53, got "bad"`, "tenantId", "in", 53},
	{"tenantId eq " + u1, `invalid literal "0192f3a4-5b6c-7d8e-9fab-cdef01234567" at position 12; expected a number or an RFC 3339 date-time (strings must be single-quoted)`, "", "", 12},
	{"credentialName eq 'abc", `unterminated string starting at position 18`, "", "", 18},
	{"credentialName eq", `expected a literal after "eq" at position 17, found end of input`, "", "", 17},
	{"credentialName eq and", `expected a literal after "eq" at position 18, found "and"`, "", "", 18},
	{"credentialName eq 'a' credentialName eq 'b'", `expected "and", "or" or end of input at position 22, found "credentialName"`, "", "", 22},
	{"(count eq 1", `unbalanced "(" at position 0 is never closed`, "", "", 0},
	{"count eq 1)", `unbalanced ")" at position 10`, "", "", 10},
	{"count eq 1 or (credentialName eq 'x' count eq 2)", `expected "and", "or" or ")" at position 37, found "count"`, "", "", 37},
	{"count in ()", `empty "in" list at position 10; expected 1 to 100 literals`, "", "", 10},
	{"count in 1", `expected "(" after "in" at position 9, found "1"`, "", "", 9},
	{"count in (1 2)", `expected "," or ")" at position 12, found "2"`, "", "", 12},
	{"count in (1,", `expected a literal after "," at position 12, found end of input`, "", "", 12},
	{inItems(101), `"in" list has more than 100 items at position 210`, "", "", 210},
	{nested(17), `nests deeper than 16 levels of parentheses and not at position 16`, "", "", 16},
	{strings.Repeat("not ", 17) + "count eq 1", `nests deeper than 16 levels`, "", "", 64},
	{comparisons(65), `more than 64 comparisons; the one at position 896 is one too many`, "", "", 896},
	{"count eq 1 or " + strings.Repeat(" ", 2035), `filter is 2049 bytes long; at most 2048 are allowed`, "", "", 2048},
	{"eq 1", `expected a property name at position 0, found "eq"`, "", "", 0},
	{"'x'", `expected "in" (a string can only start 'value' in arrayProperty) at position 3, found end of input`, "", "", 3},
	{"5", `expected a property name at position 0, found "5"`, "", "", 0},
	{"true", `expected a property name at position 0, found "true"`, "", "", 0},
	{"count", `expected an operator (eq, ne, gt, ge, lt, le, in) at position 5, found end of input`, "", "", 5},
	{"count eq 1 and", `expected a property name after "and" at position 14, found end of input`, "", "", 14},
	{"count eq 1 and and count eq 2", `expected a property name after "and" at position 15, found "and"`, "", "", 15},
	{"not", `expected a property name after "not" at position 3, found end of input`, "", "", 3},
	{"()", `expected a property name after "(" at position 1, found ")"`, "", "", 1},
	{"count eq '\xff'", `invalid UTF-8 byte at position 10`, "", "", 10},
	{"count eq 1\x00", `control character U+0000 at position 10`, "", "", 10},
	{"count eq 1\nor count eq 2", `control character U+000A at position 10`, "", "", 10},
	{"credentialName eq '' or 1=1 --'", `expected a property name after "or" at position 24, found "1"`, "", "", 24},
	{"credentialName eq 'a'; DROP TABLE c", `unexpected character ';' at position 21`, "", "", 21},
	{"credentialName eq 'a' or c.name eq 'b'", `unexpected character '.' at position 26`, "", "", 26},
	{`"credentialName eq 'a'"`, `the filter is wrapped in quotes; send the expression without the surrounding " characters`, "", "", 0},
	{"'count eq 1'", `the filter is wrapped in quotes`, "", "", 0},
	{"'credentialName eq ''a'''", `the filter is wrapped in quotes`, "", "", 0},
	{`credentialName eq "a"`, `unexpected '"' at position 18; strings use single quotes`, "", "", 18},
	{"credentialName = 'a'", `unexpected '=' at position 15; comparison operators are eq, ne, gt, ge, lt, le`, "", "", 15},
	{"count eq 1 && count eq 2", `unexpected '&' at position 11; logical operators are and, or, not`, "", "", 11},
	{"credentialName eq 'a'and count eq 1", `expected a space before position 21`, "", "", 21},
	{"count gt null", `null at position 9 can only be compared with eq or ne`, "count", "gt", 9},
	{"count in (1, null)", `null at position 13 can only be compared with eq or ne`, "count", "in", 13},
	{"scopes eq 'read'", `property "scopes" is an array: write 'value' in scopes instead of operator "eq" at position 7`, "scopes", "eq", 7},
	{"'read' in credentialName", `property "credentialName" is not an array, so 'value' in credentialName is not allowed at position 7`, "credentialName", "in", 7},
	{"'read' in ('a')", `expected an array property name after "in" at position 10, found "("`, "", "", 10},
	{"count eq 99999999999999999999", `number "99999999999999999999" at position 9 is out of range`, "", "", 9},
	{"count eq 1.", `invalid literal "1." at position 9`, "", "", 9},
	{"count eq -", `invalid literal "-" at position 9`, "", "", 9},
	{"createdAt gt 2024-13-01T00:00:00Z", `invalid literal "2024-13-01T00:00:00Z" at position 13`, "", "", 13},
	{"associatedTenant/ eq 'x'", `incomplete property path: expected a name after "/" at position 17`, "", "", 17},
	// Found by fuzzing.
	{"'\t\t'", `expected "in" (a string can only start 'value' in arrayProperty) at position 4`, "", "", 4},
	{"''", `expected "in" (a string can only start 'value' in arrayProperty) at position 2`, "", "", 2},
	{"\"\x00\"", `control character U+0000 at position 1`, "", "", 1},
	{"'A'0''", `expected a space before position 3`, "", "", 3},
	{"(A eq 0)0", `expected "and", "or" or end of input at position 8, found "0"`, "", "", 8},
	{"tenantId in('000000000000000000000000000000000000')", `expects a UUID at position 12`, "tenantId", "in", 12},
	{"A0000000000000000000000000000000000000000 ne ''", `unknown property "A000000000000000000000000000000000000000"... at position 0`,
		"A000000000000000000000000000000000000000", "", 0},
	{"A '" + strings.Repeat("\"", 60) + "'", `found "'` + strings.Repeat(`\"`, 19) + `"...`, "", "", 2},
	{"\u05ff eq 1", `unexpected character '\u05ff' at position 0`, "", "", 0},
	{"count not eq 1", `expected an operator (eq, ne, gt, ge, lt, le, in) at position 6, found "not"`, "", "", 6},
}

func TestCompileInvalid(t *testing.T) {
	for _, tc := range invalidCases {
		p, err := testSchema.Compile(tc.filter)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Compile(%.60q) = %q, %v; want *Error", tc.filter, p.SQL, err)
			continue
		}
		if !strings.HasPrefix(fe.Error(), "filter: ") || !strings.Contains(fe.Error(), tc.substr) {
			t.Errorf("Compile(%.60q) error\n  %s\nwant substring\n  %s", tc.filter, fe, tc.substr)
		}
		if fe.Property != tc.prop || fe.Operator != tc.op || fe.Pos != tc.pos {
			t.Errorf("Compile(%.60q) error %s: property %q operator %q pos %d; want %q %q %d",
				tc.filter, fe, fe.Property, fe.Operator, fe.Pos, tc.prop, tc.op, tc.pos)
		}
		if p.SQL != "" || p.Args != nil {
			t.Errorf("Compile(%.60q) returned a predicate with its error", tc.filter)
		}
		checkEcho(t, tc.filter, fe)
	}
}

// checkEcho asserts the message quotes no more than maxSnippet bytes of input in one piece,
// ignoring the schema-fixed list of allowed properties.
func checkEcho(t *testing.T, input string, e *Error) {
	t.Helper()
	msg, _, _ := strings.Cut(e.Reason, "; allowed: ")
	if len(msg) > 200 || len(e.Property) > maxSnippet {
		t.Errorf("error for %.60q is too long: %d bytes: %s", input, len(msg), msg)
	}
}

func TestErrorEchoIsBounded(t *testing.T) {
	long := strings.Repeat("z", 500)
	inputs := []string{long + " eq 1", "credentialName eq " + long, "'" + long + "' in credentialName",
		"tenantId eq '" + long + "'", "count eq 1 " + long, "createdAt gt '" + long + "'"}
	for _, in := range inputs {
		_, err := testSchema.Compile(in)
		if err == nil {
			t.Fatalf("Compile(%.60q) succeeded", in)
		}
		if strings.Contains(err.Error(), strings.Repeat("z", maxSnippet+1)) {
			t.Errorf("error echoes more than %d bytes of input: %s", maxSnippet, err)
		}
		checkEcho(t, in, err.(*Error))
	}
}

func TestNoInputInSQL(t *testing.T) {
	attacks := []string{
		"credentialName eq '' or 1=1 --'",
		"credentialName eq 'a'') OR 1=1 --'",
		"credentialName in ('a', 'b'')); DELETE FROM c; --')",
		"'x'') OR (1=1' in scopes",
		"description eq 'NULL' or description ne 'IS NULL'",
	}
	for _, in := range attacks {
		p, err := testSchema.Compile(in)
		if err != nil {
			continue // rejecting is fine
		}
		if err := checkSQL(testSchema, p.SQL, len(p.Args)); err != nil {
			t.Errorf("Compile(%q): %v (SQL %q)", in, err, p.SQL)
		}
		for _, frag := range []string{"1=1", "DELETE", "--", "'"} {
			if strings.Contains(p.SQL, frag) {
				t.Errorf("Compile(%q) SQL %q contains %q", in, p.SQL, frag)
			}
		}
	}
}
