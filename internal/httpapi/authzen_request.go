package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/scope"
)

// azEntity is a subject, resource or action of an AuthZEN request as sent: the members
// keyhold reads, as raw JSON values sliced out of the body (nil when absent), and the whole
// object, whose other members (pre-1.0 drafts put properties there) are read only on demand.
// The zero azEntity is an absent object.
type azEntity struct {
	raw                  json.RawMessage // the object; nil when absent or null
	typ, id, name, props json.RawMessage
}

// decodeEntity reads raw (a member's value as sent, nil when absent), which must be an
// object (or null: absent) with no member given twice; field names it in errors.
func decodeEntity(raw []byte, field fieldName) (azEntity, error) {
	obj, err := objectValue(raw, field)
	if obj == nil || err != nil {
		return azEntity{}, err
	}
	e := azEntity{raw: obj}
	it := members(obj, field)
	for {
		key, v, ok, err := it.next()
		if err != nil || !ok {
			return e, err
		}
		switch string(key) {
		case "type":
			e.typ = v
		case "id":
			e.id = v
		case "name":
			e.name = v
		case "properties":
			e.props = v
		}
	}
}

// Properties is the entity's properties member as sent: a JSON object, or nil when it is
// absent, null or not an object (which keyhold ignores). Conditions read it.
func (e *azEntity) Properties() json.RawMessage {
	if len(e.props) == 0 || e.props[0] != '{' {
		return nil
	}
	return e.props
}

// Property returns property name of the entity as sent: from its properties object, or else
// from its top level, where drafts before AuthZEN 1.0 (e.g. 1.0-00, which the interop's early
// decision files use) put properties ({"type": "todo", "id": "1", "ownerID": "..."}). nil
// when absent.
func (e *azEntity) Property(name string) json.RawMessage {
	if v := lookup(e.Properties(), name); v != nil {
		return v
	}
	switch name {
	case "type", "id", "name", "properties":
		return nil
	}
	return lookup(e.raw, name)
}

// azMembers are the members of an evaluation (the request's top level, or an item of
// evaluations) as sent: raw values, nil when absent.
type azMembers struct {
	subject, action, resource, context []byte
}

// azBody is the top level of an AuthZEN request as sent: raw values, nil when absent.
type azBody struct {
	azMembers
	evaluations, options, page []byte
}

// decodeMembers reads the members of the object obj keyhold knows, in one pass; any other
// member is skipped, a member given twice is refused.
func decodeMembers(obj []byte, field fieldName) (azBody, error) {
	var b azBody
	it := members(obj, field)
	for {
		key, v, ok, err := it.next()
		if err != nil || !ok {
			return b, err
		}
		switch string(key) {
		case "subject":
			b.subject = v
		case "action":
			b.action = v
		case "resource":
			b.resource = v
		case "context":
			b.context = v
		case "evaluations":
			b.evaluations = v
		case "options":
			b.options = v
		case "page":
			b.page = v
		}
	}
}

// Limits of decision requests.
const (
	maxEvaluations   = 200
	maxActionNameLen = 128
	// maxIDLen bounds subject and resource ids (a resource id becomes at most three times
	// longer in its GRN, which is bounded by grn.MaxLength anyway).
	maxIDLen         = 512
	subjectTypeToken = "token"
)

// Batch semantics of the evaluations endpoint.
const (
	semanticExecuteAll  = "execute_all"
	semanticDenyOnDeny  = "deny_on_first_deny"
	semanticPermitFirst = "permit_on_first_permit"
)

// subjectTypes maps the subject types keyhold accepts to its principal types: its own
// names, GreenLake's principalMetadata types, and the generic names AuthZEN clients send
// ("identity" is what the API-gateway interop scenario calls a user).
var subjectTypes = map[string]string{
	principal.TypeUser: principal.TypeUser, "identity": principal.TypeUser, "identity/user": principal.TypeUser,
	principal.TypeUserGroup: principal.TypeUserGroup, "group": principal.TypeUserGroup, "identity/user-group": principal.TypeUserGroup,
	principal.TypeAPIClient: principal.TypeAPIClient, "client": principal.TypeAPIClient, "identity/api-client": principal.TypeAPIClient,
	subjectTypeToken: subjectTypeToken,
}

