package rbac

import (
	"encoding/json"
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// rawSource builds the variables of conditions from the request's members as sent (raw
// JSON), decoding them only when asked, as the AuthZEN endpoints do.
type rawSource struct {
	resource, subjectAttrs json.RawMessage
}

func (s *rawSource) ConditionVars() *Vars {
	var res, attrs map[string]any
	_ = json.Unmarshal(s.resource, &res)
	_ = json.Unmarshal(s.subjectAttrs, &attrs)
	return &Vars{Resource: res, Subject: map[string]any{"type": "user", "id": "u", "attributes": attrs}}
}

// BenchmarkConditionalDecision measures a decision that reaches a conditional assignment
// (the owner rule), with the request's members decoded on demand and the condition
// evaluated from its compiled program: held, and not held (then an unconditional
// assignment of the same subject is not there to allow it).
func BenchmarkConditionalDecision(b *testing.B) {
	ws := ids.New()
	wsText := "grn:glp/workspaces/" + ids.Hex(ws)
	e := NewEngine()
	e.perms["todo.todo.update"] = &permInfo{types: []string{"todo/todo"}}
	role := ids.New()
	e.putRole(&storage.Role{ID: role, Permissions: []string{"todo.todo.update"}})
	e.putAssignment(&storage.Assignment{ID: ids.New(), WorkspaceID: ws, Subject: "user:u", RoleID: role,
		Scopes: []string{wsText}, Condition: `resource.properties.ownerID == subject.attributes.email`})
	todo := grn.MustParse(wsText + "/regions/default/providers/todo/todo/1")
	w := Where{Workspace: ws}
	principals := []string{"user:u"}
	for _, c := range []struct {
		name  string
		owner string
		want  bool
	}{{"held", "morty@example.test", true}, {"not-held", "rick@example.test", false}} {
		src := &rawSource{resource: json.RawMessage(`{"type":"todo","id":"1","properties":{"ownerID":"` + c.owner + `"}}`),
			subjectAttrs: json.RawMessage(`{"email":"morty@example.test","externalId":"sub-1"}`)}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f := Facts{Source: src}
				if e.DecideWith(w, principals, "todo.todo.update", todo, &f).Allowed != c.want {
					b.Fatal("wrong decision")
				}
			}
		})
	}
}
