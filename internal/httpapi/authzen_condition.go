package httpapi

import (
	"encoding/json"
	"strings"

	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
)

// conditionFacts is what the conditions of role assignments read in one AuthZEN decision:
// the request's subject, resource, action and context as sent, and the stored attributes of
// the user the decision is about. It implements rbac.VarSource: the engine asks for the
// variables only when a decision reaches a conditional assignment, so the members are
// decoded then, never for a decision that meets no condition.
type conditionFacts struct {
	a *API
	q *evalQuery
	// user is the canonical id of the user whose attributes conditions see as
	// subject.attributes ("" when the subject is no user and owns nothing).
	user string
}

// ConditionVars implements rbac.VarSource.
func (f *conditionFacts) ConditionVars() *rbac.Vars {
	v := &rbac.Vars{Subject: entityVars(f.q.subject, "type", "id"), Resource: entityVars(f.q.resource, "type", "id"),
		Action: entityVars(f.q.actionObj, "name"), Context: jsonObject(f.q.context)}
	if f.user != "" && f.a.Users != nil {
		if p, ok := f.a.Users.Get(f.user); ok {
			v.Subject["attributes"] = p.Properties
		}
	}
	return v
}

// entityVars is an entity of the request as conditions see it: its named members (type and
// id, or name) and its properties, which are the members of its properties object and,
// where that object does not set them, the other members of the entity itself (where the
// drafts before AuthZEN 1.0 put properties; see azObject.property).
func entityVars(o azObject, named ...string) map[string]any {
	out := map[string]any{}
	if o == nil {
		return out
	}
	props := jsonObject(o.rawObject("properties"))
	for k, raw := range o {
		switch {
		case k == "properties":
		case contains(named, k):
			if v, ok := jsonValue(raw); ok {
				out[k] = v
			}
		default:
			if _, set := props[k]; !set {
				if v, ok := jsonValue(raw); ok {
					props[k] = v
				}
			}
		}
	}
	out["properties"] = props
	return out
}

// rawObject returns member name when it is a JSON object (nil otherwise).
func (o azObject) rawObject(name string) azObject {
	raw, ok := o[name]
	if !ok || len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m azObject
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// jsonObject decodes every member of o (members that do not decode are left out).
func jsonObject(o azObject) map[string]any {
	out := make(map[string]any, len(o))
	for k, raw := range o {
		if v, ok := jsonValue(raw); ok {
			out[k] = v
		}
	}
	return out
}

func jsonValue(raw json.RawMessage) (any, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil, false
	}
	return v, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// attributesUser is the user whose stored attributes a decision's conditions read: the first
// user among the principals (the subject user, or the owner of an API client or of a token).
func attributesUser(principals []string) string {
	for _, pr := range principals {
		if id, ok := strings.CutPrefix(pr, principal.TypeUser+":"); ok {
			return id
		}
	}
	return ""
}
