package scim

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, tc := range validFilters {
		f.Add(tc.in)
	}
	for _, in := range invalidFilters {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			checkError(t, in, err, TypeInvalidFilter)
			return
		}
		// The canonical text parses back to itself.
		text := e.String()
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its rendering %q fails: %v", in, text, err)
		}
		if again.String() != text {
			t.Fatalf("rendering is not stable: %q -> %q -> %q", in, text, again.String())
		}
	})
}

// sqlToken is what compiled SQL may consist of once the schema's own strings are removed.
var sqlToken = regexp.MustCompile(`^(\(|\)|AND|OR|NOT|LIKE|ESCAPE|'\\'|LOWER|IS|NULL|\?|=|<>|<|<=|>|>=|''|1|\s)+$`)

func FuzzCompile(f *testing.F) {
	for _, tc := range validFilters {
		f.Add(tc.in)
	}
	for _, in := range []string{`userName eq "x"`, `emails[type eq "work" and value co "@x"]`, `groups[value eq "'; DROP TABLE users; --"]`,
		`displayName co "%_\\"`, `active eq true or meta.created lt "2020-01-01T00:00:00Z"`, `externalId eq null`} {
		f.Add(in)
	}
	var fixed []string
	var collect func(s *Schema)
	collect = func(s *Schema) {
		for _, a := range s.attrs {
			for _, x := range []string{a.Column, a.Prefix, a.Suffix} {
				if x != "" {
					fixed = append(fixed, x)
				}
			}
			if a.Sub != nil {
				collect(a.Sub)
			}
		}
	}
	collect(testSchema)
	sort.Slice(fixed, func(i, j int) bool { return len(fixed[i]) > len(fixed[j]) }) // longest first
	f.Fuzz(func(t *testing.T, in string) {
		p, err := testSchema.Compile(in)
		if err != nil {
			checkError(t, in, err, TypeInvalidFilter)
			return
		}
		if n := strings.Count(p.SQL, "?"); n != len(p.Args) {
			t.Fatalf("%q: %d placeholders, %d args", in, n, len(p.Args))
		}
		rest := p.SQL
		for _, x := range fixed {
			rest = strings.ReplaceAll(rest, x, " ")
		}
		if !sqlToken.MatchString(rest) {
			t.Fatalf("%q compiled to SQL with foreign text: %q (left %q)", in, p.SQL, rest)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, in := range validPaths {
		f.Add(in)
	}
	for _, in := range invalidPaths {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePath(in)
		if err != nil {
			checkError(t, in, err, TypeInvalidPath)
			return
		}
		again, err := ParsePath(p.String())
		if err != nil || again.String() != p.String() {
			t.Fatalf("ParsePath(%q) renders %q, which parses to %v, %v", in, p.String(), again, err)
		}
	})
}
