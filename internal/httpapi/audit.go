package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/audit"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// The audit-log API (GreenLake's audit-logs document) and its permission.
const (
	auditLogsPath = "/audit-log/v2beta1/logs"
	// Paging of the audit-log list, as the document gives it; totals are counted up to
	// auditCountCap, past which remainingRecords is true.
	auditDefaultLimit = 50
	auditMaxLimit     = 2000
	auditCountCap     = 10000
)

func (a *API) auditRoutes() {
	a.route("GET "+auditLogsPath, rbac.PermAuditView, a.listAuditLogs)
	a.route("GET "+auditLogsPath+"/{id}", rbac.PermAuditView, a.getAuditLog)
	a.route("GET "+auditLogsPath+"/{id}/details", rbac.PermAuditView, a.getAuditLogDetails)
}

// withActor puts the audit actor of a write request into its context: the storage write
// path appends the record inside the write's transaction (storage.AuditActor). Reads carry
// none.
func (a *API) withActor(r *http.Request, w http.ResponseWriter, c *principal.Caller) (*http.Request, *storage.AuditActor) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r, nil
	}
	who := c.Subject
	if c.Act != nil {
		who += " (acting for " + c.Act.Subject + ")"
	}
	route := r.Pattern
	if _, p, ok := strings.Cut(route, " "); ok {
		route = p
	}
	act := &storage.AuditActor{
		Chain: c.WorkspaceID, Principal: c.Subject, CredentialID: c.ClientID, OwnerID: c.OwnerID,
		SourceAddr: ratelimit.SourceAddr(r), RequestID: requestID(w),
		Category: audit.Category(route), Action: r.Method + " " + route,
		TargetKind: audit.TargetKindOf(route),
		Describe:   audit.Describer(c.WorkspaceID, who, audit.Verb(r.Method, route)),
		Now:        a.now,
	}
	return r.WithContext(storage.WithAudit(r.Context(), act)), act
}

// emitAudit hands a committed record to the stream.
func (a *API) emitAudit(act *storage.AuditActor) {
	if act == nil || a.AuditSink == nil {
		return
	}
	if rec := act.Record(); rec != nil {
		a.AuditSink.Emit(rec)
	}
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// noteAuthFailure records a failed bearer authentication, off the request's path (the
// Recorder batches). Bearer tokens name no workspace one can trust, so these go to the
// platform chain.
func (a *API) noteAuthFailure(r *http.Request, reason string) {
	if a.Audit == nil {
		return
	}
	a.Audit.Note(&storage.AuditRecord{At: a.now(), Category: audit.CategoryAuthentication, Action: audit.ActionAuthFailed,
		Outcome: storage.AuditFailure, SourceAddr: ratelimit.SourceAddr(r), RequestID: r.Header.Get("X-Request-Id"),
		Description: "bearer authentication failed (" + reason + ") on " + r.Method + " " + truncated(r.URL.Path)})
}

// auditItem is the document's AuditLogItem.
type auditItem struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Category       string          `json:"category"`
	CreatedAt      string          `json:"createdAt"`
	Description    string          `json:"description"`
	Username       string          `json:"username"`
	IPAddress      *string         `json:"ipAddress,omitempty"`
	HasDetails     *bool           `json:"hasDetails,omitempty"`
	AdditionalInfo *map[string]any `json:"additionalInfo,omitempty"`
	ServiceOffer   auditOffer      `json:"serviceOffer"`
	Workspace      auditWorkspace  `json:"workspace"`
}

type auditOffer struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Region string `json:"region"`
}

type auditWorkspace struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

var glWorkspaceTypes = map[string]string{storage.WorkspaceStandard: "STANDALONE", storage.WorkspaceTenant: "TENANT",
	storage.WorkspaceMSP: "MSP"}

// auditSelectable are the select parameter's names. Fields the document requires are always
// served; select leaves out the optional ones it does not name.
var auditSelectable = map[string]bool{"serviceOffer": true, "createdAt": true, "category": true, "hasDetails": true,
	"workspace": true, "description": true, "username": true, "ipAddress": true, "additionalInfo": true}

