package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
)

// azObject is a JSON object of an AuthZEN request (the request itself, subject, resource,
// action, context, options, an item of evaluations), held member by member so that only
// exact member names count and members keyhold does not know are ignored, as AuthZEN 1.0
// requires of receivers (§ JSON Serialization). nil is an absent object.
type azObject map[string]json.RawMessage

// object reads member name as an object; absent or null is nil.
func (o azObject) object(name, field string) (azObject, error) {
	raw, ok := o[name]
	if !ok || isNull(raw) {
		return nil, nil
	}
	return decodeObject(raw, field)
}

// decodeObject decodes raw, one valid JSON value, as an object; a member given twice is
// refused (encoding/json would keep the last, where another reader of the same body, the
// PEP's, may take the first).
func decodeObject(raw json.RawMessage, field string) (azObject, error) {
	var m azObject
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, apperr.Field(field, "must be an object")
	}
	if memberCount(raw) != len(m) {
		return nil, apperr.Field(field, "has a member more than once")
	}
	return m, nil
}

// memberCount counts the members of the object raw (valid JSON) holds, without allocating.
func memberCount(raw []byte) int {
	n := 0
	for i := skipSpace(raw, skipSpace(raw, 0)+1); i < len(raw) && raw[i] != '}'; n++ {
		i = skipSpace(raw, skipSpace(raw, skipString(raw, i))+1) // past the key and the colon
		if i = skipSpace(raw, skipValue(raw, i)); i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return n
}

// str reads member name as a string: "" when absent or null.
func (o azObject) str(name, field string) (string, error) {
	raw, ok := o[name]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", apperr.Field(field, "must be a string")
	}
	return s, nil
}

// property returns property name of an entity: from its properties object, or else from its
// top level, where drafts before AuthZEN 1.0 (e.g. 1.0-00, which the interop's early decision
// files use) put properties ({"type": "todo", "id": "1", "ownerID": "..."}). nil when absent.
func (o azObject) property(name string) json.RawMessage {
	if raw, ok := o["properties"]; ok && len(raw) > 0 && raw[0] == '{' {
		var props azObject
		if json.Unmarshal(raw, &props) == nil {
			if v, ok := props[name]; ok {
				return v
			}
		}
	}
	if name == "type" || name == "id" || name == "name" || name == "properties" {
		return nil
	}
	return o[name]
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

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
	grnField    string  // the member the GRN came from ("" when none)
	explain     bool
	// The objects as sent, for conditions over their properties.
	subject, resource, actionObj, context azObject
}

// parseEvaluation checks one evaluation; field prefixes the names of bad members (e.g.
// "evaluations[2].").
func parseEvaluation(e azObject, field string, needAction bool) (evalQuery, error) {
	var q evalQuery
	var err error
	if q.subject, err = e.object("subject", field+"subject"); err != nil {
		return q, err
	}
	if q.subjectType, q.subjectID, err = parseSubject(q.subject, field+"subject"); err != nil {
		return q, err
	}
	if needAction {
		if q.actionObj, err = e.object("action", field+"action"); err != nil {
			return q, err
		}
		if q.action, err = parseAction(q.actionObj, field+"action"); err != nil {
			return q, err
		}
	}
	if q.resource, err = e.object("resource", field+"resource"); err != nil {
		return q, err
	}
	if err = parseResource(&q, field+"resource"); err != nil {
		return q, err
	}
	q.context, err = e.object("context", field+"context")
	return q, err
}

// required reads a required, non-empty string member of at most max bytes.
func required(o azObject, name, field string, max int) (string, error) {
	s, err := o.str(name, field+"."+name)
	switch {
	case err != nil:
		return "", err
	case s == "":
		return "", apperr.Field(field+"."+name, "is required")
	case len(s) > max:
		return "", apperr.Field(field+"."+name, "must be at most %d bytes", max)
	}
	return s, nil
}

func parseSubject(s azObject, field string) (string, string, error) {
	if s == nil {
		return "", "", apperr.Field(field, "is required")
	}
	typ, err := required(s, "type", field, maxActionNameLen)
	if err != nil {
		return "", "", err
	}
	id, err := required(s, "id", field, maxBodyBytes)
	if err != nil {
		return "", "", err
	}
	kind, ok := subjectTypes[typ]
	if !ok {
		return "", "", apperr.Field(field+".type", "must be user (or identity), user-group, api-client or token")
	}
	if kind != subjectTypeToken && len(id) > maxIDLen {
		return "", "", apperr.Field(field+".id", "must be at most %d bytes", maxIDLen)
	}
	return kind, id, nil
}

func parseAction(a azObject, field string) (string, error) {
	if a == nil {
		return "", apperr.Field(field, "is required")
	}
	return required(a, "name", field, maxActionNameLen)
}

// parseResource reads the resource's type and id, and its GRN when the id is one or
// properties.grn gives one.
func parseResource(q *evalQuery, field string) error {
	r := q.resource
	if r == nil {
		return apperr.Field(field, "is required")
	}
	var err error
	if q.resType, err = required(r, "type", field, maxActionNameLen); err != nil {
		return err
	}
	if q.resID, err = required(r, "id", field, maxIDLen); err != nil {
		return err
	}
	text := q.resID
	q.grnField = field + ".id"
	if !strings.HasPrefix(text, "grn:") {
		raw := q.resource.property("grn")
		if raw == nil {
			q.grnField = ""
			return nil
		}
		q.grnField = field + ".properties.grn"
		if err := json.Unmarshal(raw, &text); err != nil {
			return apperr.Field(q.grnField, "must be a string")
		}
	}
	g, err := grn.Parse(text)
	if err != nil {
		return apperr.Field(q.grnField, "%s", err.Error())
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

// batchSemantic reads options.evaluations_semantic (execute_all by default).
func batchSemantic(opts azObject) (string, error) {
	s, err := opts.str("evaluations_semantic", "options.evaluations_semantic")
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
func planEvaluations(body azObject) (evaluationPlan, error) {
	var items []json.RawMessage
	if raw, ok := body["evaluations"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &items); err != nil {
			return evaluationPlan{}, apperr.Field("evaluations", "must be an array")
		}
	}
	opts, err := body.object("options", "options")
	if err != nil {
		return evaluationPlan{}, err
	}
	semantic, err := batchSemantic(opts)
	if err != nil {
		return evaluationPlan{}, err
	}
	if len(items) == 0 {
		q, err := parseEvaluation(body, "", true)
		return evaluationPlan{single: true, queries: []evalQuery{q}, errs: []error{err}}, nil
	}
	if len(items) > maxEvaluations {
		return evaluationPlan{}, apperr.Field("evaluations", "must list at most %d evaluations", maxEvaluations)
	}
	p := evaluationPlan{semantic: semantic, queries: make([]evalQuery, len(items)), errs: make([]error, len(items))}
	for i, raw := range items {
		field := "evaluations[" + strconv.Itoa(i) + "]"
		item, err := decodeObject(raw, field)
		if err != nil {
			p.errs[i] = err
			continue
		}
		p.queries[i], p.errs[i] = parseEvaluation(withDefaults(item, body), field+".", true)
	}
	return p, nil
}

// withDefaults fills the members an evaluation leaves out from the request's top level.
func withDefaults(item, def azObject) azObject {
	for _, k := range [...]string{"subject", "action", "resource", "context"} {
		if _, ok := item[k]; !ok {
			if v, ok := def[k]; ok {
				item[k] = v
			}
		}
	}
	return item
}
