package scim

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// validFilters: input and the canonical text Parse renders it back to.
var validFilters = []struct{ in, out string }{
	{`userName eq "bjensen"`, `userName eq "bjensen"`},
	{`USERNAME EQ "bjensen"`, `USERNAME eq "bjensen"`},
	{`name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
	{`urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Group:source eq "Local"`,
		`urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Group:source eq "Local"`},
	{`title pr`, `title pr`},
	{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
	{`title pr and userType eq "Employee"`, `title pr and userType eq "Employee"`},
	{`title pr or userType eq "Intern"`, `title pr or userType eq "Intern"`},
	{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`},
	{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`},
	{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`},
	{`userType eq "Employee" and (emails.type eq "work")`, `userType eq "Employee" and emails.type eq "work"`},
	{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`},
	{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`},
	{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`},
	{`active eq true`, `active eq true`},
	{`active eq FALSE`, `active eq false`},
	{`externalId eq null`, `externalId eq null`},
	{`x eq -1.5e3`, `x eq -1.5e3`},
	{`a eq "x" or b eq "y" and c eq "z"`, `a eq "x" or b eq "y" and c eq "z"`},
	{`(a eq "x" or b eq "y") and c eq "z"`, `(a eq "x" or b eq "y") and c eq "z"`},
	{`a eq "\"quoted\" \\ \u00e9"`, `a eq "\"quoted\" \\ é"`},
	{"\ta\teq\t\"x\"", `a eq "x"`},
	{`$ref eq "x"`, `$ref eq "x"`},
	{`displayName eq"x"`, `displayName eq "x"`},
}

var invalidFilters = []string{
	``, ` `, `userName`, `userName eq`, `userName eq bjensen`, `userName = "x"`, `userName eq 'x'`,
	`userName eq "x" and`, `(userName eq "x"`, `userName eq "x")`, `not userName eq "x"`,
	`emails[type eq "work"`, `emails[type eq "work"]]`, `emails[types[value eq "x"]]`,
	`emails[urn:x:y:type eq "work"]`, `emails[name.sub eq "x"]`, `name.familyName[value eq "x"]`,
	`userName eq "unterminated`, `userName eq "bad \q escape"`, `a.b.c eq "x"`, `urn::x:a eq "x"`,
	`x:a eq "x"`, `1abc eq "x"`, `userName eq 01`, `userName eq 1.`, `userName eq -`, `eq eq "x"`,
	"userName eq \"a\x00\"", "userName eq \"\xff\"", `userName eq "x" or`, `and`, `()`, `userName pr pr`,
	strings.Repeat("(", MaxDepth+1) + `a eq "x"` + strings.Repeat(")", MaxDepth+1),
	strings.Repeat(`a eq "x" or `, MaxComparisons) + `a eq "x"`,
	strings.Repeat("a", MaxLength+1),
	`userName eq "x" userName eq "y"`, `userName co 1e`, `a eq "x" !`,
}

func TestParseValid(t *testing.T) {
	for _, tc := range validFilters {
		e, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := e.String(); got != tc.out {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.out)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, in := range invalidFilters {
		if e, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, e)
		} else {
			checkError(t, in, err, TypeInvalidFilter)
		}
	}
}

func checkError(t *testing.T, in string, err error, typ string) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error for %q is %T, not *Error", in, err)
	}
	if se.Type != typ || se.Pos < 0 || se.Pos > len(in) || len(se.Reason) > 200+2*maxSnippet {
		t.Fatalf("error for %q: type %q pos %d reason %q", in, se.Type, se.Pos, se.Reason)
	}
}

const userURN = "urn:ietf:params:scim:schemas:core:2.0:User"

var testSchema = NewSchema(userURN,
	Attribute{Path: "userName", Column: "u.email", Kind: String},
	Attribute{Path: "displayName", Column: "u.display_name", Kind: String},
	Attribute{Path: "externalId", Column: "u.external_id", Kind: String, CaseExact: true},
	Attribute{Path: "name.givenName", Column: "u.first_name", Kind: String},
	Attribute{Path: "active", Column: "u.active", Kind: Bool},
	Attribute{Path: "meta.created", Column: "u.created_at", Kind: DateTime},
	Attribute{Path: "id", Column: "u.id", Kind: String, CaseExact: true, Normalize: strings.ToLower},
	Attribute{Path: "urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:User:countryCode", Column: "u.country_code", Kind: String},
	Attribute{Path: "emails", Sub: NewSchema("",
		Attribute{Path: "value", Column: "u.email", Kind: String},
		Attribute{Path: "type", Column: "'work'", Kind: String},
		Attribute{Path: "primary", Column: "TRUE", Kind: Bool})},
	Attribute{Path: "groups", Prefix: "EXISTS (SELECT 1 FROM user_group_members gm WHERE gm.user_id = u.id AND ", Suffix: ")",
		Sub: NewSchema("", Attribute{Path: "value", Column: "gm.group_id", Kind: String, CaseExact: true})},
)

