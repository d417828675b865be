package httpapi

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
)

// AuthZEN Authorization API 1.0 request bodies. properties, context and options are open
// objects: keyhold reads the members it knows (resource.properties.grn, context.explain,
// options.evaluations_semantic) and ignores the others, as the specification asks.
type azEntity struct {
	Type       *string                    `json:"type"`
	ID         *string                    `json:"id"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type azAction struct {
	Name       *string                    `json:"name"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type azEvaluation struct {
	Subject  *azEntity                  `json:"subject"`
	Action   *azAction                  `json:"action"`
	Resource *azEntity                  `json:"resource"`
	Context  map[string]json.RawMessage `json:"context"`
}

type azEvaluationsRequest struct {
	Subject     *azEntity                  `json:"subject"`
	Action      *azAction                  `json:"action"`
	Resource    *azEntity                  `json:"resource"`
	Context     map[string]json.RawMessage `json:"context"`
	Evaluations []azEvaluation             `json:"evaluations"`
	Options     map[string]json.RawMessage `json:"options"`
}

// Limits of decision requests.
const (
	maxEvaluations   = 200
	maxActionNameLen = 128
	subjectTypeToken = "token"
)

// Batch semantics of the evaluations endpoint.
const (
	semanticExecuteAll  = "execute_all"
	semanticDenyOnDeny  = "deny_on_first_deny"
	semanticPermitFirst = "permit_on_first_permit"
)

// evalQuery is one decision request after validation: the subject is either a principal
// ("user:<id>") or an access token to verify; resource is a parsed GRN.
type evalQuery struct {
	principal string
	token     string
	action    string
	resource  grn.GRN
	explain   bool
}

// merged fills the members an evaluation leaves out from the request's defaults.
func (e azEvaluation) merged(def *azEvaluationsRequest) azEvaluation {
	if e.Subject == nil {
		e.Subject = def.Subject
	}
	if e.Action == nil {
		e.Action = def.Action
	}
	if e.Resource == nil {
		e.Resource = def.Resource
	}
	if e.Context == nil {
		e.Context = def.Context
	}
	return e
}

// parseEvaluation validates one evaluation; field prefixes the names of bad members (e.g.
// "evaluations[2].").
func parseEvaluation(e azEvaluation, field string, needAction bool) (evalQuery, error) {
	var q evalQuery
	var err error
	if q.principal, q.token, err = parseSubject(e.Subject, field+"subject"); err != nil {
		return q, err
	}
	if needAction {
		if q.action, err = parseAction(e.Action, field+"action"); err != nil {
			return q, err
		}
	}
	if q.resource, err = parseResource(e.Resource, field+"resource"); err != nil {
		return q, err
	}
	q.explain, err = explainFlag(e.Context, field+"context")
	return q, err
}

func parseSubject(s *azEntity, field string) (string, string, error) {
	switch {
	case s == nil:
		return "", "", apperr.Field(field, "is required")
	case s.Type == nil || *s.Type == "":
		return "", "", apperr.Field(field+".type", "is required")
	case s.ID == nil || *s.ID == "":
		return "", "", apperr.Field(field+".id", "is required")
	}
	switch *s.Type {
	case subjectTypeToken:
		return "", *s.ID, nil
	case principal.TypeUser, principal.TypeUserGroup, principal.TypeAPIClient:
		typ, id, err := principal.Parse(*s.Type + ":" + *s.ID)
		if err != nil {
			return "", "", apperr.Field(field+".id", "must be a UUID")
		}
		return typ + ":" + id, "", nil
	}
	return "", "", apperr.Field(field+".type", "must be user, user-group, api-client or token")
}

func parseAction(a *azAction, field string) (string, error) {
	switch {
	case a == nil:
		return "", apperr.Field(field, "is required")
	case a.Name == nil || *a.Name == "":
		return "", apperr.Field(field+".name", "is required")
	case len(*a.Name) > maxActionNameLen:
		return "", apperr.Field(field+".name", "must be at most %d characters", maxActionNameLen)
	}
	return *a.Name, nil
}

// parseResource reads the resource's GRN from its id or, when the id is not a GRN, from
// properties.grn. type is required by AuthZEN and informational here: the GRN's last type is
// what permissions are checked against.
func parseResource(r *azEntity, field string) (grn.GRN, error) {
	switch {
	case r == nil:
		return grn.GRN{}, apperr.Field(field, "is required")
	case r.Type == nil || *r.Type == "":
		return grn.GRN{}, apperr.Field(field+".type", "is required")
	case r.ID == nil || *r.ID == "":
		return grn.GRN{}, apperr.Field(field+".id", "is required")
	}
	text, sub := *r.ID, field+".id"
	if !strings.HasPrefix(text, "grn:") {
		raw, ok := r.Properties["grn"]
		if !ok {
			return grn.GRN{}, apperr.Field(sub, "must be a GRN, or properties.grn must give one")
		}
		sub = field + ".properties.grn"
		if err := json.Unmarshal(raw, &text); err != nil {
			return grn.GRN{}, apperr.Field(sub, "must be a string")
		}
	}
	g, err := grn.Parse(text)
	if err != nil {
		return grn.GRN{}, apperr.Field(sub, "%s", err.Error())
	}
	return g, nil
}

// explainFlag reads context.explain, keyhold's request for the reasons of a decision.
func explainFlag(ctx map[string]json.RawMessage, field string) (bool, error) {
	raw, ok := ctx["explain"]
	if !ok {
		return false, nil
	}
	var on bool
	if err := json.Unmarshal(raw, &on); err != nil {
		return false, apperr.Field(field+".explain", "must be a boolean")
	}
	return on, nil
}

// batchSemantic reads options.evaluations_semantic (execute_all by default).
func batchSemantic(opts map[string]json.RawMessage) (string, error) {
	raw, ok := opts["evaluations_semantic"]
	if !ok {
		return semanticExecuteAll, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", apperr.Field("options.evaluations_semantic", "must be a string")
	}
	switch s {
	case semanticExecuteAll, semanticDenyOnDeny, semanticPermitFirst:
		return s, nil
	}
	return "", apperr.Field("options.evaluations_semantic", "must be %s, %s or %s", semanticExecuteAll, semanticDenyOnDeny, semanticPermitFirst)
}

// evaluationPlan is a validated evaluations request: a query, or why not, per evaluation.
// single is set when the request has no evaluations array (AuthZEN then treats it as one
// evaluation, answered like /access/v1/evaluation).
type evaluationPlan struct {
	single   bool
	semantic string
	queries  []evalQuery
	errs     []error
}

// planEvaluations validates an evaluations request. An error is a fault of the whole request
// (a bad semantic, no or too many evaluations); a fault of one evaluation is in errs.
func planEvaluations(body *azEvaluationsRequest) (evaluationPlan, error) {
	if len(body.Evaluations) == 0 && body.Options == nil {
		q, err := parseEvaluation(azEvaluation{Subject: body.Subject, Action: body.Action, Resource: body.Resource,
			Context: body.Context}, "", true)
		return evaluationPlan{single: true, queries: []evalQuery{q}, errs: []error{err}}, nil
	}
	semantic, err := batchSemantic(body.Options)
	if err != nil {
		return evaluationPlan{}, err
	}
	if len(body.Evaluations) == 0 || len(body.Evaluations) > maxEvaluations {
		return evaluationPlan{}, apperr.Field("evaluations", "must list 1 to %d evaluations", maxEvaluations)
	}
	p := evaluationPlan{semantic: semantic, queries: make([]evalQuery, len(body.Evaluations)), errs: make([]error, len(body.Evaluations))}
	for i, e := range body.Evaluations {
		p.queries[i], p.errs[i] = parseEvaluation(e.merged(body), "evaluations["+strconv.Itoa(i)+"].", true)
	}
	return p, nil
}
