package odata

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

type validCase struct {
	filter string
	sql    string
	args   []any
	rows   []string // test rows selected in memory, sorted
}

var validCases = []validCase{
	{"", "", nil, []string{"r1", "r2", "r3", "r4", "r5"}},
	{" \t ", "", nil, []string{"r1", "r2", "r3", "r4", "r5"}},
	{"tenantId eq '0192F3A45B6C7D8E9FABCDEF01234567'", "(c.tenant_id = ?)", []any{u1}, []string{"r1", "r3"}},
	{"tenantId ne '" + u1 + "'", "(c.tenant_id <> ?)", []any{u1}, []string{"r2", "r4", "r5"}},
	{"tenantId in ('" + u1 + "', '0192f3a45b6c7d8e9fabcdef01234569')", "(c.tenant_id IN (?, ?))", []any{u1, u3}, []string{"r1", "r3", "r4"}},
	{"credentialName gt 'beta'", "(c.name > ?)", []any{"beta"}, []string{"r3", "r4"}},
	{"credentialName ge 'beta'", "(c.name >= ?)", []any{"beta"}, []string{"r2", "r3", "r4"}},
	{"credentialName lt 'beta'", "(c.name < ?)", []any{"beta"}, []string{"r1", "r5"}},
	{"credentialName le 'alpha'", "(c.name <= ?)", []any{"alpha"}, []string{"r1", "r5"}},
	{"credentialName eq 'O''Brien'", "(c.name = ?)", []any{"O'Brien"}, []string{"r5"}},
	{"credentialName in ('alpha','delta')", "(c.name IN (?, ?))", []any{"alpha", "delta"}, []string{"r1", "r4"}},
	{"description eq null", "(c.description IS NULL)", nil, []string{"r1", "r5"}},
	{"description ne null", "(c.description IS NOT NULL)", nil, []string{"r2", "r3", "r4"}},
	{"description ne 'x'", "(c.description <> ?)", []any{"x"}, []string{"r2", "r3"}},
	{"not description eq 'x'", "(NOT (c.description = ?))", []any{"x"}, []string{"r2", "r3"}},
	{"description eq ''", "(c.description = ?)", []any{""}, []string{"r3"}},
	{"count ge 2 and count lt 10", "((c.use_count >= ?) AND (c.use_count < ?))", []any{int64(2), int64(10)}, []string{"r2", "r3"}},
	{"count in (0, 3, 10)", "(c.use_count IN (?, ?, ?))", []any{int64(0), int64(3), int64(10)}, []string{"r3", "r4", "r5"}},
	{"score gt 0.5", "(c.score > ?)", []any{0.5}, []string{"r2", "r3"}},
	{"score le -1", "(c.score <= ?)", []any{int64(-1)}, []string{"r4"}},
	{"score ge -0.25", "(c.score >= ?)", []any{-0.25}, []string{"r1", "r2", "r3", "r5"}},
	{"enabled eq true", "(c.enabled = ?)", []any{true}, []string{"r1", "r3", "r5"}},
	{"enabled ne true and count gt 0", "((c.enabled <> ?) AND (c.use_count > ?))", []any{true, int64(0)}, []string{"r2", "r4"}},
	{"createdAt gt 2024-01-02T03:04:05+02:00", "(c.created_at > ?)", []any{ts("2024-01-02T01:04:05Z")}, []string{"r2", "r3"}},
	{"createdAt ge '2024-01-02T01:04:05Z'", "(c.created_at >= ?)", []any{ts("2024-01-02T01:04:05Z")}, []string{"r2", "r3", "r5"}},
	{"createdAt lt 2024-01-01T00:00:00.5-01:00", "(c.created_at < ?)", []any{ts("2024-01-01T01:00:00.5Z")}, []string{"r1", "r4"}},
	{"associatedTenant/resourceUri eq '/tenants/1'", "(c.assoc_uri = ?)", []any{"/tenants/1"}, []string{"r1", "r4"}},
	{"associatedTenant/resourceUri ne '/tenants/1'", "(c.assoc_uri <> ?)", []any{"/tenants/1"}, []string{"r2", "r5"}},
	{"'read' in scopes", "(" + scopeMember + ")", []any{"read"}, []string{"r1", "r2"}},
	{"not 'read' in scopes", "(NOT (" + scopeMember + "))", []any{"read"}, []string{"r3", "r4", "r5"}},
	{"'admin' in scopes or associatedTenant/resourceUri in ('/tenants/3')",
		"((" + scopeMember + ") OR (c.assoc_uri IN (?)))", []any{"admin", "/tenants/3"}, []string{"r4", "r5"}},
	// and binds tighter than or: enabled OR (count=2 AND count=10).
	{"enabled eq true or count eq 2 and count eq 10", "((c.enabled = ?) OR ((c.use_count = ?) AND (c.use_count = ?)))",
		[]any{true, int64(2), int64(10)}, []string{"r1", "r3", "r5"}},
	{"(enabled eq true or count eq 2) and count lt 3", "(((c.enabled = ?) OR (c.use_count = ?)) AND (c.use_count < ?))",
		[]any{true, int64(2), int64(3)}, []string{"r1", "r2", "r5"}},
	{"count eq 1 or count eq 2 or count eq 3", "(((c.use_count = ?) OR (c.use_count = ?)) OR (c.use_count = ?))",
		[]any{int64(1), int64(2), int64(3)}, []string{"r1", "r2", "r3"}},
	{"not (enabled eq true or count eq 10)", "(NOT ((c.enabled = ?) OR (c.use_count = ?)))", []any{true, int64(10)}, []string{"r2"}},
	// not binds tighter than and.
	{"not enabled eq true and count gt 1", "((NOT (c.enabled = ?)) AND (c.use_count > ?))", []any{true, int64(1)}, []string{"r2", "r4"}},
	{"count GT 1 AND enabled Eq FALSE", "((c.use_count > ?) AND (c.enabled = ?))", []any{int64(1), false}, []string{"r2", "r4"}},
	{"  count\teq   1  ", "(c.use_count = ?)", []any{int64(1)}, []string{"r1"}},
	{"((count eq 1))", "(c.use_count = ?)", []any{int64(1)}, []string{"r1"}},
	{"not(count eq 1)and(count lt 3)", "((NOT (c.use_count = ?)) AND (c.use_count < ?))", []any{int64(1), int64(3)}, []string{"r2", "r5"}},
	// Found by fuzzing.
	{"count in(0,3,10)", "(c.use_count IN (?, ?, ?))", []any{int64(0), int64(3), int64(10)}, []string{"r3", "r4", "r5"}},
	{"count in(0.0)", "(c.use_count IN (?))", []any{0.0}, []string{"r5"}},
	{"count ge 2 And count lt 011", "((c.use_count >= ?) AND (c.use_count < ?))", []any{int64(2), int64(11)}, []string{"r2", "r3", "r4"}},
	{"not not description eq ''", "(NOT (NOT (c.description = ?)))", []any{""}, []string{"r3"}},
	{"(count eq 0\t\t\t\t)", "(c.use_count = ?)", []any{int64(0)}, []string{"r5"}},
	// SQL-looking text inside a string is only ever a bound value.
	{"credentialName eq 'x'' OR ''1''=''1'", "(c.name = ?)", []any{"x' OR '1'='1"}, nil},
	{"credentialName eq 'Robert''); DROP TABLE credentials;--'", "(c.name = ?)", []any{"Robert'); DROP TABLE credentials;--"}, nil},
	{"credentialName eq 'Zoë ☃'", "(c.name = ?)", []any{"Zoë ☃"}, nil},
}

