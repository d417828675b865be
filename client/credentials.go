package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"time"
)

const credentialsPath = "/workspaces/v1/credentials"

// Credential is an API client credential. ClientSecret is set only in the answers of
// CreateCredential and ResetCredential: keyhold shows a secret once and stores only its hash.
type Credential struct {
	ID             string    `json:"id"`
	CredentialName string    `json:"credentialName"`
	ClientID       string    `json:"clientId"`
	ClientSecret   string    `json:"clientSecret,omitempty"`
	Type           string    `json:"type"`
	Generation     int64     `json:"generation"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	// OwnerID is the user whose permissions the credential's tokens act with.
	OwnerID string `json:"ownerId"`
	// AssociatedTenant names the MSP tenant the credential was made for, if any.
	AssociatedTenant *ResourceRef `json:"associatedTenant,omitempty"`
	// AssociatedServiceManagerProvision names the provision the credential was made for.
	AssociatedServiceManagerProvision *ResourceRef `json:"associatedServiceManagerProvision,omitempty"`
}

// ResourceRef references another resource by URI.
type ResourceRef struct {
	ResourceURI string `json:"resourceUri"`
	TenantName  string `json:"tenantName,omitempty"`
}

// CredentialInput creates a credential.
type CredentialInput struct {
	// Name is the credential's name, unique per owner and workspace (1 to 100 characters).
	Name string
	// OwnerID makes the credential for another member of the workspace (identity
	// administrators only); empty: the caller's own user.
	OwnerID string
	// TenantID makes the credential for an MSP tenant of the caller's workspace.
	TenantID string
	// ProvisionID associates a service-manager provision of the workspace.
	ProvisionID string
}

func (in CredentialInput) body() map[string]any {
	b := map[string]any{"credentialName": in.Name}
	if in.OwnerID != "" {
		b["ownerId"] = in.OwnerID
	}
	if in.TenantID != "" {
		b["associatedTenant"] = map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + in.TenantID}
	}
	if in.ProvisionID != "" {
		b["associatedServiceManagerProvision"] = map[string]string{
			"resourceUri": "/service-catalog/v1/service-manager-provisions/" + in.ProvisionID}
	}
	return b
}

// CreateCredential creates a credential. The answer carries its ClientSecret, which keyhold
// never shows again.
func (c *Client) CreateCredential(ctx context.Context, in CredentialInput) (*Credential, error) {
	var out Credential
	if _, err := c.do(ctx, request{method: http.MethodPost, path: credentialsPath, body: in.body(), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// CredentialListOptions narrows ListCredentials.
type CredentialListOptions struct {
	// Filter is an OData filter on tenantId, credentialName, ownerId or createdAt, e.g.
	// "ownerId eq '<user id>'" (other owners' credentials need glp.identity.edit).
	Filter string
}

// ListCredentials lists the caller's credentials (or, with a filter on ownerId, another
// owner's), without secrets. keyhold answers the whole list at once.
func (c *Client) ListCredentials(ctx context.Context, opts *CredentialListOptions) iter.Seq2[Credential, error] {
	return func(yield func(Credential, error) bool) {
		q := url.Values{}
		if opts != nil && opts.Filter != "" {
			q.Set("filter", opts.Filter)
		}
		var p page[Credential]
		if _, err := c.do(ctx, request{method: http.MethodGet, path: credentialsPath, query: q, out: &p}); err != nil {
			yield(Credential{}, err)
			return
		}
		for _, it := range p.Items {
			if !yield(it, nil) {
				return
			}
		}
	}
}

// ResetCredential gives a credential a new secret (returned once) and increments its
// generation: the old secret and every token issued under it are refused from then on.
func (c *Client) ResetCredential(ctx context.Context, id string) (*Credential, error) {
	var out Credential
	if _, err := c.do(ctx, request{method: http.MethodPost, path: credentialsPath + "/" + escape(id) + "/reset", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCredential deletes a credential; its tokens are refused from then on.
func (c *Client) DeleteCredential(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: credentialsPath + "/" + escape(id)})
	return err
}
