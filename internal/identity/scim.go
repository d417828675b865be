package identity

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/scim"
)

// SCIM schema URNs keyhold's SCIM resources use (RFC 7643 and GreenLake's extensions).
const (
	SchemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaUserExt    = "urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:User"
	SchemaGroupExt   = "urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Group"
	SchemaPosixUser  = "urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:posix:User"
	SchemaPatchOp    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	maxSCIMGroupName = 201
	// MaxPatchOperations bounds the operations of one PATCH request.
	MaxPatchOperations = 1000
)

// PatchOp is one operation of a SCIM PATCH request (RFC 7644 §3.5.2), as decoded: Value is
// the raw JSON of its value (nil when absent).
type PatchOp struct {
	Op    string
	Path  string
	Value json.RawMessage
}

// opField names a part of operation i in error messages ("Operations[2].path").
func opField(i int, part string) string { return fmt.Sprintf("Operations[%d].%s", i, part) }

// patchVerb is an operation's op, lower-cased and checked.
func patchVerb(i int, op string) (string, error) {
	switch v := strings.ToLower(op); v {
	case "add", "remove", "replace":
		return v, nil
	}
	return "", apperr.Field(opField(i, "op"), "must be add, remove or replace")
}

// attrKey is the lower-cased name a path's attribute goes by: the core schema's URN
// dropped, an extension's kept ("urn:...:group:groupdescription"), a sub-attribute appended.
func attrKey(p scim.AttrPath, core string) string {
	key := strings.ToLower(p.Name)
	if p.URN != "" && !strings.EqualFold(p.URN, core) {
		key = strings.ToLower(p.URN) + ":" + key
	}
	if p.Sub != "" {
		key += "." + strings.ToLower(p.Sub)
	}
	return key
}

// parsePatchPath parses operation i's path; "" is no path.
func parsePatchPath(i int, raw string) (*scim.Path, error) {
	if raw == "" {
		return nil, nil
	}
	p, err := scim.ParsePath(raw)
	if err != nil {
		return nil, apperr.Field(opField(i, "path"), "%s", err.Error())
	}
	return &p, nil
}

// readOnly reports attributes a client may not change (RFC 7643 mutability readOnly).
func readOnly(key string) bool {
	return key == "id" || key == "meta" || strings.HasPrefix(key, "meta.") || key == "schemas" || key == "groups"
}

// errReadOnly is a 400 for a change to a read-only attribute; its description starts with
// "is read-only", which the HTTP layer answers as scimType mutability.
func errReadOnly(field string) error { return apperr.Field(field, "is read-only (mutability)") }

// stringValue decodes operation i's value as a string (null and absent are "").
func stringValue(i int, v json.RawMessage) (string, error) {
	if len(v) == 0 || string(v) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", apperr.Field(opField(i, "value"), "must be a string")
	}
	return s, nil
}

// memberRef is one element of a group's members: value is the user's id.
type memberRef struct {
	Value string `json:"value"`
}

// MemberIDs decodes a members value (an array of {"value": id}, or one such object) into
// user ids in their canonical form.
func MemberIDs(field string, v json.RawMessage) ([]string, error) {
	var list []memberRef
	if err := json.Unmarshal(v, &list); err != nil {
		var one memberRef
		if err := json.Unmarshal(v, &one); err != nil {
			return nil, apperr.Field(field, "must be an array of members, each with a value (a user id)")
		}
		list = []memberRef{one}
	}
	out := make([]string, 0, len(list))
	for j, m := range list {
		id, err := ids.Parse(m.Value)
		if err != nil {
			return nil, apperr.Field(fmt.Sprintf("%s[%d].value", field, j), "must be a user id")
		}
		out = append(out, id)
	}
	return out, nil
}

// ObjectValue decodes a value that must be a JSON object into lower-cased keys; two keys
// that differ only in case are refused (SCIM attribute names are case-insensitive).
func ObjectValue(field string, v json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		return nil, apperr.Field(field, "must be an object")
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, x := range m {
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup {
			return nil, apperr.Field(field+"."+k, "appears more than once")
		}
		out[lk] = x
	}
	return out, nil
}