func TestCompileValid(t *testing.T) {
	for _, tc := range validCases {
		p, err := testSchema.Compile(tc.filter)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.filter, err)
			continue
		}
		if p.SQL != tc.sql || !argsEqual(p.Args, tc.args) {
			t.Errorf("Compile(%q) =\n  %q %#v\nwant\n  %q %#v", tc.filter, p.SQL, p.Args, tc.sql, tc.args)
		}
		if err := checkSQL(testSchema, p.SQL, len(p.Args)); err != nil {
			t.Errorf("Compile(%q): %v", tc.filter, err)
		}
		for _, a := range p.Args {
			if tm, ok := a.(time.Time); ok && tm.Location() != time.UTC {
				t.Errorf("Compile(%q): time arg %v not in UTC", tc.filter, tm)
			}
		}
	}
}

func TestMatchValid(t *testing.T) {
	for _, tc := range validCases {
		e, err := Parse(tc.filter)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.filter, err)
			continue
		}
		got, err := matching(e)
		if err != nil || !slices.Equal(got, tc.rows) {
			t.Errorf("Match(%q) selected %v, %v; want %v", tc.filter, got, err, tc.rows)
		}
	}
}

func argsEqual(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		ta, ok1 := a[i].(time.Time)
		tb, ok2 := b[i].(time.Time)
		if ok1 && ok2 {
			if !ta.Equal(tb) {
				return false
			}
		} else if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestParseString(t *testing.T) {
	cases := map[string]string{
		"a eq 1 or b eq 2 and c eq 3":        "a eq 1 or b eq 2 and c eq 3",
		"(a eq 1 or b eq 2) and c eq 3":      "(a eq 1 or b eq 2) and c eq 3",
		"a eq 1 or (b eq 2 or c eq 3)":       "a eq 1 or (b eq 2 or c eq 3)",
		"((a eq 1))":                         "a eq 1",
		"NOT (a EQ 'x''y')":                  "not a eq 'x''y'",
		"not (a eq 1 and b eq 2)":            "not (a eq 1 and b eq 2)",
		"a in ( 1 , 2.50 , -3 )":             "a in (1,2.5,-3)",
		"x eq 1.0":                           "x eq 1.0",
		"t gt 2024-01-02T03:04:05.100+02:00": "t gt 2024-01-02T01:04:05.1Z",
		"'v' in a/b":                         "'v' in a/b",
		"x eq null or y ne true":             "x eq null or y ne true",
	}
	for in, want := range cases {
		e, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := e.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", in, got, want)
		}
	}
}

