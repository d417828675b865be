package client

import (
	"context"
	"iter"
	"net/http"
	"time"
)

const provisionsPath = "/service-catalog/v1/service-manager-provisions"

// Provision is a service-manager provision of the workspace: a record that a service manager
// is provisioned in a region, which credentials can name.
type Provision struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	ResourceURI    string `json:"resourceUri"`
	ServiceManager struct {
		ID          string `json:"id"`
		ResourceURI string `json:"resourceUri"`
	} `json:"serviceManager"`
	Region          string    `json:"region"`
	ProvisionStatus string    `json:"provisionStatus"`
	CreatedBy       string    `json:"createdBy"`
	Generation      int64     `json:"generation"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// ProvisionInput records a provision.
type ProvisionInput struct {
	ServiceManagerID string `json:"serviceManagerId"`
	Region           string `json:"region"`
}

// ListProvisions lists the workspace's provisions (filter on id, serviceManagerId, region,
// provisionStatus, createdAt), 2000 a page unless opts says otherwise.
func (c *Client) ListProvisions(ctx context.Context, opts *ListOptions) iter.Seq2[Provision, error] {
	return list[Provision](c, ctx, provisionsPath, opts, 2000)
}

// GetProvision reads a provision.
func (c *Client) GetProvision(ctx context.Context, id string) (*Provision, error) {
	return call[Provision](c, ctx, http.MethodGet, provisionsPath+"/"+escape(id), nil)
}

// CreateProvision records a provision (409 when that service manager is already provisioned
// in that region).
func (c *Client) CreateProvision(ctx context.Context, in ProvisionInput) (*Provision, error) {
	return call[Provision](c, ctx, http.MethodPost, provisionsPath, in)
}

// DeleteProvision deletes a provision.
func (c *Client) DeleteProvision(ctx context.Context, id string) error {
	return c.delete(ctx, provisionsPath+"/"+escape(id))
}
