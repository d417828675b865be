package client

import (
	"context"
	"encoding/json"
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

// CredentialSecret describes one valid secret of a credential (never its value): Slot
// "current" or "previous"; a previous secret has an ExpiresAt.
type CredentialSecret struct {
	Slot      string     `json:"slot"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

// RotatedCredential is the answer of RotateCredential: the credential with its new
// ClientSecret (shown once) and its valid secrets.
type RotatedCredential struct {
	Credential
	Secrets []CredentialSecret `json:"secrets"`
}

// RotateCredential gives a credential a new secret (returned once) and keeps the one it
// replaces working for overlap (keyhold's extension; 0: keyhold's default of one day; one
// minute to 30 days). Tokens already issued stay valid. A second rotation while a previous
// secret is valid is a 409: retire it first.
func (c *Client) RotateCredential(ctx context.Context, id string, overlap time.Duration) (*RotatedCredential, error) {
	var body any
	if overlap != 0 {
		body = map[string]int64{"overlapSeconds": int64(overlap / time.Second)}
	}
	return call[RotatedCredential](c, ctx, http.MethodPost, credentialsPath+"/"+escape(id)+"/rotate", body)
}

// ListCredentialSecrets lists a credential's valid secrets (without their values).
func (c *Client) ListCredentialSecrets(ctx context.Context, id string) ([]CredentialSecret, error) {
	p, err := call[page[CredentialSecret]](c, ctx, http.MethodGet, credentialsPath+"/"+escape(id)+"/secrets", nil)
	if err != nil {
		return nil, err
	}
	return p.Items, nil
}

// RetirePreviousSecret stops a rotated-out secret at once (404 when there is none). Tokens it
// already obtained live until they expire; ResetCredential ends those too.
func (c *Client) RetirePreviousSecret(ctx context.Context, id string) error {
	return c.delete(ctx, credentialsPath+"/"+escape(id)+"/secrets/previous")
}

// CredentialKeys are the public keys that verify a credential's private_key_jwt client
// assertions (keyhold's extension): an inline JWK set, or a URL keyhold fetches it from. One
// of the two is set.
type CredentialKeys struct {
	JWKS    json.RawMessage `json:"jwks,omitempty"`    // {"keys": [...]}: public keys only
	JWKSURI string          `json:"jwksUri,omitempty"` // https://...
}

// SetCredentialKeys registers (replaces) a credential's private_key_jwt keys. It needs what a
// reset needs: the owner, or an identity administrator holding everything the owner and the
// credential hold.
func (c *Client) SetCredentialKeys(ctx context.Context, id string, keys CredentialKeys) (*CredentialKeys, error) {
	return getKeys(call[credentialKeysJSON](c, ctx, http.MethodPut, credentialsPath+"/"+escape(id)+"/keys", keys))
}

// GetCredentialKeys reads a credential's private_key_jwt keys (both empty when none are set).
func (c *Client) GetCredentialKeys(ctx context.Context, id string) (*CredentialKeys, error) {
	return getKeys(call[credentialKeysJSON](c, ctx, http.MethodGet, credentialsPath+"/"+escape(id)+"/keys", nil))
}

// DeleteCredentialKeys removes a credential's keys: only its secret authenticates from then on.
func (c *Client) DeleteCredentialKeys(ctx context.Context, id string) error {
	return c.delete(ctx, credentialsPath+"/"+escape(id)+"/keys")
}

// credentialKeysJSON is the answer's shape: jwks and jwksUri are null when not set.
type credentialKeysJSON struct {
	JWKS    json.RawMessage `json:"jwks"`
	JWKSURI *string         `json:"jwksUri"`
}

func getKeys(k *credentialKeysJSON, err error) (*CredentialKeys, error) {
	if err != nil {
		return nil, err
	}
	out := &CredentialKeys{}
	if len(k.JWKS) > 0 && string(k.JWKS) != "null" {
		out.JWKS = k.JWKS
	}
	if k.JWKSURI != nil {
		out.JWKSURI = *k.JWKSURI
	}
	return out, nil
}
