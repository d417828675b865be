package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
)

// Paths of AuthZEN's subject and resource search.
const (
	authzenSearchSubject  = "/access/v1/search/subject"
	authzenSearchResource = "/access/v1/search/resource"
)

// azSearch is the body of every search request (AuthZEN 1.0 §8). The member the search is
// about may carry an id, which is ignored, as the specification says; action search ignores
// action.
type azSearch struct {
	Subject  *azSearchEntity            `json:"subject"`
	Action   *azSearchAction            `json:"action"`
	Resource *azSearchEntity            `json:"resource"`
	Context  map[string]json.RawMessage `json:"context"`
	Page     *azPage                    `json:"page"`
}

// azSearchResponse is a search's answer: page first, as the specification recommends.
type azSearchResponse struct {
	Page    azPageResponse `json:"page"`
	Context map[string]any `json:"context,omitempty"`
	Results []any          `json:"results"`
}

type azPageResponse struct {
	NextToken string `json:"next_token"`
	Count     int    `json:"count"`
}

type azTypedID struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// searchedSubjectType reads the type of the subjects a subject search asks for.
func searchedSubjectType(s *azSearchEntity) (string, error) {
	switch {
	case s == nil:
		return "", apperr.Field("subject", "is required")
	case s.Type == nil || *s.Type == "":
		return "", apperr.Field("subject.type", "is required")
	}
	switch *s.Type {
	case principal.TypeUser, principal.TypeUserGroup, principal.TypeAPIClient:
		return *s.Type, nil
	}
	return "", apperr.Field("subject.type", "must be user, user-group or api-client")
}

// searchSubject answers who may do an action on a resource: the principals of the type asked
// for, in principal order, each confirmed by the decision an evaluation would give.
func (a *API) searchSubject(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body azSearch
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeError(w, r, err)
		return
	}
	typ, action, resource, page, err := parseSubjectSearch(&body)
	if err == nil {
		err = a.mayAsk(c, resource)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	keys := a.subjectKeys(c, typ, action, resource)
	var failed error
	conditional := map[string][]string{}
	found, next := pageOf(page, keys, func(pr string) bool {
		d, err := a.decidePrincipal(c, pr, action, resource, &body)
		if err != nil && failed == nil {
			failed = err
		}
		if err == nil && !d.Decision && len(d.conditionalOn) > 0 {
			conditional[pr] = d.conditionalOn
			return true
		}
		return err == nil && d.Decision
	})
	if failed != nil {
		a.writeError(w, r, failed)
		return
	}
	results := make([]any, 0, len(found))
	for _, pr := range found {
		_, id, _ := strings.Cut(pr, ":")
		results = append(results, searchResult(typ, id, conditional[pr]))
	}
	writeJSON(w, http.StatusOK, azSearchResponse{Page: azPageResponse{NextToken: next, Count: len(results)}, Results: results})
}

// parseSubjectSearch validates a subject search; the subject's id is ignored.
func parseSubjectSearch(body *azSearch) (typ, action string, resource grn.GRN, page pageReq, err error) {
	if typ, err = searchedSubjectType(body.Subject); err != nil {
		return
	}
	if action, err = actionName(body.Action, "action"); err != nil {
		return
	}
	if resource, err = resourceGRN(body.Resource, "resource"); err != nil {
		return
	}
	body.Subject.ID = nil // ignored: not part of the query
	page, err = parsePage(body.Page, "subject", body)
	return
}

