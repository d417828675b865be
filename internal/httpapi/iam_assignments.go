package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
)

// assignmentRoutes serves role assignments under prefix, naming the principal subjectField:
// "subject" in v2alpha2, "principal" in v1beta1. Everything else is the same.
func (a *API) assignmentRoutes(prefix, subjectField string) {
	base := prefix + "/role-assignments"
	h := assignmentHandlers{a: a, base: base, field: subjectField}
	a.route("GET "+base, permAuthzView, h.list)
	a.route("POST "+base, permAuthzEdit, h.create)
	a.route("GET "+base+"/{id}", permAuthzView, h.get)
	a.route("PUT "+base+"/{id}", permAuthzEdit, h.update)
	a.route("DELETE "+base+"/{id}", permAuthzDelete, h.delete)
}

type assignmentHandlers struct {
	a     *API
	base  string
	field string // "subject" or "principal"
}

type metadataJSON struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type assignmentJSON struct {
	ID                string       `json:"id"`
	Type              string       `json:"type"`
	Subject           string       `json:"subject,omitempty"`
	Principal         string       `json:"principal,omitempty"`
	PrincipalMetadata metadataJSON `json:"principalMetadata"`
	Role              string       `json:"role"`
	RoleMetadata      metadataJSON `json:"roleMetadata"`
	Scope             []string     `json:"scope"`
	Condition         string       `json:"condition,omitempty"` // keyhold extension
	Source            string       `json:"source"`
	Generation        int64        `json:"generation"`
	CreatedAt         string       `json:"createdAt"`
	UpdatedAt         string       `json:"updatedAt"`
}

func (h assignmentHandlers) out(v *rbac.AssignmentView) assignmentJSON {
	typ, id, _ := strings.Cut(v.Subject, ":")
	out := assignmentJSON{ID: v.ID, Type: "authorization/role-assignment", Role: v.RoleGRN,
		PrincipalMetadata: metadataJSON{ID: id, Type: "identity/" + typ},
		RoleMetadata:      metadataJSON{ID: v.RoleID, Type: "authorization/role"},
		Scope:             v.Scopes, Condition: v.Condition, Source: v.Source, Generation: v.Generation,
		CreatedAt: timestamp(v.CreatedAt), UpdatedAt: timestamp(v.UpdatedAt)}
	if out.Scope == nil {
		out.Scope = []string{}
	}
	if h.field == "principal" {
		out.Principal = v.Subject
	} else {
		out.Subject = v.Subject
	}
	return out
}

// assignmentBody is the body of a create or update. It names the principal with the
// version's field only; the read-only fields of a read assignment are accepted (a client may
// send back what it read) and ignored.
type assignmentBody struct {
	ID        *string  `json:"id"`
	Subject   *string  `json:"subject"`
	Principal *string  `json:"principal"`
	Role      *string  `json:"role"`
	Scope     []string `json:"scope"`
	// Condition is keyhold's extension: a CEL expression the assignment grants under.
	Condition *string `json:"condition"`

	Type              json.RawMessage `json:"type"`
	PrincipalMetadata json.RawMessage `json:"principalMetadata"`
	RoleMetadata      json.RawMessage `json:"roleMetadata"`
	Source            json.RawMessage `json:"source"`
	Generation        json.RawMessage `json:"generation"`
	CreatedAt         json.RawMessage `json:"createdAt"`
	UpdatedAt         json.RawMessage `json:"updatedAt"`
}

func (h assignmentHandlers) input(b *assignmentBody, pathID string) (rbac.AssignmentInput, error) {
	subject, other := b.Subject, b.Principal
	if h.field == "principal" {
		subject, other = b.Principal, b.Subject
	}
	in := rbac.AssignmentInput{SubjectField: h.field, Scopes: b.Scope}
	switch {
	case other != nil:
		name := "principal"
		if h.field == "principal" {
			name = "subject"
		}
		return in, apperr.Field(name, "is not a known field (this API version names it %s)", h.field)
	case pathID != "" && (b.ID == nil || !sameID(*b.ID, pathID)):
		return in, apperr.Field("id", "is required and must match the path")
	case pathID == "" && b.ID != nil:
		return in, apperr.Field("id", "is assigned by the server")
	case subject == nil:
		return in, apperr.Field(h.field, "is required")
	case b.Role == nil:
		return in, apperr.Field("role", "is required")
	case b.Scope == nil:
		return in, apperr.Field("scope", "is required")
	}
	in.Subject, in.Role = *subject, *b.Role
	if b.Condition != nil {
		if *b.Condition == "" {
			return in, apperr.Field("condition", "must not be empty (leave it out for an unconditional assignment)")
		}
		in.Condition = *b.Condition
	}
	return in, nil
}

func (h assignmentHandlers) list(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, q, err := listQuery(r, pagingStandard, "filter")
	if err != nil {
		h.a.writeVersionedError(w, r, h.base, err)
		return
	}
	list, total, err := h.a.IAM.ListAssignments(r.Context(), c, h.field, q.Get("filter"), p)
	if err != nil {
		h.a.writeVersionedError(w, r, h.base, err)
		return
	}
	items := make([]assignmentJSON, 0, len(list))
	for i := range list {
		items = append(items, h.out(&list[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, total))
}

func (h assignmentHandlers) create(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b assignmentBody
	in, err := decodeInput(w, r, &b, func() (rbac.AssignmentInput, error) { return h.input(&b, "") })
	if err != nil {
		h.a.writeVersionedError(w, r, h.base, err)
		return
	}
	v, err := h.a.IAM.CreateAssignment(r.Context(), c, in)
	if err != nil {
		h.a.writeVersionedError(w, r, h.base, err)
		return
	}
	w.Header().Set("Location", h.a.BaseURL+h.base+"/"+v.ID)
	writeJSON(w, http.StatusCreated, h.out(v))
}

func (h assignmentHandlers) get(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	v, err := h.a.IAM.GetAssignment(r.Context(), c, r.PathValue("id"))
	if err != nil {
		h.a.writeVersionedError(w, r, h.base, err)
		return
	}
	writeJSON(w, http.StatusOK, h.out(v))
}

func (h assignmentHandlers) update(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b assignmentBody
	in, err := decodeInput(w, r, &b, func() (rbac.AssignmentInput, error) { return h.input(&b, r.PathValue("id")) })
	if err != nil {
		h.a.writeVersionedError(w, r, h.base, err)
		return
	}
	v, err := h.a.IAM.UpdateAssignment(r.Context(), c, r.PathValue("id"), in, ifMatch(r))
	if err != nil {
		h.a.writeVersionedError(w, r, h.base, err)
		return
	}
	writeJSON(w, http.StatusOK, h.out(v))
}

func (h assignmentHandlers) delete(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := h.a.IAM.DeleteAssignment(r.Context(), c, r.PathValue("id"), ifMatch(r)); err != nil {
		h.a.writeVersionedError(w, r, h.base, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
