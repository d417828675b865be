package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/client"
)

func TestAuthZEN(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	registerService(t, w.admin)
	ws := w.e.Admin.WorkspaceID
	server1 := wsGRN(ws) + "/regions/default/providers/svc/servers/1"
	r := must[*client.Role](t)(w.admin.CreateRole(ctx, client.RoleInput{Name: "svc-all",
		Permissions: []string{"svc.servers.read", "svc.servers.write"}}))
	uid := must[string](t)(w.admin.AddUser(ctx, "reader@example.test"))
	must[*client.Assignment](t)(w.admin.CreateAssignment(ctx, client.AssignmentInput{Subject: client.UserSubject(uid),
		Role: r.GRN, Scope: []string{server1}}))
	user := &client.Subject{Type: "user", ID: "reader@example.test"}

	d := must[*client.Decision](t)(w.admin.Evaluate(ctx, client.Evaluation{Subject: user,
		Action: &client.Action{Name: "read"}, Resource: &client.Resource{Type: "svc/servers", ID: "1"}}, nil))
	if !d.Decision {
		t.Fatalf("denied %+v", d)
	}
	d = must[*client.Decision](t)(w.admin.Evaluate(ctx, client.Evaluation{Subject: user,
		Action: &client.Action{Name: "read"}, Resource: &client.Resource{Type: "svc/servers", ID: "2"}},
		&client.AuthZENOptions{Explain: true, PDP: client.WorkspacePDP(ws)}))
	if d.Decision || d.ReasonCode() != "no_matching_assignment" {
		t.Fatalf("decision %+v", d)
	}
	ds := must[[]client.Decision](t)(w.admin.EvaluateBatch(ctx, client.Evaluations{
		Evaluation: client.Evaluation{Subject: user, Resource: &client.Resource{Type: "svc/servers", ID: "1"}},
		Items:      []client.Evaluation{{Action: &client.Action{Name: "read"}}, {Action: &client.Action{Name: "nope"}}},
	}, &client.AuthZENOptions{PDP: client.ProviderPDP(ws, "svc")}))
	if len(ds) != 2 || !ds[0].Decision || ds[1].Decision {
		t.Fatalf("batch %+v", ds)
	}
	// Action search, one result a page: both permissions, in name order, with reasons.
	acts := collect(t, w.admin.SearchAll(ctx, client.SearchActions, client.Search{Subject: user,
		Resource: &client.Resource{Type: "svc/servers", ID: server1}, PageSize: 1}, &client.AuthZENOptions{Explain: true}))
	if len(acts) != 2 || acts[0].Name != "svc.servers.read" || acts[1].Name != "svc.servers.write" || acts[0].Properties["reason"] == nil {
		t.Fatalf("actions %+v", acts)
	}
	subs := collect(t, w.admin.SearchAll(ctx, client.SearchSubjects, client.Search{Subject: &client.Subject{Type: "user"},
		Action: &client.Action{Name: "svc.servers.read"}, Resource: &client.Resource{Type: "svc/servers", ID: server1}}, nil))
	found := false
	for _, s := range subs {
		found = found || s.ID == uid
	}
	if !found {
		t.Fatalf("subjects %+v lack %s", subs, uid)
	}
	p := must[*client.SearchPage](t)(w.admin.SearchPageOf(ctx, client.SearchResources, client.Search{Subject: user,
		Action: &client.Action{Name: "svc.servers.read"}, Resource: &client.Resource{Type: "svc/servers"}}, "", nil))
	if len(p.Results) != 1 || p.Results[0].ID != server1 || p.Page.NextToken != "" {
		t.Fatalf("resources %+v", p)
	}
	// Errors: a missing member names it; another workspace may not ask about this one's resource.
	_, err := w.admin.Evaluate(ctx, client.Evaluation{Subject: user, Resource: &client.Resource{Type: "svc/servers", ID: "1"}}, nil)
	wantField(t, err, "action")
	_, err = w.other.Evaluate(ctx, client.Evaluation{Subject: user, Action: &client.Action{Name: "svc.servers.read"},
		Resource: &client.Resource{Type: "svc/servers", ID: server1}}, nil)
	wantError(t, err, http.StatusForbidden)
	_, err = client.Collect(w.admin.SearchAll(ctx, client.SearchActions, client.Search{Subject: user,
		Resource: &client.Resource{Type: "svc/servers", ID: server1}, PageSize: 5000}, nil))
	wantField(t, err, "page.limit")
}

// TestConditionalAssignments: an assignment created with a condition grants only where the
// condition holds over the decision's properties; changing its scopes keeps the condition; a
// condition that does not compile is a 400 that names it.
func TestConditionalAssignments(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	registerService(t, w.admin)
	ws := w.e.Admin.WorkspaceID
	r := must[*client.Role](t)(w.admin.CreateRole(ctx, client.RoleInput{Name: "svc-read", Permissions: []string{"svc.servers.read"}}))
	uid := must[string](t)(w.admin.AddUser(ctx, "owner@example.test"))
	const owner = `resource.properties.owner == subject.attributes.email`
	a := must[*client.Assignment](t)(w.admin.CreateAssignment(ctx, client.AssignmentInput{Subject: client.UserSubject(uid),
		Role: r.GRN, Scope: []string{wsGRN(ws)}, Condition: owner}))
	if a.Condition != owner {
		t.Fatalf("created %+v", a)
	}
	decide := func(ownerEmail string) bool {
		d := must[*client.Decision](t)(w.admin.Evaluate(ctx, client.Evaluation{Subject: &client.Subject{Type: "user", ID: uid},
			Action: &client.Action{Name: "read"}, Resource: &client.Resource{Type: "svc/servers", ID: "1",
				Properties: map[string]any{"owner": ownerEmail}}}, nil))
		return d.Decision
	}
	if !decide("owner@example.test") || decide("someone@example.test") {
		t.Fatal("the condition did not decide")
	}
	server1 := wsGRN(ws) + "/regions/default/providers/svc/servers/1"
	a = must[*client.Assignment](t)(w.admin.UpdateAssignmentScope(ctx, a, []string{server1}))
	if a.Condition != owner || len(a.Scope) != 1 || a.Scope[0] != server1 {
		t.Fatalf("updated %+v", a)
	}
	if got := must[*client.Assignment](t)(w.admin.GetAssignment(ctx, a.ID)); got.Condition != owner {
		t.Fatalf("read back %+v", got)
	}
	_, err := w.admin.CreateAssignment(ctx, client.AssignmentInput{Subject: client.UserSubject(uid), Role: r.GRN,
		Scope: []string{wsGRN(ws)}, Condition: "resource.properties.owner =="})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusBadRequest || !strings.Contains(ce.Error(), "condition") {
		t.Fatalf("a bad condition: %v", err)
	}
}