// evalQuery is one decision request after syntax checks, before it is resolved against the
// PDP (pdp.go): the subject as sent (type mapped to keyhold's), the action name as sent, and
// the resource as a GRN (grnText) or as AuthZEN's (type, id).
type evalQuery struct {
	subjectType string // principal.TypeUser, TypeUserGroup, TypeAPIClient or subjectTypeToken
	subjectID   string
	action      string
	resType     string
	resID       string
	grn         grn.GRN // the resource's GRN when id (or properties.grn) gives one
	grnMember   string  // the member of resource the GRN came from ("id", "properties.grn"; "" when none)
	field       string  // the prefix of the evaluation's members in errors ("evaluations[2].")
	explain     bool
	// The request's subject, resource and action objects and its context as sent, raw JSON
	// parsed only by what reads them: conditions over their properties read
	// subject.Properties(), resource.Property(name), Context() and so on.
	subject, resource, actionEnt azEntity
	context                      json.RawMessage
	// scope is the subject's properties.scope, parsed (nil: absent or "", no restriction);
	// tokenScope a token subject's own scope claim (set by subject). A decision allows only
	// what both permit (permits).
	scope, tokenScope *scope.Set
}

// permits reports whether the subject's scopes (properties.scope and a token subject's own)
// permit permission: a scope only narrows what the assignments grant.
func (q *evalQuery) permits(permission string) bool {
	return q.scope.Permits(permission) && q.tokenScope.Permits(permission)
}

// grnField names the member the resource's GRN came from.
func (q *evalQuery) grnField() string { return q.field + "resource." + q.grnMember }

// Context is the evaluation's context as sent: a JSON object with no member given twice at
// its top level, or nil when absent or null.
func (q *evalQuery) Context() json.RawMessage { return q.context }

// parseEvaluation checks one evaluation; field prefixes the names of bad members (e.g.
// "evaluations[2].").
func parseEvaluation(m azMembers, field string, needAction bool) (evalQuery, error) {
	q := evalQuery{field: field}
	for i := range evalParts {
		part := &evalParts[i]
		if !needAction && part.name == "action" {
			continue
		}
		if err := part.set(&q, part.member(&m), fieldName{field, part.name, ""}); err != nil {
			return q, err
		}
	}
	return q, nil
}

// evalParts are the parts of an evaluation, in the order they are checked: how each is read
// from the members and copied from a parsed default (the request's top level, for an item of
// evaluations that leaves the member out).
var evalParts = [...]struct {
	name   string
	member func(*azMembers) []byte
	set    func(q *evalQuery, raw []byte, field fieldName) error
	copy   func(dst, src *evalQuery)
}{
	{"subject", func(m *azMembers) []byte { return m.subject }, (*evalQuery).setSubject,
		func(d, s *evalQuery) {
			d.subjectType, d.subjectID, d.subject, d.scope = s.subjectType, s.subjectID, s.subject, s.scope
		}},
	{"action", func(m *azMembers) []byte { return m.action }, (*evalQuery).setAction,
		func(d, s *evalQuery) { d.action, d.actionEnt = s.action, s.actionEnt }},
	{"resource", func(m *azMembers) []byte { return m.resource }, (*evalQuery).setResource,
		func(d, s *evalQuery) {
			d.resType, d.resID, d.grn, d.grnMember, d.resource = s.resType, s.resID, s.grn, s.grnMember, s.resource
		}},
	{"context", func(m *azMembers) []byte { return m.context }, (*evalQuery).setContext,
		func(d, s *evalQuery) { d.context = s.context }},
}

func (q *evalQuery) setSubject(raw []byte, field fieldName) error {
	var err error
	if q.subject, err = decodeEntity(raw, field); err != nil {
		return err
	}
	if q.subjectType, q.subjectID, err = parseSubject(&q.subject, field); err != nil {
		return err
	}
	q.scope, err = subjectScope(&q.subject, field)
	return err
}

