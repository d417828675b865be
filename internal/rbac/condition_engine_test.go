package rbac

import (
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// condEngine is an engine with one permission on todo/todo and a role holding it.
func condEngine(t *testing.T) (*Engine, string, string, grn.GRN) {
	t.Helper()
	ws := ids.New()
	e := NewEngine()
	e.perms["todo.todo.update"] = &permInfo{types: []string{"todo/todo"}}
	role := ids.New()
	e.putRole(&storage.Role{ID: role, Permissions: []string{"todo.todo.update"}})
	return e, ws, role, grn.MustParse("grn:glp/workspaces/" + ids.Hex(ws) + "/regions/default/providers/todo/todo/1")
}

type fixedVars struct{ v *Vars }

func (f fixedVars) ConditionVars() *Vars { return f.v }

// TestConditionalAssignmentsInTheEngine: a conditional assignment grants only when its
// condition holds; without facts it grants nothing; a failed evaluation is recorded as unmet;
// an unconditional assignment of the same subject still grants; the condition table shares
// and frees compiled conditions.
func TestConditionalAssignmentsInTheEngine(t *testing.T) {
	e, ws, role, todo := condEngine(t)
	wsText := "grn:glp/workspaces/" + ids.Hex(ws)
	const owner = `resource.properties.ownerID == subject.attributes.email`
	a1 := &storage.Assignment{ID: ids.New(), WorkspaceID: ws, Subject: "user:u", RoleID: role, Scopes: []string{wsText}, Condition: owner}
	a2 := &storage.Assignment{ID: ids.New(), WorkspaceID: ws, Subject: "user:v", RoleID: role, Scopes: []string{wsText}, Condition: owner}
	e.putAssignment(a1)
	e.putAssignment(a2)
	if n := len(e.conds.byText); n != 1 || e.conds.ents[e.conds.byText[owner]].refs != 2 {
		t.Fatalf("condition table: %d texts", n)
	}
	w := Where{Workspace: ws}
	vars := func(ownerID string) *Facts {
		return &Facts{Source: fixedVars{&Vars{Resource: map[string]any{"properties": map[string]any{"ownerID": ownerID}},
			Subject: map[string]any{"attributes": map[string]any{"email": "u@x"}}}}}
	}
	if d := e.DecideWith(w, []string{"user:u"}, "todo.todo.update", todo, vars("u@x")); !d.Allowed || d.Condition != owner || d.AssignmentID != a1.ID {
		t.Fatalf("owner: %+v", d)
	}
	if d := e.Decide(w, []string{"user:u"}, "todo.todo.update", todo); d.Allowed {
		t.Fatalf("without facts: %+v", d)
	}
	d, why := e.ExplainWith(w, []string{"user:u"}, "todo.todo.update", todo, vars("other@x"))
	if d.Allowed || why != DenyConditionNotMet || len(d.Unmet) != 1 || d.Unmet[0].AssignmentID != a1.ID || d.Unmet[0].Err != "" {
		t.Fatalf("not owner: %+v %s", d, why)
	}
	d, why = e.ExplainWith(w, []string{"user:u"}, "todo.todo.update", todo, &Facts{})
	if d.Allowed || why != DenyConditionNotMet || len(d.Unmet) != 1 || !d.Unmet[0].Missing {
		t.Fatalf("no properties: %+v %s", d, why)
	}
	// An unconditional assignment of the same role grants whatever the condition says.
	e.putAssignment(&storage.Assignment{ID: ids.New(), WorkspaceID: ws, Subject: "user:u", RoleID: role, Scopes: []string{wsText}})
	if d := e.DecideWith(w, []string{"user:u"}, "todo.todo.update", todo, vars("other@x")); !d.Allowed || d.Condition != "" {
		t.Fatalf("unconditional beside: %+v", d)
	}
	// Another workspace's facts change nothing: the assignment counts only where it is made.
	if d := e.DecideWith(Where{Workspace: ids.New()}, []string{"user:v"}, "todo.todo.update", todo, vars("u@x")); d.Allowed {
		t.Fatalf("elsewhere: %+v", d)
	}
	e.removeAssignment(a1.ID)
	e.removeAssignment(a2.ID)
	if len(e.conds.byText) != 0 {
		t.Fatalf("condition table kept %v", e.conds.byText)
	}
	// A stored condition that does not compile grants nothing.
	bad := &storage.Assignment{ID: ids.New(), WorkspaceID: ws, Subject: "user:w", RoleID: role, Scopes: []string{wsText}, Condition: `not (valid`}
	e.putAssignment(bad)
	if d := e.DecideWith(w, []string{"user:w"}, "todo.todo.update", todo, vars("u@x")); d.Allowed {
		t.Fatalf("a condition that does not compile allowed: %+v", d)
	}
}

// TestConditionalAssignmentDoesNotReachTenants: token exchange into an MSP's tenant needs an
// assignment of the MSP that reaches it; a conditional one does not count (it grants nothing
// outside AuthZEN decisions).
func TestConditionalAssignmentDoesNotReachTenants(t *testing.T) {
	e, msp, role, _ := condEngine(t)
	tenant := ids.New()
	whole := "grn:glp/workspaces/" + ids.Hex(msp)
	e.putAssignment(&storage.Assignment{ID: ids.New(), WorkspaceID: msp, Subject: "user:c", RoleID: role, Scopes: []string{whole}, Condition: `true`})
	if e.Reaches([]string{"user:c"}, msp, tenant) {
		t.Fatal("a conditional MSP assignment reaches the tenant")
	}
	e.putAssignment(&storage.Assignment{ID: ids.New(), WorkspaceID: msp, Subject: "user:c", RoleID: role, Scopes: []string{whole}})
	if !e.Reaches([]string{"user:c"}, msp, tenant) {
		t.Fatal("an unconditional MSP assignment does not reach the tenant")
	}
}

// TestPermissionsWithConditions: the effective permissions list what a condition allows with
// the facts given, leave out what it denies, report as conditional what it could not evaluate
// for want of a property, and without facts list nothing a condition guards.
func TestPermissionsWithConditions(t *testing.T) {
	e, ws, role, todo := condEngine(t)
	e.perms["todo.todo.read"] = &permInfo{types: []string{"todo/todo"}}
	reader := ids.New()
	e.putRole(&storage.Role{ID: reader, Permissions: []string{"todo.todo.read"}})
	wsText := "grn:glp/workspaces/" + ids.Hex(ws)
	const owner = `resource.properties.ownerID == subject.attributes.email`
	e.putAssignment(&storage.Assignment{ID: ids.New(), WorkspaceID: ws, Subject: "user:u", RoleID: role, Scopes: []string{wsText}, Condition: owner})
	e.putAssignment(&storage.Assignment{ID: ids.New(), WorkspaceID: ws, Subject: "user:u", RoleID: reader, Scopes: []string{wsText}})
	w := Where{Workspace: ws}
	asked := map[string]int{}
	list := func(resource map[string]any) []Grant {
		return e.PermissionsWith(w, []string{"user:u"}, todo, func(p string) *Facts {
			asked[p]++
			return &Facts{Source: fixedVars{&Vars{Resource: resource, Subject: map[string]any{"attributes": map[string]any{"email": "u@x"}}}}}
		})
	}
	names := func(gs []Grant) (allowed, conditional []string) {
		for _, g := range gs {
			switch {
			case g.Allowed && len(g.Conditional) == 0:
				allowed = append(allowed, g.Permission)
			case !g.Allowed && len(g.Conditional) == 1 && g.Conditional[0] == owner:
				conditional = append(conditional, g.Permission)
			default:
				t.Fatalf("grant %+v", g)
			}
		}
		return allowed, conditional
	}
	if a, c := names(list(map[string]any{"properties": map[string]any{"ownerID": "u@x"}})); len(a) != 2 || a[0] != "todo.todo.read" || a[1] != "todo.todo.update" || c != nil {
		t.Fatalf("owner: allowed %v, conditional %v", a, c)
	}
	if asked["todo.todo.update"] != 1 {
		t.Fatalf("facts asked for %v", asked)
	}
	if a, c := names(list(map[string]any{"properties": map[string]any{"ownerID": "v@x"}})); len(a) != 1 || a[0] != "todo.todo.read" || c != nil {
		t.Fatalf("another owner: allowed %v, conditional %v", a, c)
	}
	if a, c := names(list(map[string]any{})); len(a) != 1 || len(c) != 1 || c[0] != "todo.todo.update" {
		t.Fatalf("no owner: allowed %v, conditional %v", a, c)
	}
	if a, c := names(e.Permissions(w, []string{"user:u"}, todo)); len(a) != 1 || a[0] != "todo.todo.read" || c != nil {
		t.Fatalf("without facts: allowed %v, conditional %v", a, c)
	}
}