// subjectKeys lists, sorted, the principals of type typ that may hold action on resource: the
// engine's candidates and, for API clients, the clients owned by candidate users (a client
// acts with its owner's assignments).
func (a *API) subjectKeys(c *principal.Caller, typ, action string, resource grn.GRN) []string {
	cands := a.Authz.SubjectCandidates(a.resourceWhere(c, resource), action, resource)
	prefix := typ + ":"
	var keys []string
	for _, pr := range cands {
		if strings.HasPrefix(pr, prefix) {
			keys = append(keys, pr)
		}
		if typ == principal.TypeAPIClient && strings.HasPrefix(pr, principal.TypeUser+":") {
			for _, id := range a.Tokens.Creds.OwnedBy(strings.TrimPrefix(pr, principal.TypeUser+":")) {
				keys = append(keys, principal.APIClient(id))
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// searchResource answers which resources of a type a subject may do an action on, in the
// caller's workspace: the single resources keyhold knows of (named by an assignment or a
// scope group), each confirmed by a decision, in GRN order; and, in context.wildcard_scopes,
// the wider grants (the whole workspace, a wildcard, a parent resource) that cover every
// resource of the type under them, known or not.
func (a *API) searchResource(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body azSearch
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeError(w, r, err)
		return
	}
	q, ws, rtype, page, err := parseResourceSearch(&body, c)
	if err == nil {
		err = a.mayAsk(c, ws)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	principals, where, deny, err := a.subject(c, &q, ws)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var cands, wide []string
	if deny == "" {
		cands, wide = a.Authz.ResourceCandidates(where, principals, q.action, rtype)
	}
	q.subject, q.actionObj, q.context = body.Subject.asObject(), body.Action.asObject(), body.Context
	facts := &conditionFacts{a: a, q: &q, user: attributesUser(principals)}
	conditional := map[string][]string{}
	decide := func(text string) (rbac.Decision, bool) {
		g, err := grn.Parse(text)
		if err != nil {
			return rbac.Decision{}, false
		}
		q.resource = azObject{}
		q.resource["type"], _ = json.Marshal(rtype)
		q.resource["id"], _ = json.Marshal(text)
		return a.Authz.DecideWith(where, principals, q.action, g, &rbac.Facts{Source: facts}), true
	}
	allowed := func(text string) bool {
		d, ok := decide(text)
		if ok && !d.Allowed {
			if on := missingConditions(d.Unmet); len(on) > 0 {
				conditional[text] = on
				return true
			}
		}
		return ok && d.Allowed
	}
	found, next := pageOf(page, cands, allowed)
	results := make([]any, 0, len(found))
	for _, text := range found {
		results = append(results, searchResult(*body.Resource.Type, text, conditional[text]))
	}
	out := azSearchResponse{Page: azPageResponse{NextToken: next, Count: len(results)}, Results: results}
	strict := func(text string) bool { d, ok := decide(text); return ok && d.Allowed }
	loose := func(text string) bool { return allowed(text) && !strict(text) }
	if scopes := confirmedWide(wide, rtype, ws, strict); len(scopes) > 0 {
		out.Context = map[string]any{"wildcard_scopes": scopes}
	}
	if scopes := confirmedWide(wide, rtype, ws, loose); len(scopes) > 0 {
		if out.Context == nil {
			out.Context = map[string]any{}
		}
		out.Context["conditional_wildcard_scopes"] = scopes
	}
	writeJSON(w, http.StatusOK, out)
}

// searchResult is one result of a subject or resource search: {type, id}, and for a result
// that only conditions this search could not evaluate would allow (a property the request
// does not carry), properties {conditional: true, conditions: [...]}.
func searchResult(typ, id string, conditions []string) any {
	if len(conditions) == 0 {
		return azTypedID{Type: typ, ID: id}
	}
	return map[string]any{"type": typ, "id": id, "properties": map[string]any{"conditional": true, "conditions": conditions}}
}

// missingConditions lists, once each, the conditions that failed for want of a property.
func missingConditions(unmet []rbac.ConditionResult) []string {
	var out []string
	for _, u := range unmet {
		if u.Missing && !slices.Contains(out, u.Condition) {
			out = append(out, u.Condition)
		}
	}
	return out
}

// parseResourceSearch validates a resource search. The resource's type is a resource type
// "<provider>/<type>"; its id is ignored. The search covers the caller's workspace, whose GRN
// stands as the query's resource (for the caller's right to ask, and where assignments count).
func parseResourceSearch(body *azSearch, c *principal.Caller) (evalQuery, grn.GRN, string, pageReq, error) {
	var q evalQuery
	var err error
	if q.subjectType, q.subjectID, err = subjectOf(body.Subject, "subject"); err != nil {
		return q, grn.GRN{}, "", pageReq{}, err
	}
	if q.action, err = actionName(body.Action, "action"); err != nil {
		return q, grn.GRN{}, "", pageReq{}, err
	}
	rtype, err := searchedResourceType(body.Resource)
	if err != nil {
		return q, grn.GRN{}, "", pageReq{}, err
	}
	ws, err := grn.Workspace(grn.DefaultPlatform, c.WorkspaceID)
	if err != nil {
		return q, grn.GRN{}, "", pageReq{}, apperr.New(apperr.Forbidden, "resource search needs a token of a workspace")
	}
	body.Resource.ID = nil // ignored: not part of the query
	page, err := parsePage(body.Page, "resource", body)
	return q, ws, rtype, page, err
}

// searchedResourceType reads "<provider>/<type>" from a resource search's resource.type.
func searchedResourceType(res *azSearchEntity) (string, error) {
	switch {
	case res == nil:
		return "", apperr.Field("resource", "is required")
	case res.Type == nil || *res.Type == "":
		return "", apperr.Field("resource.type", "is required")
	}
	provider, typ, ok := strings.Cut(*res.Type, "/")
	if !ok || !isSegment(provider) || !isSegment(typ) {
		return "", apperr.Field("resource.type", "must be a resource type <provider>/<type>")
	}
	return *res.Type, nil
}

// isSegment reports whether s is a GRN segment (letters, digits, '-', '_', '.').
func isSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// confirmedWide keeps the wide scopes under which the subject holds the action on every
// resource of the type: the decision on "every resource of the type under the scope" (a
// wildcard GRN, which only a grant covering all of them covers) is allowed.
func confirmedWide(wide []string, rtype string, ws grn.GRN, allowed func(string) bool) []string {
	provider, typ, _ := strings.Cut(rtype, "/")
	var out []string
	for _, scope := range wide {
		var probe string
		switch g, err := grn.Parse(scope); {
		case err != nil:
			continue
		case g.IsPlatform() || g.IsWorkspace():
			probe = ws.String() + "/regions/default/providers/" + provider + "/" + typ + "/" + grn.Wildcard
		case len(g.Path) > 0 && g.Path[len(g.Path)-1].ID == grn.Wildcard:
			if g.Path[len(g.Path)-1].Type != typ {
				continue
			}
			probe = scope
		default:
			probe = scope + "/" + typ + "/" + grn.Wildcard
		}
		if allowed(probe) {
			out = append(out, scope)
		}
	}
	return out
}
