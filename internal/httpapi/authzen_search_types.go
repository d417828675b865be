package httpapi

import (
	"encoding/json"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
)

// The subject and resource search requests (authzen_search.go) are decoded into these
// structs; the evaluation endpoints and action search read azObject instead.
type azEntity struct {
	Type       *string                    `json:"type"`
	ID         *string                    `json:"id"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type azAction struct {
	Name       *string                    `json:"name"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// asObject is e as an azObject, for the evaluation parsers.
func (e *azEntity) asObject() azObject {
	if e == nil {
		return nil
	}
	o := azObject{}
	if e.Type != nil {
		o["type"], _ = json.Marshal(*e.Type)
	}
	if e.ID != nil {
		o["id"], _ = json.Marshal(*e.ID)
	}
	if e.Properties != nil {
		o["properties"], _ = json.Marshal(e.Properties)
	}
	return o
}

// subjectOf reads a search's subject as an evaluation's.
func subjectOf(s *azEntity, field string) (string, string, error) {
	return parseSubject(s.asObject(), field)
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
func actionName(a *azAction, field string) (string, error) {
	if a == nil {
		return "", apperr.Field(field, "is required")
	}
	o := azObject{}
	if a.Name != nil {
		o["name"], _ = json.Marshal(*a.Name)
	}
	return parseAction(o, field)
}

// resourceGRN reads a search's resource, which must be a GRN (in id or properties.grn).
func resourceGRN(r *azEntity, field string) (grn.GRN, error) {
	q := evalQuery{resource: r.asObject()}
	if err := parseResource(&q, field); err != nil {
		return grn.GRN{}, err
	}
	if q.grnField == "" {
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
