package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/storage"
)

// scimPrefix is where GreenLake serves SCIM 2.0; every answer under it, errors included, is
// in SCIM's format (RFC 7644 §3.12) with GreenLake's error extension.
const scimPrefix = "/identity/v2beta1/scim/v2"

// SCIM message schemas.
const (
	scimListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimError        = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimErrorExt     = "urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Error"
)

// SCIM paging (RFC 7644 §3.4.2.4, and the document's count: 200 by default and at most).
const scimMaxCount = 200

func (a *API) scimRoutes() {
	const groups = scimPrefix + "/Groups"
	a.route("GET "+groups, permIdentityView, a.scimListGroups)
	a.route("POST "+groups, permIdentityEdit, a.scimCreateGroup)
	a.route("GET "+groups+"/{id}", permIdentityView, a.scimGetGroup)
	a.route("PATCH "+groups+"/{id}", permIdentityEdit, a.scimPatchGroup)
	a.route("DELETE "+groups+"/{id}", permIdentityDelete, a.scimDeleteGroup)
	a.route("GET "+scimPrefix+"/extensions/Groups/{id}/users", permIdentityView, a.scimGroupUsers)
	a.route("GET "+scimPrefix+"/extensions/Users/{id}/groups", permIdentityView, a.scimUserGroups)
}

func isSCIM(r *http.Request) bool {
	return r.URL.Path == scimPrefix || strings.HasPrefix(r.URL.Path, scimPrefix+"/")
}

var contentTypeSCIM = []string{"application/scim+json"}

func writeSCIM(w http.ResponseWriter, status int, body any) {
	w.Header()["Content-Type"] = contentTypeSCIM
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// scimErrorBody is RFC 7644's error with GreenLake's extension.
type scimErrorBody struct {
	Schemas  []string  `json:"schemas"`
	Status   string    `json:"status"`
	ScimType string    `json:"scimType,omitempty"`
	Detail   string    `json:"detail"`
	Ext      errorBody `json:"urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:Error"`
}

// scimType is the SCIM error type of an error (RFC 7644 §3.12, table 9).
func scimType(e *apperr.Error) string {
	switch e.Kind {
	case apperr.Conflict:
		return "uniqueness"
	case apperr.BadRequest:
		for _, is := range e.Issues {
			switch {
			case is.Subject == "filter":
				return "invalidFilter"
			case strings.HasSuffix(is.Subject, ".path") && strings.Contains(is.Description, "noTarget"):
				return "noTarget"
			case strings.HasSuffix(is.Subject, ".path") && !strings.Contains(is.Description, "read-only"):
				return "invalidPath"
			case strings.HasPrefix(is.Description, "is read-only"):
				return "mutability"
			case is.Subject == "body":
				return "invalidSyntax"
			}
		}
		return "invalidValue"
	}
	return ""
}

// writeSCIMError answers err in SCIM's error format; the GreenLake extension carries the
// same code, message and debugId as keyhold's other errors.
func (a *API) writeSCIMError(w http.ResponseWriter, r *http.Request, e *apperr.Error, body errorBody) {
	status := body.HTTPStatusCode
	if e.Kind == apperr.Internal || e.Kind == apperr.Unavailable {
		a.Log.Log(r.Context(), slog.LevelError, "scim request failed", "debug_id", body.DebugID, "cause", e.Error())
	}
	detail := e.Message
	for _, is := range e.Issues {
		detail = is.Subject + ": " + is.Description
	}
	writeSCIM(w, status, scimErrorBody{Schemas: []string{scimError, scimErrorExt}, Status: strconv.Itoa(status),
		ScimType: scimType(e), Detail: detail, Ext: body})
}

// scimQuery is a SCIM list's query: its page, startIndex, whether count was 0 (only
// totalResults is wanted) and the extra parameters the endpoint reads.
type scimQuery struct {
	page  storage.Page
	start int
	none  bool
	vals  map[string]string
}

// scimPage reads startIndex and count (RFC 7644 §3.4.2.4): startIndex below 1 counts as 1,
// count below 0 as 0 (totalResults only) and above the maximum as the maximum.
// attributes and excludedAttributes are accepted and not applied (keyhold returns every
// attribute; RFC 7644 §3.4.2.5 lets a server return more than asked).
func scimPage(r *http.Request, extra ...string) (scimQuery, error) {
	q, err := queryParams(r, append(extra, "startIndex", "count", "attributes", "excludedAttributes")...)
	if err != nil {
		return scimQuery{}, err
	}
	start, count := 1, scimMaxCount
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return scimQuery{}, apperr.Invalid(apperr.SourceQuery, "startIndex", "must be an integer")
		}
		start = max(n, 1)
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return scimQuery{}, apperr.Invalid(apperr.SourceQuery, "count", "must be an integer")
		}
		count = min(max(n, 0), scimMaxCount)
	}
	out := scimQuery{page: storage.Page{Limit: max(count, 1), Offset: start - 1}, start: start, none: count == 0,
		vals: map[string]string{}}
	for _, k := range extra {
		out.vals[k] = q.Get(k)
	}
	return out, nil
}

// scimList is a ListResponse.
func scimList[T any](items []T, start, total int) map[string]any {
	if items == nil {
		items = []T{}
	}
	return map[string]any{"schemas": []string{scimListResponse}, "totalResults": total, "startIndex": start,
		"itemsPerPage": len(items), "Resources": items}
}

