package rbac

import (
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/apperr"
)

// TestCompileConditionErrors checks that a bad condition is a 400 on the field that carried
// it, naming the position of the problem: syntax, undeclared names, types, non-boolean
// results, size and cost limits.
func TestCompileConditionErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"empty", ``, "must not be empty"},
		{"syntax", `resource.properties.ownerID ==`, "line 1, column 31"},
		{"syntax second line", "true &&\n  (resource.id ==", "line 2, column"},
		{"undeclared", `user.email == "x"`, "line 1, column 1: undeclared reference to 'user'"},
		{"type", `1 + "a" == "x"`, "line 1, column 3: found no matching overload"},
		{"not boolean", `resource.id + "x"`, "must be a boolean expression"},
		{"int result", `1 + 2`, "must be a boolean expression"},
		{"too long", strings.Repeat(`true && `, MaxConditionLength/8) + `true`, "at most 2048 bytes"},
		{"too deep", strings.Repeat("(", 40) + "true" + strings.Repeat(")", 40), "recursion limit"},
		{"cost", `subject.attributes.all(k, resource.properties.all(j, context.all(i, i + j + k == "x")))`, "the limit is 100000"},
		{"not utf8", "resource.id == \"\xff\"", "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CompileCondition("condition", c.text)
			if err == nil {
				t.Fatalf("%q compiled", c.text)
			}
			e := apperr.As(err)
			if e.Kind != apperr.BadRequest || len(e.Issues) != 1 || e.Issues[0].Subject != "condition" ||
				!strings.Contains(e.Issues[0].Description, c.want) {
				t.Fatalf("%q: %v %+v, want a 400 on condition saying %q", c.text, e.Kind, e.Issues, c.want)
			}
		})
	}
}

// TestConditionEval checks evaluation, and that every failure is false with an error: a
// missing property, a wrong type, a non-boolean value, the cost limit.
func TestConditionEval(t *testing.T) {
	owner := `resource.properties.ownerID == subject.attributes.email`
	vars := func(owner, email any) *Vars {
		return &Vars{Resource: map[string]any{"type": "todo", "properties": map[string]any{"ownerID": owner}},
			Subject: map[string]any{"attributes": map[string]any{"email": email}}}
	}
	cases := []struct {
		name, text string
		vars       *Vars
		want, err  bool
	}{
		{"owner", owner, vars("a@x", "a@x"), true, false},
		{"not owner", owner, vars("a@x", "b@x"), false, false},
		{"no properties", owner, &Vars{Subject: map[string]any{"attributes": map[string]any{"email": "a@x"}}}, false, true},
		{"no variables", owner, &Vars{}, false, true},
		{"wrong type", `resource.properties.ownerID > 3`, vars("a@x", "a@x"), false, true},
		{"has guards", `has(resource.properties) && has(resource.properties.ownerID) && resource.properties.ownerID == "a@x"`, &Vars{}, false, false},
		{"dyn not bool", `resource.properties.ownerID`, vars("a@x", "a@x"), false, true},
		{"dyn bool", `resource.properties.ownerID`, vars(true, "a@x"), true, false},
		{"context", `context.time < "2027" && action.name == "read"`, &Vars{Context: map[string]any{"time": "2026-12-06"},
			Action: map[string]any{"name": "read"}}, true, false},
		{"numbers", `context.level >= 3.0`, &Vars{Context: map[string]any{"level": float64(3)}}, true, false},
		{"lists", `"admins" in subject.attributes.groups`, &Vars{Subject: map[string]any{"attributes": map[string]any{
			"groups": []any{"users", "admins"}}}}, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cond, err := CompileCondition("condition", c.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cond.Eval(c.vars)
			if got != c.want || (err != nil) != c.err {
				t.Fatalf("Eval = %v, %v; want %v, error %v", got, err, c.want, c.err)
			}
		})
	}
}

// TestConditionCostLimit checks the limit at evaluation, behind the estimate at write time
// (which refuses this condition): the program stops at the limit on large inputs.
func TestConditionCostLimit(t *testing.T) {
	const text = `context.items.exists(x, x == "needle")`
	if _, err := CompileCondition("condition", text); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("CompileCondition(%s) = %v, want the estimated cost refused", text, err)
	}
	env, _ := conditionEnv()
	ast, iss := env.Compile(text)
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	cond, err := plan(env, ast, text)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]any, 200_000)
	for i := range items {
		items[i] = "hay"
	}
	got, err := cond.Eval(&Vars{Context: map[string]any{"items": items}})
	if got || err == nil || !strings.Contains(err.Error(), "cost limit") {
		t.Fatalf("Eval over 200000 items = %v, %v; want the cost limit", got, err)
	}
}