// subjectScope reads the subject's properties.scope: an OAuth scope value (package scope) that
// narrows the decision as a token's scope narrows its caller's rights, the way a PEP passes
// on the scope of the token it was shown. Absent, null or "": no restriction. Anything else
// that is not a well-formed scope is a 400 naming the member, never an unrestricted decision.
func subjectScope(s *azEntity, field fieldName) (*scope.Set, error) {
	raw := lookup(s.Properties(), "scope")
	if raw == nil {
		return nil, nil
	}
	f := field.with("properties.scope")
	v, err := stringValue(raw, f)
	if err != nil || v == "" {
		return nil, err
	}
	sc, err := scope.Parse(v)
	if err != nil {
		return nil, apperr.Field(f.String(), "%s", err.Error())
	}
	return sc, nil
}

func (q *evalQuery) setAction(raw []byte, field fieldName) error {
	var err error
	if q.actionEnt, err = decodeEntity(raw, field); err != nil {
		return err
	}
	q.action, err = parseAction(&q.actionEnt, field)
	return err
}

func (q *evalQuery) setResource(raw []byte, field fieldName) error {
	var err error
	if q.resource, err = decodeEntity(raw, field); err != nil {
		return err
	}
	return parseResource(q, field)
}

func (q *evalQuery) setContext(raw []byte, field fieldName) error {
	var err error
	q.context, err = checkedObject(raw, field)
	return err
}

// required reads a required, non-empty string member (raw as sent) of at most max bytes.
func required(raw []byte, field fieldName, max int) (string, error) {
	s, err := stringValue(raw, field)
	switch {
	case err != nil:
		return "", err
	case s == "":
		return "", apperr.Field(field.String(), "is required")
	case len(s) > max:
		return "", apperr.Field(field.String(), "must be at most %d bytes", max)
	}
	return s, nil
}

func parseSubject(s *azEntity, field fieldName) (string, string, error) {
	if s.raw == nil {
		return "", "", apperr.Field(field.String(), "is required")
	}
	typ, err := required(s.typ, field.with("type"), maxActionNameLen)
	if err != nil {
		return "", "", err
	}
	id, err := required(s.id, field.with("id"), maxBodyBytes)
	if err != nil {
		return "", "", err
	}
	kind, ok := subjectTypes[typ]
	if !ok {
		return "", "", apperr.Field(field.with("type").String(), "must be user (or identity), user-group, api-client or token")
	}
	if kind != subjectTypeToken && len(id) > maxIDLen {
		return "", "", apperr.Field(field.with("id").String(), "must be at most %d bytes", maxIDLen)
	}
	return kind, id, nil
}

func parseAction(a *azEntity, field fieldName) (string, error) {
	if a.raw == nil {
		return "", apperr.Field(field.String(), "is required")
	}
	return required(a.name, field.with("name"), maxActionNameLen)
}

// parseResource reads the resource's type and id, and its GRN when the id is one or
// properties.grn gives one; field names the resource.
func parseResource(q *evalQuery, field fieldName) error {
	r := &q.resource
	if r.raw == nil {
		return apperr.Field(field.String(), "is required")
	}
	var err error
	if q.resType, err = required(r.typ, field.with("type"), maxActionNameLen); err != nil {
		return err
	}
	if q.resID, err = required(r.id, field.with("id"), maxIDLen); err != nil {
		return err
	}
	text := q.resID
	q.grnMember = "id"
	if !strings.HasPrefix(text, "grn:") {
		raw := r.Property("grn")
		if raw == nil {
			q.grnMember = ""
			return nil
		}
		q.grnMember = "properties.grn"
		if text, err = stringValue(raw, field.with(q.grnMember)); err != nil || isNull(raw) {
			return apperr.Field(field.with(q.grnMember).String(), "must be a string")
		}
	}
	g, err := grn.Parse(text)
	if err != nil {
		return apperr.Field(field.with(q.grnMember).String(), "%s", err.Error())
	}
	q.grn = g
	return nil
}

// explainHeader switches on keyhold's explanations of decisions. It is a header, not a
// member of the request's context, which belongs to the PEP and may carry anything.
const explainHeader = "Keyhold-Explain"

// explainFlag reads the Keyhold-Explain header: "true" or "false" (absent: false).
func explainFlag(r *http.Request) (bool, error) {
	v := r.Header.Get(explainHeader)
	if v == "" {
		return false, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, apperr.Invalid(apperr.SourceHdr, explainHeader, "must be true or false")
	}
	return on, nil
}