// etag is the entity tag of a generation: W/"<generation>" (meta.version too).
func etag(generation int64) string { return `W/"` + strconv.FormatInt(generation, 10) + `"` }

// scimIfMatch reads If-Match as a generation: W/"3", "3" or 3; "*" matches anything.
func scimIfMatch(r *http.Request) string {
	v := ifMatch(r)
	if v == "*" {
		return ""
	}
	return v
}

// decodeSCIM reads a SCIM request body: one JSON object, bounded, valid UTF-8, whose
// attribute names are matched case-insensitively (RFC 7643 §2.1): the keys are returned
// lower-cased, and two that differ only in case are refused.
func decodeSCIM(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && mt != "application/scim+json") {
			return nil, &apperr.Error{Kind: apperr.UnsupportedMediaType, Message: "the request body must be application/scim+json"}
		}
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, maxSCIMBody), r.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apperr.Error{Kind: apperr.PayloadTooLarge, Message: fmt.Sprintf("the request body exceeds %d bytes", maxSCIMBody)}
		}
		return nil, apperr.New(apperr.BadRequest, "the request body could not be read")
	}
	if !utf8.Valid(body) {
		return nil, apperr.Field("body", "must be valid UTF-8")
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, apperr.Field("body", "must be one JSON object")
	}
	if dec.More() {
		return nil, apperr.Field("body", "must contain exactly one JSON object")
	}
	if err := noLoneSurrogates(body); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup {
			return nil, apperr.Field(truncated(k), "appears more than once")
		}
		out[lk] = v
	}
	return out, nil
}

// maxSCIMBody bounds a SCIM body: a group PATCH may carry many members (1,000 operations
// or members of about 100 bytes each).
const maxSCIMBody = 1 << 20

// scimString decodes an optional string attribute; absent and null are "".
func scimString(m map[string]json.RawMessage, key, field string) (string, bool, error) {
	v, ok := m[key]
	if !ok || string(v) == "null" {
		return "", ok, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", true, apperr.Field(field, "must be a string")
	}
	return s, true, nil
}

// scimSchemas checks the schemas attribute: present, an array of strings naming want among
// the known URNs.
func scimSchemas(m map[string]json.RawMessage, want string, known ...string) error {
	v, ok := m["schemas"]
	if !ok {
		return apperr.Field("schemas", "is required")
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil {
		return apperr.Field("schemas", "must be an array of schema URNs")
	}
	found := false
	for _, s := range list {
		ok := false
		for _, k := range append(known, want) {
			ok = ok || strings.EqualFold(s, k)
		}
		if !ok {
			return apperr.Field("schemas", "names %s, which this resource does not use", truncated(s))
		}
		found = found || strings.EqualFold(s, want)
	}
	if !found {
		return apperr.Field("schemas", "must include %s", want)
	}
	return nil
}

// decodeSCIMPatch reads a PATCH request's body (decodeSCIM) as a PatchOp message.
func decodeSCIMPatch(w http.ResponseWriter, r *http.Request) ([]identity.PatchOp, error) {
	m, err := decodeSCIM(w, r)
	if err != nil {
		return nil, err
	}
	return scimPatchOps(m)
}

// scimPatchOps decodes a PatchOp message (RFC 7644 §3.5.2).
func scimPatchOps(m map[string]json.RawMessage) ([]identity.PatchOp, error) {
	if err := scimSchemas(m, identity.SchemaPatchOp); err != nil {
		return nil, err
	}
	v, ok := m["operations"]
	if !ok {
		return nil, apperr.Field("Operations", "is required")
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, apperr.Field("Operations", "must be an array of operations")
	}
	if len(raw) == 0 {
		return nil, apperr.Field("Operations", "must hold at least one operation")
	}
	if len(raw) > identity.MaxPatchOperations {
		return nil, apperr.Field("Operations", "at most %d operations per request", identity.MaxPatchOperations)
	}
	ops := make([]identity.PatchOp, 0, len(raw))
	for i, o := range raw {
		var op identity.PatchOp
		for k, x := range o {
			field := fmt.Sprintf("Operations[%d].%s", i, k)
			switch strings.ToLower(k) {
			case "op":
				if err := json.Unmarshal(x, &op.Op); err != nil {
					return nil, apperr.Field(field, "must be a string")
				}
			case "path":
				if err := json.Unmarshal(x, &op.Path); err != nil {
					return nil, apperr.Field(field, "must be a string")
				}
			case "value":
				op.Value = x
			default:
				return nil, apperr.Field(truncated(field), "is not a member of a PATCH operation")
			}
		}
		if op.Op == "" {
			return nil, apperr.Field(fmt.Sprintf("Operations[%d].op", i), "is required")
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func (a *API) scimMeta(kind, path string, id string, created, modified string, generation int64) map[string]any {
	return map[string]any{"resourceType": kind, "created": created, "lastModified": modified,
		"location": a.BaseURL + scimPrefix + path + "/" + id, "version": etag(generation)}
}

// sourceInstance is where a resource's lifecycle is controlled from: the workspace, for
// both the Local and the SCIM sources (keyhold has no separate SCIM integration object).
func sourceOf(src string) string {
	if src == "" {
		return storage.SourceLocal
	}
	return src
}
