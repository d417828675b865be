package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/keyhold/keyhold/client"
)

// canIPageLimit is the page size of can-i's action search (AuthZEN's largest).
const canIPageLimit = 1000

// subjectTypes are the AuthZEN subject types keyhold decides for (and their aliases).
var subjectTypes = map[string]bool{"user": true, "identity": true, "identity/user": true, "user-group": true,
	"group": true, "identity/user-group": true, "api-client": true, "client": true, "identity/api-client": true}

// parseSubject reads a subject of the command line: <type>:<id>, a bare email (a user), or
// "me" (the logged-in API client). Token subjects are refused: a token on a command line
// lands in shell history.
func parseSubject(s, me string) (*client.Subject, error) {
	if s == "me" {
		return &client.Subject{Type: "api-client", ID: me}, nil
	}
	typ, id, ok := strings.Cut(s, ":")
	switch {
	case !ok && strings.Contains(s, "@"):
		return &client.Subject{Type: "user", ID: s}, nil
	case !ok || id == "":
		return nil, fmt.Errorf("subject %q: give <type>:<id>: user:<id or email>, user-group:<id>, api-client:<client id>, or me", s)
	case !subjectTypes[typ]:
		return nil, fmt.Errorf("subject %q: type %q is not one of user, user-group, api-client", s, typ)
	}
	return &client.Subject{Type: typ, ID: id}, nil
}

// parseResource reads a resource of the command line: a GRN, or <type>:<id> where type is a
// resource type (<provider>/<type>, or a bare type name).
func parseResource(s string) (*client.Resource, error) {
	if strings.HasPrefix(s, "grn:") {
		return &client.Resource{Type: "grn", ID: s}, nil
	}
	typ, id, ok := strings.Cut(s, ":")
	if !ok || typ == "" || id == "" {
		return nil, fmt.Errorf("resource %q: give a GRN (grn:glp/workspaces/...) or <resource type>:<id> (todo/todo:42)", s)
	}
	return &client.Resource{Type: typ, ID: id}, nil
}

type checkCmd struct {
	apiFlags
	Subject  string `arg:"" help:"Who: user:<id or email> (a bare email is a user), user-group:<id>, api-client:<client id>, or me."`
	Action   string `arg:"" help:"The permission (todo.todo.update) or its short name on the resource's type (update)."`
	Resource string `arg:"" help:"A GRN, or <resource type>:<id> (todo/todo:42)."`
	Explain  bool   `help:"Also say why: the assignment, role and scope that allow it, or the reason it is denied."`
	Scope    string `help:"Decide as for a token with this OAuth scope (permission names and <provider>.<type>.* wildcards, space-separated), sent as the subject's properties.scope: allowed only if the roles allow it and the scope permits it (reason outside_token_scope)."`
}

// Run asks keyhold's AuthZEN evaluation and exits exitDenied when the answer is no.
func (c *checkCmd) Run(g *globals) error {
	ctx := context.Background()
	s, err := c.open(ctx, g)
	if err != nil {
		return err
	}
	subject, err := parseSubject(c.Subject, s.api.ctx.ClientID)
	if err != nil {
		return &codedError{code: exitUsage, err: err}
	}
	resource, err := parseResource(c.Resource)
	if err != nil {
		return &codedError{code: exitUsage, err: err}
	}
	if c.Scope != "" {
		subject.Properties = map[string]any{"scope": c.Scope}
	}
	d, err := s.api.sdk.Evaluate(ctx, client.Evaluation{Subject: subject, Action: &client.Action{Name: c.Action}, Resource: resource},
		&client.AuthZENOptions{Explain: c.Explain})
	if err != nil {
		return apiFailure(err)
	}
	out, err := toObject(d)
	if err != nil {
		return err
	}
	allowed := d.Decision
	if s.out.json {
		if err := s.out.printJSON(out); err != nil {
			return err
		}
	} else {
		word := "denied"
		if allowed {
			word = "allowed"
		}
		fmt.Fprintln(g.stdout, word)
		if reason, ok := lookup(out, "context.reason").(map[string]any); ok {
			printReason(g, reason)
		}
		if dep, ok := lookup(out, "context.deprecation").(map[string]any); ok {
			fmt.Fprintf(g.stdout, "  deprecated permission: %s\n", cell(dep["permission"]))
		}
	}
	if !allowed {
		return errDenied
	}
	return nil
}

// reasonOrder is the order a reason's members are printed in.
var reasonOrder = []string{"code", "principal", "via", "assignmentId", "roleId", "scope", "scopeGroup", "source"}

// printReason writes keyhold's explanation as indented "name: value" lines.
func printReason(g *globals, reason map[string]any) {
	for _, k := range reasonOrder {
		if v, ok := reason[k]; ok {
			fmt.Fprintf(g.stdout, "  %s: %s\n", k, cell(v))
		}
	}
}

type canICmd struct {
	apiFlags
	Resource string `arg:"" optional:"" help:"A GRN, or <resource type>:<id>; default: your whole workspace."`
	Subject  string `help:"Whose permissions (as for check); default: me, the logged-in API client." default:"me"`
	Explain  bool   `help:"Also say which assignment, role and scope gives each permission."`
}

// Run lists every permission the subject holds on the resource (AuthZEN's action search),
// following every page.
func (c *canICmd) Run(g *globals) error {
	ctx := context.Background()
	s, err := c.open(ctx, g)
	if err != nil {
		return err
	}
	subject, err := parseSubject(c.Subject, s.api.ctx.ClientID)
	if err != nil {
		return &codedError{code: exitUsage, err: err}
	}
	resource := &client.Resource{Type: "grn", ID: s.api.workspaceGRN()}
	if c.Resource != "" {
		if resource, err = parseResource(c.Resource); err != nil {
			return &codedError{code: exitUsage, err: err}
		}
	}
	results, err := collect(s.api.sdk.SearchAll(ctx, client.SearchActions,
		client.Search{Subject: subject, Resource: resource, PageSize: canIPageLimit}, &client.AuthZENOptions{Explain: c.Explain}))
	if err != nil {
		return apiFailure(err)
	}
	columns := cols("PERMISSION=name")
	for _, r := range results {
		if lookup(r, "properties.releaseStage") != nil { // only deprecated permissions have one
			columns = append(columns, cols("RELEASE STAGE=properties.releaseStage")...)
			break
		}
	}
	if c.Explain {
		columns = append(columns, cols("PRINCIPAL=properties.reason.principal", "ROLE=properties.reason.roleId", "SCOPE=properties.reason.scope")...)
	}
	return s.out.list(results, columns)
}
