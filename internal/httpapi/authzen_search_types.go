package httpapi

import (
	"encoding/json"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
)

// The search requests are read like evaluations (authzen_request.go), in AuthZEN's vocabulary
// or keyhold's, and answered in the vocabulary they were asked in:
//
//   - subjects: a user is answered by its external id (the identity provider's subject, by
//     which a PEP knows it) when it has one that names it alone in the workspace, else by its
//     keyhold id; groups and API clients by their keyhold ids; the type as asked ("identity"
//     stays "identity");
//   - resources: asked with a bare type ("record"), by the id the PEP used (the GRN's last
//     segment with grn.EscapeID undone), or by the GRN when the resource is not one of the
//     type's (type, id) resources of the workspace (nested under another, another region);
//     asked with a resource type key ("<provider>/<type>"), by GRN, as before;
//   - actions: asked about a resource (bare type, id), by the permission's short name on the
//     type ("view" for sad.record.view) when it has one; asked about a GRN, or with a resource
//     type key ("sad/record"), by full name.

// searchKey is what identifies a search query for its page tokens (authzen_page.go): the PDP
// and the members read, as sent (compacted when marshalled), and the page's limit.
type searchKey struct {
	PDP                                [2]string
	Subject, Action, Resource, Context json.RawMessage
}

func keyOf(p pdp, body *azBody) searchKey {
	return searchKey{PDP: [2]string{p.workspace, p.provider}, Subject: body.subject, Action: body.action,
		Resource: body.resource, Context: body.context}
}

// searchPage reads the page member of a search and checks its token against the query.
func searchPage(kind string, p pdp, body *azBody) (pageReq, error) {
	pg, err := decodePage(body.page)
	if err != nil {
		return pageReq{}, err
	}
	return parsePage(pg, kind, keyOf(p, body))
}

// subjectSearch is a checked subject search: the type of subjects asked for (keyhold's and as
// sent), the action and the resource as an evaluation reads them (the subject's id is
// ignored, as the specification says).
type subjectSearch struct {
	q           evalQuery
	kind, asked string
	page        pageReq
}

func parseSubjectSearch(body *azBody, p pdp) (subjectSearch, error) {
	var s subjectSearch
	subj, err := decodeEntity(body.subject, field("subject"))
	if err != nil {
		return s, err
	}
	if subj.raw == nil {
		return s, apperr.Field("subject", "is required")
	}
	if s.asked, err = required(subj.typ, field("subject").with("type"), maxActionNameLen); err != nil {
		return s, err
	}
	if s.kind = subjectTypes[s.asked]; s.kind == "" || s.kind == subjectTypeToken {
		return s, apperr.Field("subject.type", "must be user (or identity), user-group or api-client")
	}
	s.q.subject = subj
	if err = s.q.setAction(body.action, field("action")); err != nil {
		return s, err
	}
	if err = s.q.setResource(body.resource, field("resource")); err != nil {
		return s, err
	}
	if err = s.q.setContext(body.context, field("context")); err != nil {
		return s, err
	}
	s.page, err = searchPage("subject", p, body)
	return s, err
}

// resourceSearch is a checked resource search: the subject and action as an evaluation reads
// them, and the resource type as sent (its id is ignored).
type resourceSearch struct {
	q     evalQuery
	rtype string
	page  pageReq
}

