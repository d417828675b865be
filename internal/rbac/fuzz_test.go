package rbac_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
)

// FuzzDecide feeds arbitrary decision requests (where, principals, permission, resource text)
// to an engine holding the group fixture. Whatever the input, Decide must not panic; a denial
// carries no details; an allowance names one of the principals asked about (or a group of
// one of them), a scope that parses and covers the resource, an assignment made where the
// decision is made, and agrees with Explain and with the effective permissions.
func FuzzDecide(f *testing.F) {
	for _, tc := range append(decisionTable(), groupDecisionTable()...) {
		f.Add(wsA, strings.Join(tc.principals, " "), tc.perm, tc.resource)
		f.Add(wsB, strings.Join(tc.principals, " "), tc.perm, tc.resource)
	}
	f.Add(wsA, "user:"+userScoped, permView, res(wsA, "nics/*"))
	f.Add("", "user-group:"+groupOps+" user:"+userInGroup, "glp.workspace.view", "grn:glp/workspaces/"+hex(wsA))
	// Built once, outside the fuzz function: its temporary directory is then named after the
	// target, whereas a seed's contains '#', which the SQLite DSN would read as a fragment.
	fx := groupFixture(f)
	fuzzEngine := fx.eng
	f.Fuzz(func(t *testing.T, ws, who, permission, resource string) {
		w := rbac.Where{Workspace: ws}
		principals := strings.Fields(who)
		if len(principals) > 8 {
			principals = principals[:8]
		}
		r, err := grn.Parse(resource)
		if err != nil {
			r = grn.GRN{}
		}
		d := fuzzEngine.Decide(w, principals, permission, r)
		e, why := fuzzEngine.Explain(w, principals, permission, r)
		if !reflect.DeepEqual(d, e) || (d.Allowed == (why != "")) {
			t.Fatalf("Decide %+v and Explain %+v (%q) disagree", d, e, why)
		}
		if !d.Allowed {
			if !reflect.DeepEqual(d, rbac.Decision{}) {
				t.Fatalf("a denial carries details: %+v", d)
			}
			return
		}
		asked := slices.Contains(principals, d.Principal)
		if d.Via != "" {
			asked = slices.Contains(principals, d.Via) && slices.Contains(fuzzEngine.GroupsOf(d.Via), d.Principal)
		}
		if !asked {
			t.Fatalf("allowed through %s (via %q), not one of %v", d.Principal, d.Via, principals)
		}
		if _, _, err := principal.Parse(d.Principal); err != nil {
			t.Fatalf("allowed through a malformed principal %q", d.Principal)
		}
		s, err := grn.Parse(d.Scope)
		if err != nil || !s.Covers(r) {
			t.Fatalf("allowed by scope %q, which does not cover %s (%v)", d.Scope, r, err)
		}
		held := false
		if a, err := fx.store.GetAssignment(context.Background(), d.AssignmentID); err != nil || a.WorkspaceID != ws {
			t.Fatalf("allowed in %q by assignment %s, made elsewhere (%v)", ws, d.AssignmentID, err)
		}
		for _, g := range fuzzEngine.Permissions(w, principals, r) {
			held = held || g.Permission == permission
		}
		if !held {
			t.Fatalf("%s allowed but not among the effective permissions", permission)
		}
	})
}
