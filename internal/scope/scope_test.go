package scope

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means refused
	}{
		{"glp.workspace.view", "glp.workspace.view"},
		{"glp.workspace.view glp.identity.view", "glp.identity.view glp.workspace.view"},
		{"glp.workspace.view glp.workspace.view", "glp.workspace.view"},
		{"glp.workspace.*", "glp.workspace.*"},
		{"acme-1.todo_list.read-all", "acme-1.todo_list.read-all"},
		{"", ""},
		{" glp.workspace.view", ""},
		{"glp.workspace.view ", ""},
		{"glp.workspace.view  glp.identity.view", ""},
		{"glp.workspace", ""},
		{"glp.workspace.view.x", ""},
		{"glp.*.*", ""},
		{"*", ""},
		{"glp.workspace.v*", ""},
		{"1glp.workspace.view", ""},
		{"glp..view", ""},
		{"openid", ""},
		{"glp.workspace.view\tglp.identity.view", ""},
		{"glp.wörkspace.view", ""},
		{strings.Repeat("a", 126) + ".b.c", ""},
		{strings.TrimSuffix(strings.Repeat("glp.workspace.view ", MaxItems+1), " "), ""},
		{strings.TrimSuffix(strings.Repeat("glp.workspace.view ", MaxItems), " "), "glp.workspace.view"},
		{strings.TrimSuffix(strings.Repeat("p.t.a"+strings.Repeat("b", 95)+" ", 11), " "), ""},
	} {
		s, err := Parse(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("Parse(%.40q) = %q, want an error", tc.in, s)
		case tc.want != "" && err != nil:
			t.Errorf("Parse(%.40q): %v", tc.in, err)
		case tc.want != "" && s.String() != tc.want:
			t.Errorf("Parse(%.40q) = %q, want %q", tc.in, s, tc.want)
		}
	}
}

func TestErrorNamesItem(t *testing.T) {
	_, err := Parse("glp.workspace.view openid")
	if err == nil || !strings.Contains(err.Error(), `"openid"`) {
		t.Fatalf("err = %v, want it to name openid", err)
	}
}

func TestPermits(t *testing.T) {
	var none *Set
	if !none.Permits("glp.workspace.edit") || none.String() != "" || none.Items() != nil {
		t.Fatal("the nil Set is unrestricted and empty")
	}
	s, err := Parse("glp.workspace.view acme.todo.*")
	if err != nil {
		t.Fatal(err)
	}
	for perm, want := range map[string]bool{
		"glp.workspace.view": true, "glp.workspace.edit": false, "glp.identity.view": false,
		"acme.todo.read": true, "acme.todo.delete": true, "acme.todos.read": false, "acme.todo": false,
		"acme.todo.a.b": false, "acme.todo.": false, "glp.workspace.view2": false, "": false,
	} {
		if got := s.Permits(perm); got != want {
			t.Errorf("Permits(%q) = %v, want %v", perm, got, want)
		}
	}
}

func TestCovers(t *testing.T) {
	var none *Set
	mustParse := func(v string) *Set {
		s, err := Parse(v)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	allowed := mustParse("glp.workspace.view acme.todo.*")
	for _, tc := range []struct {
		req     string
		outside string
	}{
		{"glp.workspace.view", ""},
		{"acme.todo.read acme.todo.*", ""},
		{"glp.workspace.edit", "glp.workspace.edit"},
		{"glp.workspace.*", "glp.workspace.*"},
		{"acme.todo.read glp.identity.view", "glp.identity.view"},
	} {
		got, ok := allowed.Covers(mustParse(tc.req))
		if ok != (tc.outside == "") || got != tc.outside {
			t.Errorf("Covers(%q) = %q, %v; want %q", tc.req, got, ok, tc.outside)
		}
	}
	if _, ok := none.Covers(allowed); !ok {
		t.Error("unrestricted covers everything")
	}
	if _, ok := allowed.Covers(none); ok {
		t.Error("a scope does not cover the unrestricted one")
	}
}

func TestPermitsDoesNotAllocate(t *testing.T) {
	s, _ := Parse("glp.workspace.view glp.identity.view acme.todo.*")
	if n := testing.AllocsPerRun(100, func() { s.Permits("acme.todo.read"); s.Permits("glp.identity.edit") }); n != 0 {
		t.Fatalf("Permits allocates %v times", n)
	}
}

// FuzzParse: Parse never panics; what it accepts round-trips through String, every listed
// permission is permitted, and Covers agrees with itself.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"glp.workspace.view", "glp.workspace.*", "a.b.c a.b.*", "a.b.* a.b.0", "a.b.* a.b.", "glp.workspace.view  x",
		"", " ", "a.b", "a.b.c.d", "*.*.*", "a.b.c\x00", "glp.workspace.view glp.workspace.view"} {
		f.Add(seed, "a.b.c")
	}
	f.Fuzz(func(t *testing.T, v, perm string) {
		s, err := Parse(v)
		if err != nil {
			if s != nil {
				t.Fatal("a refused value returned a Set")
			}
			return
		}
		again, err := Parse(s.String())
		if err != nil || again.String() != s.String() {
			t.Fatalf("%q does not round-trip: %q, %v", v, again, err)
		}
		for _, item := range s.Items() {
			if !strings.HasSuffix(item, Wildcard) && !s.Permits(item) {
				t.Fatalf("%q does not permit its own %q", v, item)
			}
		}
		if _, ok := s.Covers(s); !ok {
			t.Fatalf("%q does not cover itself", v)
		}
		if s.Permits(perm) {
			listed := slices.Contains(s.Items(), perm)
			for _, item := range s.Items() {
				p := strings.TrimSuffix(item, "*")
				listed = listed || strings.HasSuffix(item, Wildcard) && strings.HasPrefix(perm, p) &&
					len(perm) > len(p) && !strings.Contains(perm[len(p):], ".")
			}
			if !listed {
				t.Fatalf("%q permits %q, which it neither lists nor matches by a wildcard", v, perm)
			}
		}
	})
}
