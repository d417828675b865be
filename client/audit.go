package client

import (
	"context"
	"iter"
	"net/http"
	"time"
)

const auditPath = "/audit-log/v2beta1/logs"

// AuditLog is one record of the workspace's audit log.
type AuditLog struct {
	ID             string         `json:"id"`
	Type           string         `json:"type"`
	Category       string         `json:"category"`
	CreatedAt      time.Time      `json:"createdAt"`
	Description    string         `json:"description"`
	Username       string         `json:"username"`
	IPAddress      string         `json:"ipAddress,omitempty"`
	HasDetails     bool           `json:"hasDetails,omitempty"`
	AdditionalInfo map[string]any `json:"additionalInfo,omitempty"`
	ServiceOffer   struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Region string `json:"region"`
	} `json:"serviceOffer"`
	Workspace struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type,omitempty"`
	} `json:"workspace"`
}

// AuditLogDetails is a record's details: a header and lines of "Name: value".
type AuditLogDetails struct {
	ID     string   `json:"id"`
	Type   string   `json:"type"`
	Header string   `json:"header"`
	Body   []string `json:"body"`
}

// ListAuditLogs lists the workspace's audit records, newest first unless opts.Sort says
// otherwise, 2000 a page unless opts says otherwise. keyhold counts at most 10,000 matches:
// past those, narrow the filter (createdAt lt '<time of the last record seen>').
func (c *Client) ListAuditLogs(ctx context.Context, opts *ListOptions) iter.Seq2[AuditLog, error] {
	return list[AuditLog](c, ctx, auditPath, opts, 2000)
}

// GetAuditLog reads one audit record.
func (c *Client) GetAuditLog(ctx context.Context, id string) (*AuditLog, error) {
	return call[AuditLog](c, ctx, http.MethodGet, auditPath+"/"+escape(id), nil)
}

// GetAuditLogDetails reads one audit record's details.
func (c *Client) GetAuditLogDetails(ctx context.Context, id string) (*AuditLogDetails, error) {
	return call[AuditLogDetails](c, ctx, http.MethodGet, auditPath+"/"+escape(id)+"/details", nil)
}
