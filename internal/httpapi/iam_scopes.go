package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
)

type scopeJSON struct {
	ID                      string `json:"id"`
	Type                    string `json:"type"`
	GRN                     string `json:"grn"`
	Description             string `json:"description"`
	Region                  string `json:"region"`
	AllScopes               bool   `json:"allScopes"`
	ResourceTypeDisplayName string `json:"resourceTypeDisplayName"`
}

func scopeOut(v *rbac.ScopeView) scopeJSON {
	return scopeJSON{ID: v.ID, Type: "authorization/scope-group/scope", GRN: v.GRN, Description: v.Description,
		Region: v.Region, AllScopes: v.AllScopes, ResourceTypeDisplayName: v.ResourceTypeDisplayName}
}

func (h scopeGroupHandlers) listScopes(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	p, _, err := listQuery(r, pagingScopes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, total, err := h.a.IAM.ListScopes(r.Context(), c, r.PathValue("id"), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	items := make([]scopeJSON, 0, len(list))
	for i := range list {
		items = append(items, scopeOut(&list[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, total))
}

// scopeItem is one scope to add; its read-only fields are accepted and ignored.
type scopeItem struct {
	GRN         *string `json:"grn"`
	Description *string `json:"description"`

	ID                      json.RawMessage `json:"id"`
	Type                    json.RawMessage `json:"type"`
	Region                  json.RawMessage `json:"region"`
	AllScopes               json.RawMessage `json:"allScopes"`
	ResourceTypeDisplayName json.RawMessage `json:"resourceTypeDisplayName"`
}

type addScopesBody struct {
	Items []scopeItem `json:"items"`
}

type removeScopesBody struct {
	Items []struct {
		ID string `json:"id"`
	} `json:"items"`
}

// batchError is one failed item of a batch, in GreenLake's error shape.
type batchError struct {
	ID             string           `json:"id,omitempty"`
	HTTPStatusCode int              `json:"httpStatusCode"`
	ErrorCode      string           `json:"errorCode"`
	Message        string           `json:"message"`
	DebugID        string           `json:"debugId"`
	ErrorDetails   []map[string]any `json:"errorDetails,omitempty"`
}

func (h scopeGroupHandlers) itemError(w http.ResponseWriter, r *http.Request, res *rbac.ScopeResult) batchError {
	e := res.Err
	out := batchError{HTTPStatusCode: e.Kind.Status(), ErrorCode: e.ErrorCode(), Message: e.Message, DebugID: ids.New()}
	switch {
	case len(e.Issues) > 0:
		out.ErrorDetails = []map[string]any{{"type": "hpe.greenlake.bad_request", "issues": e.Issues}}
	case e.Kind == apperr.Conflict:
		out.ErrorDetails = []map[string]any{{"type": "hpe.greenlake.metadata", "source": "hpe.greenlake.authorization",
			"metadata": map[string]string{"grn": res.GRN, "description": res.Description}}}
	}
	level := slog.LevelInfo
	if e.Kind == apperr.Internal {
		level = slog.LevelError
		out.Message = "internal error"
	}
	h.a.Log.Log(r.Context(), level, "batch item failed", "debug_id", out.DebugID, "status", out.HTTPStatusCode,
		"error", e.Error(), "request_id", requestID(w))
	return out
}

func (h scopeGroupHandlers) addScopes(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b addScopesBody
	if err := decodeJSON(w, r, &b); err != nil {
		h.fail(w, r, err)
		return
	}
	if b.Items == nil {
		h.fail(w, r, apperr.Field("items", "is required"))
		return
	}
	items := make([]rbac.ScopeInput, len(b.Items))
	for i, it := range b.Items {
		if it.GRN != nil {
			items[i].GRN = *it.GRN
		}
		if it.Description != nil {
			items[i].Description = *it.Description
		}
	}
	results, err := h.a.IAM.AddScopes(r.Context(), c, r.PathValue("id"), items)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	successes, failures := []scopeJSON{}, []batchError{}
	for i := range results {
		if res := &results[i]; res.Err != nil {
			failures = append(failures, h.itemError(w, r, res))
		} else {
			successes = append(successes, scopeOut(res.Scope))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"successCount": len(successes), "errorCount": len(failures),
		"successes": successes, "errors": failures})
}

func (h scopeGroupHandlers) removeScopes(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var b removeScopesBody
	if err := decodeJSON(w, r, &b); err != nil {
		h.fail(w, r, err)
		return
	}
	if b.Items == nil {
		h.fail(w, r, apperr.Field("items", "is required"))
		return
	}
	scopeIDs := make([]string, len(b.Items))
	for i, it := range b.Items {
		scopeIDs[i] = it.ID
	}
	results, err := h.a.IAM.RemoveScopes(r.Context(), c, r.PathValue("id"), scopeIDs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type idJSON struct {
		ID string `json:"id"`
	}
	successes, failures := []idJSON{}, []batchError{}
	for i := range results {
		if res := &results[i]; res.Err != nil {
			be := h.itemError(w, r, res)
			be.ID = res.ID
			failures = append(failures, be)
		} else {
			successes = append(successes, idJSON{ID: res.ID})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"successCount": len(successes), "errorCount": len(failures),
		"successes": successes, "errors": failures})
}
