package rbac

import (
	"encoding/json"
	"testing"

	"github.com/keyhold/keyhold/internal/apperr"
)

// fuzzConditions are conditions of every kind of access the input may meet.
var fuzzConditions = []string{
	`resource.properties.ownerID == subject.attributes.email`,
	`has(resource.properties) && has(resource.properties.ownerID) && resource.properties.ownerID == "a"`,
	`"admins" in subject.attributes.teams`,
	`context.level >= 3.0 && action.name.startsWith("can_")`,
	`resource.properties.allowed`,
	`size(context.tags) < 3`,
}

// FuzzConditionInput evaluates conditions over arbitrary JSON as request members: never a
// panic, and a value only when the evaluation succeeded (an error is always false).
func FuzzConditionInput(f *testing.F) {
	for _, seed := range []string{
		`{"properties":{"ownerID":"a"}}`, `{"properties":null}`, `{"properties":{"ownerID":1e400}}`,
		`{"level":3,"tags":[1,2,3,4]}`, `{"teams":["admins"]}`, `[]`, `"x"`, `{"properties":{"allowed":"yes"}}`,
	} {
		f.Add([]byte(seed))
	}
	conds := make([]*Condition, len(fuzzConditions))
	for i, text := range fuzzConditions {
		c, err := CompileCondition("condition", text)
		if err != nil {
			f.Fatal(err)
		}
		conds[i] = c
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			m = nil
		}
		vars := &Vars{Subject: map[string]any{"attributes": m}, Resource: m, Action: m, Context: m}
		for _, c := range conds {
			if ok, err := c.Eval(vars); ok && err != nil {
				t.Fatalf("%s: true with an error %v", c.Text, err)
			}
		}
	})
}

// FuzzCompileCondition compiles arbitrary text: never a panic, and every refusal is a 400 on
// the field.
func FuzzCompileCondition(f *testing.F) {
	for _, seed := range append(fuzzConditions, ``, `(`, `a.b.c`, `1 +`, `"\xff"`, `[1,2,3].all(x, x > 0)`,
		`resource.properties.ownerID ==`, `{"a": 1}.a == 1`) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := CompileCondition("condition", text)
		if err != nil {
			if e := apperr.As(err); e.Kind != apperr.BadRequest || len(e.Issues) != 1 || e.Issues[0].Subject != "condition" {
				t.Fatalf("%q: %v", text, err)
			}
			return
		}
		_, _ = c.Eval(&Vars{})
	})
}
