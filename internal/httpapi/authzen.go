package httpapi

import (
	"errors"
	"net/http"
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
	a.authedRoute("POST "+authzenEvaluation, a.evaluation)
	a.authedRoute("POST "+authzenEvaluations, a.evaluations)
	a.authedRoute("POST "+authzenSearchAction, a.searchAction)
	a.authedRoute("POST "+authzenSearchSubject, a.searchSubject)
	a.authedRoute("POST "+authzenSearchResource, a.searchResource)
}

// authzenMetadata is the PDP metadata document (AuthZEN 1.0 §9).
func (a *API) authzenMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{
		"policy_decision_point":       a.BaseURL,
		"access_evaluation_endpoint":  a.BaseURL + authzenEvaluation,
		"access_evaluations_endpoint": a.BaseURL + authzenEvaluations,
		"search_action_endpoint":      a.BaseURL + authzenSearchAction,
		"search_subject_endpoint":     a.BaseURL + authzenSearchSubject,
		"search_resource_endpoint":    a.BaseURL + authzenSearchResource,
	})
}

// azDecision is one decision as AuthZEN answers it.
type azDecision struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context,omitempty"`
}

func (a *API) evaluation(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body azEvaluation
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeError(w, r, err)
		return
	}
	q, err := parseEvaluation(body, "", true)
	a.single(w, r, c, q, err)
}

// single answers one evaluation; a bad or unauthorized request is an HTTP error.
func (a *API) single(w http.ResponseWriter, r *http.Request, c *principal.Caller, q evalQuery, err error) {
	if err == nil {
		err = a.mayAsk(c, q.resource)
	}
	var d azDecision
	if err == nil {
		d, err = a.decide(c, q)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *API) evaluations(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body azEvaluationsRequest
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeError(w, r, err)
		return
	}
	plan, err := planEvaluations(&body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if plan.single {
		a.single(w, r, c, plan.queries[0], plan.errs[0])
		return
	}
	results := make([]azDecision, 0, len(plan.queries))
	for i, q := range plan.queries {
		err := plan.errs[i]
		if err == nil {
			err = a.mayAsk(c, q.resource)
		}
		d := azDecision{}
		if err == nil {
			d, err = a.decide(c, q)
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
func (a *API) subject(c *principal.Caller, q evalQuery) (principals []string, w rbac.Where, deny string, err error) {
	switch typ, id, _ := strings.Cut(q.principal, ":"); {
	case q.token != "":
		tc, _, err := a.Tokens.CheckToken(c.ClientID, q.token)
		var be *token.BudgetError
		if errors.As(err, &be) {
			return nil, rbac.Where{}, "", &apperr.Error{Kind: apperr.TooManyRequests, RetryAfter: ratelimit.RetryAfter(be.Wait),
				Message: "too many invalid tokens presented; retry later"}
		}
		if err != nil {
			return nil, rbac.Where{}, "invalid_token", nil
		}
		principals, w = tc.Principals(), rbac.WhereOf(tc)
	case typ == principal.TypeAPIClient:
		e, ok := a.Tokens.Creds.Get(id)
		if !ok {
			return nil, rbac.Where{}, string(rbac.DenyNoGrant), nil // a deleted credential holds nothing
		}
		principals, w = []string{q.principal}, rbac.Where{Workspace: e.TokenWorkspaceID}
		if e.OwnerID != "" {
			principals = append(principals, principal.User(e.OwnerID))
		}
		if e.WorkspaceID != e.TokenWorkspaceID {
			w.MSP = e.WorkspaceID // an MSP's credential for one of its tenants
		}
	default:
		return []string{q.principal}, a.resourceWhere(c, q.resource), "", nil
	}
	if q.resource.Workspace != "" && !ids.IsHexOf(q.resource.Workspace, w.Workspace) {
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

// decide evaluates one authorized query; the only error is the caller's spent budget of
// invalid tokens.
func (a *API) decide(c *principal.Caller, q evalQuery) (azDecision, error) {
	principals, w, deny, err := a.subject(c, q)
	if err != nil {
		return azDecision{}, err
	}
	if deny != "" {
		return denied(q.explain, deny), nil
	}
	d, reason := a.Authz.Explain(w, principals, q.action, q.resource)
	if !d.Allowed {
		return denied(q.explain, string(reason)), nil
	}
	out := azDecision{Decision: true}
	if d.Deprecated || q.explain {
		out.Context = map[string]any{}
	}
	if d.Deprecated {
		out.Context["deprecation"] = map[string]string{"permission": q.action, "releaseStage": rbac.StageDeprecated}
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
	return out
}

// searchAction answers the effective permissions of a subject on a resource (AuthZEN's action
// search): permission names in order, paged like the other searches. An action member in the
// request is ignored.
func (a *API) searchAction(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body azSearch
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeError(w, r, err)
		return
	}
	q, err := parseEvaluation(azEvaluation{Subject: body.Subject, Resource: body.Resource, Context: body.Context}, "", false)
	var page pageReq
	if err == nil {
		body.Action = nil
		page, err = parsePage(body.Page, "action", &body)
	}
	if err == nil {
		err = a.mayAsk(c, q.resource)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	principals, where, deny, err := a.subject(c, q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var grants []rbac.Grant
	if deny == "" {
		grants = a.Authz.Permissions(where, principals, q.resource)
	}
	byName := make(map[string]*rbac.Grant, len(grants))
	names := make([]string, len(grants))
	for i := range grants {
		names[i], byName[grants[i].Permission] = grants[i].Permission, &grants[i]
	}
	found, next := pageOf(page, names, func(string) bool { return true })
	results := make([]any, 0, len(found))
	for _, name := range found {
		results = append(results, actionResult(byName[name], q.explain))
	}
	writeJSON(w, http.StatusOK, azSearchResponse{Page: azPageResponse{NextToken: next, Count: len(results)}, Results: results})
}

// actionResult is one permission of an action search: its name, and properties when it is
// deprecated or explained.
func actionResult(g *rbac.Grant, explain bool) map[string]any {
	item := map[string]any{"name": g.Permission}
	props := map[string]any{}
	if g.Deprecated {
		props["releaseStage"] = rbac.StageDeprecated
	}
	if explain {
		props["reason"] = explanation(&g.Decision)
	}
	if len(props) > 0 {
		item["properties"] = props
	}
	return item
}