func toAuditItem(it *storage.AuditItem, sel map[string]bool) auditItem {
	username := it.Username
	if username == "" {
		username = it.Principal
	}
	out := auditItem{ID: it.ID, Type: "/audit-log/log", Category: it.Category, CreatedAt: it.At.UTC().Format(time.RFC3339Nano),
		Description: it.Description, Username: username,
		ServiceOffer: auditOffer{ID: audit.PlatformServiceOffer, Name: audit.PlatformServiceOfferName, Region: audit.PlatformRegion},
		Workspace:    auditWorkspace{ID: it.Chain, Name: it.WorkspaceName, Type: glWorkspaceTypes[it.WorkspaceType]}}
	if sel == nil || sel["ipAddress"] {
		ip := it.SourceAddr
		out.IPAddress = &ip
	}
	if sel == nil || sel["hasDetails"] {
		t := true
		out.HasDetails = &t
	}
	if sel == nil || sel["additionalInfo"] {
		info := map[string]any{}
		out.AdditionalInfo = &info
	}
	return out
}

func (a *API) listAuditLogs(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	q, err := queryParams(r, "filter", "select", "limit", "offset", "sort")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	limit, offset := auditDefaultLimit, 0
	if v := q.Get("limit"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 || n > auditMaxLimit {
			a.writeError(w, r, apperr.Invalid(apperr.SourceQuery, "limit", "must be an integer from 1 to 2000"))
			return
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 0 {
			a.writeError(w, r, apperr.Invalid(apperr.SourceQuery, "offset", "must be a non-negative integer"))
			return
		}
		offset = n
	}
	pred, err := audit.CompileFilter(q.Get("filter"))
	if err != nil {
		a.writeError(w, r, apperr.Invalid(apperr.SourceQuery, "filter", err.Error()))
		return
	}
	sort, err := audit.CompileSort(q.Get("sort"))
	if err != nil {
		a.writeError(w, r, apperr.Invalid(apperr.SourceQuery, "sort", err.Error()))
		return
	}
	sel, err := parseAuditSelect(q.Get("select"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items, total, err := a.Store.ListAudit(r.Context(), storage.AuditQuery{Chain: c.WorkspaceID, Filter: pred, Sort: sort,
		Offset: offset, Limit: limit, CountUpTo: auditCountCap + 1})
	if err != nil {
		a.writeError(w, r, apperr.Wrap(err, "list audit logs"))
		return
	}
	out := make([]auditItem, len(items))
	for i := range items {
		out[i] = toAuditItem(&items[i], sel)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "count": len(out), "offset": offset,
		"total": min(total, auditCountCap), "remainingRecords": total > auditCountCap})
}

func parseAuditSelect(v string) (map[string]bool, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	sel := map[string]bool{}
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if !auditSelectable[f] {
			return nil, apperr.Invalid(apperr.SourceQuery, "select", strconv.Quote(truncated(f))+" is not a selectable attribute")
		}
		sel[f] = true
	}
	return sel, nil
}

// auditRecord reads one record of the caller's workspace; any other id is 404, whoever's it
// is.
func (a *API) auditRecord(w http.ResponseWriter, r *http.Request, c *principal.Caller) (*storage.AuditItem, bool) {
	notFound := apperr.New(apperr.NotFound, "no audit log with this id")
	id, err := ids.Parse(r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, notFound)
		return nil, false
	}
	it, err := a.Store.GetAudit(r.Context(), c.WorkspaceID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		a.writeError(w, r, notFound)
		return nil, false
	case err != nil:
		a.writeError(w, r, apperr.Wrap(err, "get audit log"))
		return nil, false
	}
	return it, true
}

func (a *API) getAuditLog(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if it, ok := a.auditRecord(w, r, c); ok {
		writeJSON(w, http.StatusOK, toAuditItem(it, nil))
	}
}

func (a *API) getAuditLogDetails(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	it, ok := a.auditRecord(w, r, c)
	if !ok {
		return
	}
	body := []string{
		"Action: " + it.Action,
		"Outcome: " + it.Outcome,
		"Principal: " + it.Principal,
	}
	for _, kv := range [][2]string{{"Credential", it.CredentialID}, {"Owner", it.OwnerID}, {"Username", it.Username},
		{"Source address", it.SourceAddr}, {"Target kind", it.TargetKind}, {"Target id", it.TargetID},
		{"Target GRN", it.TargetGRN}, {"Debug id", it.RequestID}} {
		if kv[1] != "" {
			body = append(body, kv[0]+": "+kv[1])
		}
	}
	body = append(body, "Chain position: "+strconv.FormatInt(it.Seq, 10), "Previous hash: "+it.PrevHash, "Hash: "+it.Hash)
	writeJSON(w, http.StatusOK, map[string]any{"id": it.ID, "type": "/audit-log/log/details",
		"header": it.Category + ": " + it.Description, "body": body})
}
