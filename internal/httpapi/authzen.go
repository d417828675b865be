package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/token"
)

// Paths of the OpenID AuthZEN Authorization API 1.0 that keyhold serves.
const (
	authzenEvaluation   = "/access/v1/evaluation"
	authzenEvaluations  = "/access/v1/evaluations"
	authzenSearchAction = "/access/v1/search/action"
	authzenMetadataPath = "/.well-known/authzen-configuration"
)

func (a *API) authzenRoutes() {
	a.mux.HandleFunc("GET "+authzenMetadataPath, a.authzenMetadata)
	a.mux.HandleFunc("GET "+authzenMetadataPath+pdpWorkspacePrefix, a.authzenMetadata)
	a.mux.HandleFunc("GET "+authzenMetadataPath+pdpProviderPrefix, a.authzenMetadata)
	for _, prefix := range []string{"", pdpWorkspacePrefix, pdpProviderPrefix} {
		a.authedRoute("POST "+prefix+authzenEvaluation, a.evaluation)
		a.authedRoute("POST "+prefix+authzenEvaluations, a.evaluations)
		a.authedRoute("POST "+prefix+authzenSearchAction, a.searchAction)
		a.authedRoute("POST "+prefix+authzenSearchSubject, a.searchSubject)
		a.authedRoute("POST "+prefix+authzenSearchResource, a.searchResource)
	}
}

// authzenEndpoints are the endpoints every PDP serves, by their metadata parameter (AuthZEN
// 1.0 §9.1), relative to the PDP's URL.
var authzenEndpoints = []struct{ param, path string }{
	{"access_evaluation_endpoint", authzenEvaluation},
	{"access_evaluations_endpoint", authzenEvaluations},
	{"search_subject_endpoint", authzenSearchSubject},
	{"search_resource_endpoint", authzenSearchResource},
	{"search_action_endpoint", authzenSearchAction},
}

// authzenMetadata is the PDP metadata document (AuthZEN 1.0 §9) of the PDP whose path
// follows the well-known prefix. It answers for any well-formed workspace id, without
// looking the workspace up: the document is public and must not tell who exists.
func (a *API) authzenMetadata(w http.ResponseWriter, r *http.Request) {
	p, err := pdpOf(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	base := a.BaseURL
	if p.workspace != "" {
		base += "/authzen/workspaces/" + p.workspace
		if p.provider != "" {
			base += "/providers/" + p.provider
		}
	}
	doc := map[string]any{"policy_decision_point": base}
	for _, e := range authzenEndpoints {
		doc[e.param] = base + e.path
	}
	writeJSON(w, http.StatusOK, doc)
}

// azDecision is one decision as AuthZEN answers it.
type azDecision struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context,omitempty"`
	// conditionalOn, for a denial, lists the conditions that could not be evaluated for want
	// of a property the request does not carry (searches report such results as conditional).
	conditionalOn []string
}

// azRequest reads the body of an AuthZEN request, the PDP it was sent to and the explanation
// switch; a failure is written and reported as ok false.
func (a *API) azRequest(w http.ResponseWriter, r *http.Request) (azBody, pdp, bool, bool) {
	raw, err := readOpenBody(w, r)
	var body azBody
	if err == nil {
		body, err = decodeMembers(raw, field("body"))
	}
	var p pdp
	if err == nil {
		p, err = pdpOf(r)
	}
	var explain bool
	if err == nil {
		explain, err = explainFlag(r)
	}
	if err != nil {
		a.writeError(w, r, err)
		return azBody{}, pdp{}, false, false
	}
	return body, p, explain, true
}

func (a *API) evaluation(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	body, p, explain, ok := a.azRequest(w, r)
	if !ok {
		return
	}
	q, err := parseEvaluation(body.azMembers, "", true)
	q.explain = explain
	a.single(w, r, c, p, q, err)
}

