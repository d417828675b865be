package httpapi

import (
	"encoding/json"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
)

// The subject and resource search requests (authzen_search.go) are decoded into these
// structs; the evaluation endpoints and action search read azBody instead.
type azSearchEntity struct {
	Type       *string                    `json:"type"`
	ID         *string                    `json:"id"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type azSearchAction struct {
	Name       *string                    `json:"name"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// entity is v (a search's entity or action) as the evaluation parsers read it.
func entity(v any) azEntity {
	raw, _ := json.Marshal(v) // structs of strings and raw JSON always marshal
	e, _ := decodeEntity(raw, fieldName{})
	return e
}

// subjectOf reads a search's subject as an evaluation's.
func subjectOf(s *azSearchEntity, field string) (string, string, error) {
	if s == nil {
		return "", "", apperr.Field(field, "is required")
	}
	e := entity(s)
	return parseSubject(&e, fieldName{name: field})
}

// asObject is a as an azObject, for conditions.
func (a *azAction) asObject() azObject {
	if a == nil {
		return nil
	}
	o := azObject{}
	if a.Name != nil {
		o["name"], _ = json.Marshal(*a.Name)
	}
	if a.Properties != nil {
		o["properties"], _ = json.Marshal(a.Properties)
	}
	return o
}

// actionName reads a search's action name.
func actionName(a *azSearchAction, field string) (string, error) {
	if a == nil {
		return "", apperr.Field(field, "is required")
	}
	e := entity(a)
	return parseAction(&e, fieldName{name: field})
}

// resourceGRN reads a search's resource, which must be a GRN (in id or properties.grn).
func resourceGRN(r *azSearchEntity, field string) (grn.GRN, error) {
	if r == nil {
		return grn.GRN{}, apperr.Field(field, "is required")
	}
	q := evalQuery{resource: entity(r)}
	if err := parseResource(&q, fieldName{name: field}); err != nil {
		return grn.GRN{}, err
	}
	if q.grnMember == "" {
		return grn.GRN{}, apperr.Field(field+".id", "must be a GRN, or properties.grn must give one")
	}
	return q.grn, nil
}

// decidePrincipal decides for a principal ("<type>:<id>") as an evaluation about it would,
// conditions reading the search request's resource, action and context (body may be nil).
func (a *API) decidePrincipal(c *principal.Caller, pr, action string, resource grn.GRN, body *azSearch) (azDecision, error) {
	typ, id, _ := strings.Cut(pr, ":")
	q := evalQuery{subjectType: typ, subjectID: id, action: action}
	if body != nil {
		q.subject = (&azEntity{Type: &typ, ID: &id}).asObject()
		q.resource, q.actionObj, q.context = body.Resource.asObject(), body.Action.asObject(), body.Context
	}
	res := resolved{resource: resource, provider: resource.Provider}
	if len(resource.Path) > 0 {
		res.typ = resource.Path[len(resource.Path)-1].Type
	}
	return a.decide(c, &q, &res)
}