func TestMatchRowTypeError(t *testing.T) {
	e, _ := Parse("count eq 1")
	_, err := testSchema.Match(e, func(string) any { return "one" })
	if err == nil || !strings.Contains(err.Error(), `"count"`) {
		t.Errorf("Match with string row value for a number: %v", err)
	}
}

func TestNewSchemaPanics(t *testing.T) {
	bad := [][]Property{
		{{Name: "a", Column: "x", Kind: String, Ops: []Op{Eq}}, {Name: "a", Column: "y", Kind: String, Ops: []Op{Eq}}},
		{{Name: "a b", Column: "x", Kind: String, Ops: []Op{Eq}}},
		{{Name: "and", Column: "x", Kind: String, Ops: []Op{Eq}}},
		{{Name: "a", Column: "", Kind: String, Ops: []Op{Eq}}},
		{{Name: "a", Column: "x = ?", Kind: String, Ops: []Op{Eq}}},
		{{Name: "a", Column: "x", Kind: String, Ops: []Op{Has}}},
		{{Name: "a", Column: "x", Kind: String}},
		{{Name: "a", Kind: StringArray, Ops: []Op{Has}, ArrayMember: "x = 1"}},
		{{Name: "a", Kind: StringArray, Ops: []Op{Eq}, ArrayMember: "x = ?"}},
	}
	for i, props := range bad {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("case %d: NewSchema did not panic", i)
				}
			}()
			NewSchema(props...)
		}()
	}
}

func BenchmarkCompile(b *testing.B) {
	const filter = "tenantId eq '" + u1 + "' and (credentialName in ('alpha','beta','gamma') or " +
		"createdAt gt 2024-01-02T03:04:05Z) and not enabled eq false and 'read' in scopes"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := testSchema.Compile(filter); err != nil {
			b.Fatal(err)
		}
	}
}

func TestHandBuiltExpr(t *testing.T) {
	count := Ident{Name: "count"}
	bad := []Expr{
		&InList{Property: count},
		&Compare{Property: count, Op: In, Value: Literal{Value: int64(1)}},
		&Compare{Property: count, Op: Eq, Value: Literal{Value: []byte("x")}},
	}
	for _, e := range bad {
		if p, err := testSchema.CompileExpr(e); err == nil {
			t.Errorf("CompileExpr(%#v) = %q, want error", e, p.SQL)
		}
	}
	good := &And{Left: &Compare{Property: count, Op: Gt, Value: Literal{Value: int64(1)}},
		Right: &Member{Value: Literal{Value: "read"}, Property: Ident{Name: "scopes"}}}
	got, err := matching(good)
	if err != nil || !slices.Equal(got, []string{"r2"}) {
		t.Errorf("Match(%s) = %v, %v; want [r2]", good, got, err)
	}
	if p, err := testSchema.CompileExpr(nil); err != nil || p.SQL != "" {
		t.Errorf("CompileExpr(nil) = %q, %v", p.SQL, err)
	}
}
