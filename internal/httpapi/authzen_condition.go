package httpapi

import (
	"encoding/json"
	"slices"
	"strconv"
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

// ConditionVars implements rbac.VarSource: each variable is decoded from the request the
// first time a condition reads it.
func (f *conditionFacts) ConditionVars() *rbac.Vars {
	return &rbac.Vars{Load: f.variable}
}

// variable builds the condition variable name from the request (and, for the subject, the
// user's stored attributes).
func (f *conditionFacts) variable(name string) map[string]any {
	switch name {
	case rbac.VarSubject:
		v := entityVars(jsonObject(f.q.subject.raw), "type", "id")
		if f.user != "" && f.a.Users != nil {
			if p, ok := f.a.Users.Get(f.user); ok {
				v["attributes"] = p.Properties()
			}
		}
		return v
	case rbac.VarResource:
		return entityVars(jsonObject(f.q.resource.raw), "type", "id")
	case rbac.VarAction:
		return entityVars(jsonObject(f.q.actionEnt.raw), "name")
	case rbac.VarContext:
		return jsonObject(f.q.context)
	}
	return nil
}

// jsonObject decodes the object raw, as sent (a member given twice: the last, as
// encoding/json reads it); nil or not an object: an empty map. raw is part of a checked
// body (readOpenBody): valid UTF-8, valid JSON, no lone surrogate escapes.
func jsonObject(raw json.RawMessage) map[string]any {
	if len(raw) > 0 && raw[0] == '{' {
		return jsonAny(raw).(map[string]any)
	}
	return map[string]any{}
}

// jsonAny decodes raw, one JSON value of a checked body, as encoding/json decodes into an
// interface value (FuzzJSONAny holds it to that): objects as map[string]any, arrays as []any,
// numbers as float64 (nil when out of float64's range), strings, booleans and nil. It walks
// the bytes in place; only strings with escapes go through encoding/json.
func jsonAny(raw []byte) any {
	switch raw[0] {
	case '{':
		m := map[string]any{}
		it := members(raw, fieldName{})
		it.anyKeys = true // the last of a member given twice, as encoding/json keeps
		for {
			k, v, ok, err := it.next()
			if !ok || err != nil {
				return m
			}
			m[string(k)] = jsonAny(v)
		}
	case '[':
		out := []any{}
		for i := skipSpace(raw, 1); raw[i] != ']'; {
			end := skipValue(raw, i)
			out = append(out, jsonAny(raw[i:end]))
			if i = skipSpace(raw, end); raw[i] == ',' {
				i = skipSpace(raw, i+1)
			}
		}
		return out
	case '"':
		s, _ := stringValue(raw, fieldName{})
		return s
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil
	}
	return f
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