// batchSemantic reads options.evaluations_semantic (execute_all by default) from the
// options member as sent.
func batchSemantic(raw []byte) (string, error) {
	opts, err := checkedObject(raw, field("options"))
	if err != nil {
		return "", err
	}
	s, err := stringValue(lookup(opts, "evaluations_semantic"), field("options").with("evaluations_semantic"))
	switch {
	case err != nil:
		return "", err
	case s == "":
		return semanticExecuteAll, nil
	case s == semanticExecuteAll, s == semanticDenyOnDeny, s == semanticPermitFirst:
		return s, nil
	}
	return "", apperr.Field("options.evaluations_semantic", "must be %s, %s or %s", semanticExecuteAll, semanticDenyOnDeny, semanticPermitFirst)
}

// evaluationPlan is a checked evaluations request: a query, or why not, per evaluation.
// single is set when the request has no evaluations, or an empty array (AuthZEN then treats
// it as one evaluation, answered like /access/v1/evaluation).
type evaluationPlan struct {
	single   bool
	semantic string
	queries  []evalQuery
	errs     []error
}

// planEvaluations checks an evaluations request. An error is a fault of the whole request
// (a bad semantic, too many evaluations); a fault of one evaluation is in errs.
func planEvaluations(body *azBody) (evaluationPlan, error) {
	items, err := arrayItems(body.evaluations, "evaluations", maxEvaluations)
	if err != nil {
		return evaluationPlan{}, err
	}
	semantic, err := batchSemantic(body.options)
	if err != nil {
		return evaluationPlan{}, err
	}
	if len(items) == 0 {
		q, err := parseEvaluation(body.azMembers, "", true)
		return evaluationPlan{single: true, queries: []evalQuery{q}, errs: []error{err}}, nil
	}
	if len(items) > maxEvaluations {
		return evaluationPlan{}, apperr.Field("evaluations", "must list at most %d evaluations", maxEvaluations)
	}
	p := evaluationPlan{semantic: semantic, queries: make([]evalQuery, len(items)), errs: make([]error, len(items))}
	def := batchDefaults{members: body.azMembers}
	for i, raw := range items {
		prefix := "evaluations[" + strconv.Itoa(i) + "]."
		item := fieldName{name: prefix[:len(prefix)-1]}
		var members azBody
		obj, err := objectValue(raw, item)
		if err == nil && obj == nil {
			err = apperr.Field(item.String(), "must be an object")
		}
		if err == nil {
			members, err = decodeMembers(obj, item)
		}
		if err != nil {
			p.errs[i] = err
			continue
		}
		p.queries[i], p.errs[i] = def.parse(&members.azMembers, prefix)
	}
	return p, nil
}

// arrayItems returns the elements of raw (a value as sent; nil or null: none), which must be
// an array; past max elements it stops, returning max+1 of them.
func arrayItems(raw []byte, field string, max int) ([][]byte, error) {
	switch {
	case raw == nil || isNull(raw):
		return nil, nil
	case raw[0] != '[':
		return nil, apperr.Field(field, "must be an array")
	}
	items := make([][]byte, 0, 16)
	for i := skipSpace(raw, 1); raw[i] != ']' && len(items) <= max; {
		end := skipValue(raw, i)
		items = append(items, raw[i:end])
		if i = skipSpace(raw, end); raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return items, nil
}

// batchDefaults are the members of a batch's top level, which fill the members an item
// leaves out. Each is parsed once, on first use, and copied into the items that use it.
type batchDefaults struct {
	members azMembers
	parsed  [len(evalParts)]bool
	errs    [len(evalParts)]error
	q       evalQuery
}

// parse checks one item of a batch; field is its prefix ("evaluations[2].").
func (d *batchDefaults) parse(item *azMembers, field string) (evalQuery, error) {
	q := evalQuery{field: field}
	for i := range evalParts {
		part := &evalParts[i]
		raw := part.member(item)
		if raw == nil {
			if !d.parsed[i] {
				d.parsed[i], d.errs[i] = true, part.set(&d.q, part.member(&d.members), fieldName{name: part.name})
			}
			if d.errs[i] == nil {
				part.copy(&q, &d.q)
				continue
			}
			raw = part.member(&d.members) // parsed again to name the item's member in the error
		}
		if err := part.set(&q, raw, fieldName{field, part.name, ""}); err != nil {
			return q, err
		}
	}
	return q, nil
}
