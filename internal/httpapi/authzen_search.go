package httpapi

import (
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

// searchSubject answers who may do an action on a resource: the principals of the type asked
// for, in principal order, each confirmed by the decision an evaluation would give, named as
// authzen_search_types.go says.
func (a *API) searchSubject(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	body, p, _, ok := a.azRequest(w, r)
	if !ok {
		return
	}
	s, err := parseSubjectSearch(&body, p)
	var res resolved
	if err == nil {
		res, err = a.resolveResource(c, p, &s.q)
	}
	if err == nil {
		err = a.mayAsk(c, res.resource)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var keys []string
	perm, known := a.Authz.PermissionFor(res.provider, res.typ, s.q.action)
	if res.deny == "" && known {
		keys = a.subjectKeys(c, s.kind, perm, res.resource)
	}
	var failed error
	conditional := map[string][]string{}
	found, next := pageOf(s.page, keys, func(pr string) bool {
		d, err := a.decidePrincipal(c, &s.q, pr, perm, res.resource)
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
	where := a.resourceWhere(c, res.resource)
	results := make([]any, 0, len(found))
	for _, pr := range found {
		results = append(results, searchResult(s.asked, a.subjectAnswer(pr, where), conditional[pr]))
	}
	writeJSON(w, http.StatusOK, azSearchResponse{Page: azPageResponse{NextToken: next, Count: len(results)}, Results: results})
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
// PDP's workspace (the caller's, for the root PDP): the single resources keyhold knows of
// (named by an assignment or a scope group), each confirmed by a decision, in GRN order, named
// as authzen_search_types.go says; and, in context.wildcard_scopes (GRNs), the wider grants
// (the whole workspace, a wildcard, a parent resource) that cover every resource of the type
// under them, known or not.
func (a *API) searchResource(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	body, p, _, ok := a.azRequest(w, r)
	if !ok {
		return
	}
	s, err := parseResourceSearch(&body, p)
	var ws grn.GRN
	if err == nil {
		ws, err = pdpWorkspace(c, p)
	}
	if err == nil {
		err = a.mayAsk(c, ws)
	}
	var keys []string
	if err == nil {
		if keys = a.Authz.ResourceTypes(p.provider, s.rtype); len(keys) > 1 {
			err = apperr.Field("resource.type", "names a resource type of several providers (%s): send <provider>/<type> or use a provider's PDP", strings.Join(keys, ", "))
		}
	}
	var principals []string
	var where rbac.Where
	var deny string
	if err == nil {
		principals, where, deny, err = a.subject(c, &s.q, ws)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var perm, provider, typ string
	var cands, wide []string
	if len(keys) == 1 {
		provider, typ, _ = strings.Cut(keys[0], "/")
		var known bool
		if perm, known = a.Authz.PermissionFor(provider, typ, s.q.action); known && deny == "" && s.q.permits(perm) {
			cands, wide = a.Authz.ResourceCandidates(where, principals, perm, keys[0])
		}
	}
	bare := !strings.Contains(s.rtype, "/")
	answer := func(text string) string {
		if bare {
			return resourceAnswer(text, ws, provider, typ)
		}
		return text
	}
	// Conditions read the request's subject, action and context, and each candidate as the
	// resource {type, id}, named as the answer names it (what a PEP's evaluation would send).
	q := s.q
	facts := &conditionFacts{a: a, q: &q, user: attributesUser(principals)}
	decide := func(text string) (rbac.Decision, bool) {
		g, err := grn.Parse(text)
		if err != nil {
			return rbac.Decision{}, false
		}
		q.resource = typedEntity(s.rtype, answer(text))
		return a.Authz.DecideWith(where, principals, perm, g, &rbac.Facts{Source: facts}), true
	}
	conditional := map[string][]string{}
	allowed := func(text string) bool {
		d, ok := decide(text)
		if ok && !d.Allowed {
			if on := rbac.MissingConditions(d.Unmet); len(on) > 0 {
				conditional[text] = on
				return true
			}
		}
		return ok && d.Allowed
	}
	found, next := pageOf(s.page, cands, allowed)
	results := make([]any, 0, len(found))
	for _, text := range found {
		results = append(results, searchResult(s.rtype, answer(text), conditional[text]))
	}
	out := azSearchResponse{Page: azPageResponse{NextToken: next, Count: len(results)}, Results: results}
	if len(keys) == 1 {
		strict := func(text string) bool { d, ok := decide(text); return ok && d.Allowed }
		loose := func(text string) bool { return allowed(text) && !strict(text) }
		if scopes := confirmedWide(wide, keys[0], ws, strict); len(scopes) > 0 {
			out.Context = map[string]any{"wildcard_scopes": scopes}
		}
		if scopes := confirmedWide(wide, keys[0], ws, loose); len(scopes) > 0 {
			if out.Context == nil {
				out.Context = map[string]any{}
			}
			out.Context["conditional_wildcard_scopes"] = scopes
		}
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

// pdpWorkspace is the GRN of the workspace a PDP answers for: its own, or for the root PDP
// the caller's.
func pdpWorkspace(c *principal.Caller, p pdp) (grn.GRN, error) {
	ws := p.workspace
	if ws == "" {
		ws = c.WorkspaceID
	}
	g, err := grn.Workspace(grn.DefaultPlatform, ws)
	if err != nil {
		return grn.GRN{}, apperr.New(apperr.Forbidden, "resource search needs a token of a workspace")
	}
	return g, nil
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