func TestCompile(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		in   string
		sql  string
		args []any
	}{
		{`userName eq "Bjensen@Example.com"`, `(LOWER(u.email) = LOWER(?))`, []any{"Bjensen@Example.com"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:UserName sw "b"`, `(LOWER(u.email) LIKE LOWER(?) ESCAPE '\')`, []any{"b%"}},
		{`displayName co "50%_off\\"`, `(LOWER(u.display_name) LIKE LOWER(?) ESCAPE '\')`, []any{`%50\%\_off\\%`}},
		{`displayName ew "x"`, `(LOWER(u.display_name) LIKE LOWER(?) ESCAPE '\')`, []any{"%x"}},
		{`externalId eq "AbC"`, `(u.external_id = ?)`, []any{"AbC"}},
		{`externalId pr`, `(u.external_id IS NOT NULL AND u.external_id <> '')`, nil},
		{`externalId eq null`, `(NOT (u.external_id IS NOT NULL AND u.external_id <> ''))`, nil},
		{`active eq false and name.givenName gt "m"`, `((u.active = ?) AND (LOWER(u.first_name) > LOWER(?)))`, []any{false, "m"}},
		{`meta.created ge "2024-01-02T04:04:05+01:00"`, `(u.created_at >= ?)`, []any{at}},
		{`id eq "ABC"`, `(u.id = ?)`, []any{"abc"}},
		{`urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:User:countryCode eq "US"`, `(LOWER(u.country_code) = LOWER(?))`, []any{"US"}},
		{`emails[type eq "work" and value co "@x"]`, `(((LOWER('work') = LOWER(?)) AND (LOWER(u.email) LIKE LOWER(?) ESCAPE '\')))`, []any{"work", "%@x%"}},
		{`emails.value eq "a@b"`, `((LOWER(u.email) = LOWER(?)))`, []any{"a@b"}},
		{`groups[value eq "g1"] or not (active eq true)`,
			`((EXISTS (SELECT 1 FROM user_group_members gm WHERE gm.user_id = u.id AND (gm.group_id = ?))) OR (NOT (u.active = ?)))`, []any{"g1", true}},
		{`groups pr`, `(EXISTS (SELECT 1 FROM user_group_members gm WHERE gm.user_id = u.id AND (1 = 1)))`, nil},
	}
	for _, tc := range cases {
		p, err := testSchema.Compile(tc.in)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.in, err)
			continue
		}
		if p.SQL != tc.sql || !reflect.DeepEqual(p.Args, tc.args) {
			t.Errorf("Compile(%q) = %q %#v, want %q %#v", tc.in, p.SQL, p.Args, tc.sql, tc.args)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, in := range []string{
		`title eq "x"`, `active eq "true"`, `active gt true`, `meta.created eq "yesterday"`, `meta.created co "2024"`,
		`userName eq 1`, `userName gt null`, `emails eq "x"`, `emails[nope eq "x"]`, `name[givenName eq "x"]`,
		`urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Group:countryCode eq "US"`, `name.familyName eq "x"`,
		`userName.value eq "x"`,
	} {
		if p, err := testSchema.Compile(in); err == nil {
			t.Errorf("Compile(%q) = %q, want an error", in, p.SQL)
		} else {
			checkError(t, in, err, TypeInvalidFilter)
		}
	}
}

var validPaths = []string{
	`members`, `displayName`, `name.givenName`, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
	`emails[type eq "work"].value`, `urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Group:groupDescription`,
	`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName`, `addresses[type eq "work" and primary eq true].streetAddress`,
}

var invalidPaths = []string{
	``, `members[`, `members[value eq "x"`, `members[value eq "x"]x`, `members[value eq "x"].`, `members[value eq "x"].1`,
	`name.givenName[value eq "x"]`, `a b`, `"x"`, `members[value eq "x"].display.more`, `urn:a::b`, `and`,
	`members[value eq "x"][type eq "y"]`, `members value`, `a.b.c`,
}

func TestParsePath(t *testing.T) {
	for _, in := range validPaths {
		p, err := ParsePath(in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", in, err)
			continue
		}
		if p.String() != in {
			t.Errorf("ParsePath(%q).String() = %q", in, p.String())
		}
	}
	for _, in := range invalidPaths {
		if p, err := ParsePath(in); err == nil {
			t.Errorf("ParsePath(%q) = %v, want an error", in, p)
		} else {
			checkError(t, in, err, TypeInvalidPath)
		}
	}
	p, _ := ParsePath(`emails[type eq "work"].value`)
	if p.Attr.Name != "emails" || p.Sub != "value" {
		t.Fatalf("parsed %+v", p)
	}
}

func TestMatch(t *testing.T) {
	el := map[string]any{"value": "2819C223", "type": "work", "primary": true}
	get := func(k string) (any, bool) { v, ok := el[k]; return v, ok }
	for in, want := range map[string]bool{
		`value eq "2819c223"`: true, `value ne "2819c223"`: false, `type eq "home"`: false,
		`type eq "work" and primary eq true`: true, `not (primary eq true)`: false, `display pr`: false,
		`display eq null`: true, `display ne "x"`: true, `value sw "28"`: true, `value co "9c"`: true,
		`value ew "23"`: true, `type gt "a"`: true, `type eq "x" or value eq "2819c223"`: true,
	} {
		p, err := ParsePath("members[" + in + "]")
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := Match(p.Filter, get)
		if err != nil || got != want {
			t.Errorf("Match(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{`primary eq "true"`, `primary gt true`, `value eq true`} {
		p, _ := ParsePath("members[" + in + "]")
		if _, err := Match(p.Filter, get); err == nil {
			t.Errorf("Match(%s): want an error", in)
		}
	}
}