// single answers one evaluation; a bad or unauthorized request is an HTTP error.
func (a *API) single(w http.ResponseWriter, r *http.Request, c *principal.Caller, p pdp, q evalQuery, err error) {
	var d azDecision
	if err == nil {
		d, err = a.evaluate(c, p, &q)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// evaluate resolves one parsed evaluation against its PDP, checks that the caller may ask
// about its resource, and decides it.
func (a *API) evaluate(c *principal.Caller, p pdp, q *evalQuery) (azDecision, error) {
	res, err := a.resolveResource(c, p, q)
	if err == nil {
		err = a.mayAsk(c, res.resource)
	}
	if err != nil {
		return azDecision{}, err
	}
	if res.deny != "" {
		return denied(q.explain, res.deny), nil
	}
	return a.decide(c, q, &res)
}

func (a *API) evaluations(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	body, p, explain, ok := a.azRequest(w, r)
	if !ok {
		return
	}
	plan, err := planEvaluations(&body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	for i := range plan.queries {
		plan.queries[i].explain = explain
	}
	if plan.single {
		a.single(w, r, c, p, plan.queries[0], plan.errs[0])
		return
	}
	results := make([]azDecision, 0, len(plan.queries))
	for i := range plan.queries {
		err := plan.errs[i]
		d := azDecision{}
		if err == nil {
			d, err = a.evaluate(c, p, &plan.queries[i])
		}
		if err != nil {
			d = errorDecision(err)
		}
		results = append(results, d)
		if plan.semantic == semanticDenyOnDeny && !d.Decision || plan.semantic == semanticPermitFirst && d.Decision {
			break
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"evaluations": results})
}

// errorDecision reports a failed evaluation of a batch as a denial carrying the error.
func errorDecision(err error) azDecision {
	e := apperr.As(err)
	msg := e.Message
	if e.Kind == apperr.Internal {
		msg = "internal error"
	}
	return azDecision{Context: map[string]any{"error": map[string]any{"status": e.Kind.Status(), "message": msg}}}
}

// mayAsk checks that the caller holds glp.authorization.view in the workspace the resource
// belongs to (on the platform for a platform-level resource).
func (a *API) mayAsk(c *principal.Caller, resource grn.GRN) error {
	scope := resource.WorkspaceGRN()
	if scope.IsZero() {
		scope = grn.Platform(resource.Platform)
	}
	if !a.Authz.Allowed(c, permAuthzView, scope) {
		return apperr.New(apperr.Forbidden, "asking for decisions requires %s in the workspace the resource belongs to", permAuthzView)
	}
	return nil
}

// subject resolves what a decision is about: the principals, and where their assignments
// count (see rbac.Where). A token, or an API client (whose tokens it stands for), acts only
// in the workspace its tokens are scoped to, with that workspace's assignments (and, acting
// in a tenant from its MSP, the MSP's that reach the tenant): about a resource of any other
// workspace it holds nothing. A user or user group holds, on a resource of a workspace, what
// the assignments made in that workspace (and those of its MSP that reach it) grant; on a
// platform resource (grn:<platform>), what the assignments made in the asking caller's own
// workspace grant. deny is the reason code when the subject holds nothing here.
//
// Token subjects are checked within the asking caller's budget of invalid tokens
// (token.Server.CheckToken): out of budget, a token that is not already verified is not
// looked at, and err is 429 with Retry-After.
func (a *API) subject(c *principal.Caller, q *evalQuery, resource grn.GRN) (principals []string, w rbac.Where, deny string, err error) {
	switch q.subjectType {
	case subjectTypeToken:
		tc, _, err := a.Tokens.CheckToken(c.ClientID, q.subjectID)
		var be *token.BudgetError
		if errors.As(err, &be) {
			return nil, rbac.Where{}, "", &apperr.Error{Kind: apperr.TooManyRequests, RetryAfter: ratelimit.RetryAfter(be.Wait),
				Message: "too many invalid tokens presented; retry later"}
		}
		if err != nil {
			return nil, rbac.Where{}, "invalid_token", nil
		}
		principals, w, q.tokenScope = tc.Principals(), rbac.WhereOf(tc), tc.Scope
	case principal.TypeAPIClient:
		id, perr := ids.Parse(q.subjectID)
		e, ok := a.Tokens.Creds.Get(id)
		if perr != nil || !ok {
			return nil, rbac.Where{}, denyUnknownSubject, nil // a deleted credential holds nothing
		}
		principals, w = []string{principal.APIClient(id)}, rbac.Where{Workspace: e.TokenWorkspaceID}
		if e.OwnerID != "" {
			principals = append(principals, principal.User(e.OwnerID))
		}
		if e.WorkspaceID != e.TokenWorkspaceID {
			w.MSP = e.WorkspaceID // an MSP's credential for one of its tenants
		}
	case principal.TypeUserGroup:
		w = a.resourceWhere(c, resource)
		id, err := ids.Parse(q.subjectID)
		if err != nil {
			return nil, w, denyUnknownSubject, nil
		}
		return []string{principal.Group(id)}, w, "", nil
	default:
		w = a.resourceWhere(c, resource)
		pr, deny := a.resolveUser(q.subjectID, w)
		if deny != "" {
			return nil, w, deny, nil
		}
		return []string{pr}, w, "", nil
	}
	if resource.Workspace != "" && !ids.IsHexOf(resource.Workspace, w.Workspace) {
		return nil, rbac.Where{}, string(rbac.DenyNoGrant), nil
	}
	return principals, w, "", nil
}

// resourceWhere names the assignments that can reach a resource: those made in its workspace,
// and for an MSP tenant those of the MSP (which count where they reach it); for a platform
// resource, those made in the asking caller's workspace.
func (a *API) resourceWhere(c *principal.Caller, r grn.GRN) rbac.Where {
	if r.Workspace == "" {
		return rbac.WhereOf(c)
	}
	ws, err := ids.Parse(r.Workspace)
	if err != nil {
		return rbac.Where{}
	}
	w := rbac.Where{Workspace: ws}
	if t, ok := a.Workspaces.Get(ws); ok && t.Type == storage.WorkspaceTenant {
		w.MSP = t.ParentID
	}
	return w
}

// decide evaluates one authorized, resolved query; the only error is the caller's spent
// budget of invalid tokens.
func (a *API) decide(c *principal.Caller, q *evalQuery, res *resolved) (azDecision, error) {
	principals, w, deny, err := a.subject(c, q, res.resource)
	if err != nil {
		return azDecision{}, err
	}
	if deny != "" {
		return denied(q.explain, deny), nil
	}
	perm, ok := a.Authz.PermissionFor(res.provider, res.typ, q.action)
	if !ok {
		return denied(q.explain, string(rbac.DenyUnknownPermission)), nil
	}
	inScope := q.permits(perm)
	if !inScope && !q.explain {
		return azDecision{}, nil // the scope excludes it: nothing the roles say can allow it
	}
	facts := rbac.Facts{Source: &conditionFacts{a: a, q: q, user: attributesUser(principals)}}
	d, reason := a.Authz.ExplainWith(w, principals, perm, res.resource, &facts)
	if d.Allowed && !inScope {
		// The roles grant it; the subject's scope is what denies it, and the explanation says so.
		return denied(true, string(rbac.DenyOutsideScope)), nil
	}
	if !d.Allowed && !inScope {
		return denied(true, string(reason)), nil // the roles deny it anyway (no conditional answer)
	}
	if !d.Allowed {
		out := denied(q.explain, string(reason))
		if q.explain && len(d.Unmet) > 0 {
			out.Context["reason"] = map[string]any{"code": string(reason), "conditions": unmetConditions(d.Unmet)}
		}
		out.conditionalOn = rbac.MissingConditions(d.Unmet)
		return out, nil
	}
	out := azDecision{Decision: true}
	if d.Deprecated || q.explain {
		out.Context = map[string]any{}
	}
	if d.Deprecated {
		out.Context["deprecation"] = map[string]string{"permission": perm, "releaseStage": rbac.StageDeprecated}
	}
	if q.explain {
		out.Context["reason"] = explanation(&d)
	}
	return out, nil
}

func denied(explain bool, code string) azDecision {
	if !explain {
		return azDecision{}
	}
	return azDecision{Context: map[string]any{"reason": map[string]string{"code": code}}}
}

// explanation says which assignment, role and scope allowed a decision.
func explanation(d *rbac.Decision) map[string]any {
	out := map[string]any{"principal": d.Principal, "assignmentId": d.AssignmentID, "roleId": d.RoleID, "scope": d.Scope}
	if d.Via != "" {
		out["via"] = d.Via
	}
	if d.ScopeGroup != "" {
		out["scopeGroup"] = d.ScopeGroup
	}
	if d.External {
		out["source"] = rbac.SourceExternal
	}
	if d.Condition != "" {
		out["condition"] = map[string]any{"expression": d.Condition, "held": true}
	}
	if len(d.Unmet) > 0 {
		out["unmetConditions"] = unmetConditions(d.Unmet)
	}
	return out
}

// unmetConditions explains the conditional assignments whose condition did not hold: each
// assignment, its condition, held false, and the evaluation error if there was one.
func unmetConditions(list []rbac.ConditionResult) []map[string]any {
	out := make([]map[string]any, len(list))
	for i, c := range list {
		out[i] = map[string]any{"assignmentId": c.AssignmentID, "expression": c.Condition, "held": false}
		if c.Err != "" {
			out[i]["error"] = c.Err
		}
	}
	return out
}

// searchAction answers the effective permissions of a subject on a resource (AuthZEN's
// action search): permission names in order, paged like the other searches, by short name
// when the resource was given as (bare type, id) (authzen_search_types.go). An action member in
// the request is ignored, as every member a search does not read.
func (a *API) searchAction(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	body, p, explain, ok := a.azRequest(w, r)
	if !ok {
		return
	}
	q, err := parseEvaluation(body.azMembers, "", false)
	q.explain = explain
	var res resolved
	var page pageReq
	if err == nil {
		page, err = searchPage("action", p, &body)
	}
	if err == nil {
		res, err = a.resolveResource(c, p, &q)
	}
	if err == nil {
		err = a.mayAsk(c, res.resource)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	principals, where, deny := []string(nil), rbac.Where{}, res.deny
	if deny == "" {
		if principals, where, deny, err = a.subject(c, &q, res.resource); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	short := q.grnMember == "" && !strings.Contains(q.resType, "/") // asked in the PEP's vocabulary
	var grants []rbac.Grant
	if deny == "" {
		grants = a.Authz.PermissionsWith(where, principals, res.resource, a.actionFacts(&q, &res, principals, short))
		grants = slices.DeleteFunc(grants, func(g rbac.Grant) bool { return !q.permits(g.Permission) })
	}
	byName := make(map[string]*rbac.Grant, len(grants))
	names := make([]string, len(grants))
	for i := range grants {
		names[i], byName[grants[i].Permission] = grants[i].Permission, &grants[i]
	}
	found, next := pageOf(page, names, func(string) bool { return true })
	results := make([]any, 0, len(found))
	for _, name := range found {
		results = append(results, actionResult(byName[name], actionAnswer(name, res.provider, res.typ, short), q.explain))
	}
	writeJSON(w, http.StatusOK, azSearchResponse{Page: azPageResponse{NextToken: next, Count: len(results)}, Results: results})
}

// actionFacts gives the conditions of an action search what they read for each permission
// tried: the request's subject, resource and context as sent (the subject's stored
// attributes too), and as action {name} the permission's name as the search answers it.
func (a *API) actionFacts(q *evalQuery, res *resolved, principals []string, short bool) func(string) *rbac.Facts {
	user := attributesUser(principals)
	return func(permission string) *rbac.Facts {
		each := *q
		each.actionEnt = namedEntity(actionAnswer(permission, res.provider, res.typ, short))
		return &rbac.Facts{Source: &conditionFacts{a: a, q: &each, user: user}}
	}
}

// actionResult is one permission of an action search: its name as answered, and properties
// when it is deprecated, conditional (held only under conditions the request carries too
// little to evaluate, which the PEP must evaluate before acting on it) or explained (with the
// permission's full name).
func actionResult(g *rbac.Grant, name string, explain bool) map[string]any {
	item := map[string]any{"name": name}
	props := map[string]any{}
	if g.Deprecated {
		props["releaseStage"] = rbac.StageDeprecated
	}
	if len(g.Conditional) > 0 {
		props["conditional"], props["conditions"] = true, g.Conditional
	}
	if explain {
		if g.Allowed {
			props["reason"] = explanation(&g.Decision)
		} else {
			props["reason"] = map[string]any{"code": string(rbac.DenyConditionNotMet), "conditions": unmetConditions(g.Unmet)}
		}
		if name != g.Permission {
			props["permission"] = g.Permission
		}
	}
	if len(props) > 0 {
		item["properties"] = props
	}
	return item
}