func parseResourceSearch(body *azBody, p pdp) (resourceSearch, error) {
	var s resourceSearch
	if err := s.q.setSubject(body.subject, field("subject")); err != nil {
		return s, err
	}
	if err := s.q.setAction(body.action, field("action")); err != nil {
		return s, err
	}
	res, err := decodeEntity(body.resource, field("resource"))
	if err != nil {
		return s, err
	}
	if res.raw == nil {
		return s, apperr.Field("resource", "is required")
	}
	if s.rtype, err = required(res.typ, field("resource").with("type"), maxActionNameLen); err != nil {
		return s, err
	}
	if provider, typ, ok := strings.Cut(s.rtype, "/"); !ok && !isSegment(provider) || ok && (!isSegment(provider) || !isSegment(typ)) {
		return s, apperr.Field("resource.type", "must be a resource type: <type> or <provider>/<type>")
	}
	s.q.resource = res
	if err = s.q.setContext(body.context, field("context")); err != nil {
		return s, err
	}
	s.page, err = searchPage("resource", p, body)
	return s, err
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

// subjectAnswer is the id a subject search answers for principal pr ("<type>:<id>"): the
// external id of a user of w's workspace when it names that user alone among the users w's
// assignments count for (so that an evaluation about it finds the same user), else the
// keyhold id (an MSP's users reaching a tenant are named by keyhold id: their identity
// provider's subject is not the tenant's to learn).
func (a *API) subjectAnswer(pr string, w rbac.Where) string {
	typ, id, _ := strings.Cut(pr, ":")
	if typ != principal.TypeUser || a.Users == nil {
		return id
	}
	u, ok := a.Users.Get(id)
	if !ok || u.ExternalID == "" || !u.MemberOf(w.Workspace) { // an MSP's user: not the tenant's to learn
		return id
	}
	if p, res := a.Users.Find(u.ExternalID, w.Workspace, w.MSP); res != identity.Found || p.ID != id {
		return id
	}
	return u.ExternalID
}

// resourceAnswer is the id a resource search asked with a bare type answers for the GRN text:
// the id EscapeID made its last segment from, when the GRN is the (type, id) resource of the
// workspace ws of provider and typ (what an evaluation maps (typ, id) to); else the GRN.
func resourceAnswer(text string, ws grn.GRN, provider, typ string) string {
	g, err := grn.Parse(text)
	if err != nil || g.Workspace != ws.Workspace || g.Region != defaultRegion || g.Provider != provider ||
		len(g.Path) != 1 || g.Path[0].Type != typ {
		return text
	}
	id, err := grn.UnescapeID(g.Path[0].ID)
	if err != nil || id == grn.Wildcard || strings.HasPrefix(id, "grn:") { // "grn:..." would be read back as a GRN
		return text
	}
	return id
}

// actionAnswer is the name an action search answers for permission perm: its short name on
// the resource type (provider, typ) when asked about a (type, id) resource, else perm.
func actionAnswer(perm, provider, typ string, short bool) string {
	if !short || provider == "" || typ == "" {
		return perm
	}
	prefix := provider + "." + typ + "."
	if name, ok := strings.CutPrefix(perm, prefix); ok && name != "" {
		return name
	}
	return perm
}

// decidePrincipal decides for a principal ("<type>:<id>") as an evaluation about it would,
// conditions reading the candidate as the subject and the search's resource, action and
// context as sent (base).
func (a *API) decidePrincipal(c *principal.Caller, base *evalQuery, pr, action string, resource grn.GRN) (azDecision, error) {
	typ, id, _ := strings.Cut(pr, ":")
	q := *base
	q.subjectType, q.subjectID, q.action, q.explain = typ, id, action, false
	q.subject = typedEntity(typ, id) // conditions see the candidate as the subject
	res := resolved{resource: resource, provider: resource.Provider}
	if len(resource.Path) > 0 {
		res.typ = resource.Path[len(resource.Path)-1].Type
	}
	return a.decide(c, &q, &res)
}

// namedEntity is the action {"name": name}, as a request would send it.
func namedEntity(name string) azEntity {
	return entityOf(struct {
		Name string `json:"name"`
	}{name})
}

// typedEntity is the entity {"type": typ, "id": id}, as a request would send it.
func typedEntity(typ, id string) azEntity { return entityOf(azTypedID{Type: typ, ID: id}) }

// entityOf is v, a struct of strings, decoded as the entity a request would send.
func entityOf(v any) azEntity {
	raw, _ := json.Marshal(v) // strings always marshal
	e, _ := decodeEntity(raw, fieldName{})
	return e
}
