package httpapi

import (
	"encoding/json"
	"slices"
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
	subject, resource, action, context := f.q.conditionInput()
	v := &rbac.Vars{Subject: entityVars(subject, "type", "id"), Resource: entityVars(resource, "type", "id"),
		Action: entityVars(action, "name"), Context: context}
	if f.user != "" && f.a.Users != nil {
		if p, ok := f.a.Users.Get(f.user); ok {
			v.Subject["attributes"] = p.Properties()
		}
	}
	return v
}

// conditionInput decodes the request's subject, resource, action and context objects as
// sent (nil when absent). This is the one place that knows how evalQuery holds them.
func (q *evalQuery) conditionInput() (subject, resource, action, context map[string]any) {
	return jsonObject(q.subject.raw), jsonObject(q.resource.raw), jsonObject(q.actionEnt.raw), jsonObject(q.context)
}

// jsonObject decodes the object raw, as sent (a member given twice: the last, as
// encoding/json reads it); nil or not an object: an empty map.
func jsonObject(raw json.RawMessage) map[string]any {
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &out) // raw is valid JSON: the body was checked whole
	}
	return out
}

// entityVars is an entity of the request (decoded) as conditions see it: its named members
// (type and id, or name) and its properties, which are the members of its properties object
// and, where that object does not set them, the other members of the entity itself (where
// the drafts before AuthZEN 1.0 put properties; see azEntity.Property).
func entityVars(o map[string]any, named ...string) map[string]any {
	out := map[string]any{}
	props, _ := o["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	for k, v := range o {
		switch {
		case k == "properties":
		case slices.Contains(named, k):
			out[k] = v
		default:
			if _, set := props[k]; !set {
				props[k] = v
			}
		}
	}
	out["properties"] = props
	return out
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
