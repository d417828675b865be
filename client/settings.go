package client

import (
	"context"
	"iter"
	"net/http"
)

// Calls added with keyhold's later endpoints: per-credential token settings, TLS client
// authentication, the workspace contact, a user's profile and preferences, and the service
// catalogue.

// TokenSettings are a credential's token settings (keyhold's extension): TokenLifetime in
// seconds (0: the server's), the RFC 8707 audiences a token request may name in resource, and
// the OAuth scopes its tokens may carry (permission names and <provider>.<resource-type>.*
// wildcards; empty: tokens not restricted by scope).
type TokenSettings struct {
	TokenLifetime int64    `json:"tokenLifetime"`
	Audiences     []string `json:"audiences"`
	Scopes        []string `json:"scopes"`
}

// GetTokenSettings reads a credential's token settings.
func (c *Client) GetTokenSettings(ctx context.Context, id string) (*TokenSettings, error) {
	return call[TokenSettings](c, ctx, http.MethodGet, credentialsPath+"/"+escape(id)+"/token-settings", nil)
}

// SetTokenSettings replaces a credential's token settings.
func (c *Client) SetTokenSettings(ctx context.Context, id string, s TokenSettings) (*TokenSettings, error) {
	if s.Audiences == nil {
		s.Audiences = []string{}
	}
	if s.Scopes == nil {
		s.Scopes = []string{}
	}
	return call[TokenSettings](c, ctx, http.MethodPut, credentialsPath+"/"+escape(id)+"/token-settings", s)
}

// TLSClientAuth is how a credential authenticates with a TLS client certificate (RFC 8705;
// keyhold's extension). On writes, SubjectDN or SelfSignedCertificates (PEM) is set; reads
// answer the subject DN and the thumbprints of the registered certificates.
type TLSClientAuth struct {
	SubjectDN              string   `json:"subjectDn,omitempty"`
	SelfSignedCertificates []string `json:"selfSignedCertificates,omitempty"`
	CertificateThumbprints []string `json:"certificateThumbprints,omitempty"`
}

type tlsClientAuthJSON struct {
	SubjectDN              *string  `json:"subjectDn"`
	CertificateThumbprints []string `json:"certificateThumbprints"`
}

func tlsAuth(j *tlsClientAuthJSON, err error) (*TLSClientAuth, error) {
	if err != nil {
		return nil, err
	}
	out := &TLSClientAuth{CertificateThumbprints: j.CertificateThumbprints}
	if j.SubjectDN != nil {
		out.SubjectDN = *j.SubjectDN
	}
	return out, nil
}

// SetTLSClientAuth registers (replaces) a credential's TLS client authentication.
func (c *Client) SetTLSClientAuth(ctx context.Context, id string, in TLSClientAuth) (*TLSClientAuth, error) {
	body := map[string]any{}
	if in.SubjectDN != "" {
		body["subjectDn"] = in.SubjectDN
	}
	if len(in.SelfSignedCertificates) > 0 {
		body["selfSignedCertificates"] = in.SelfSignedCertificates
	}
	return tlsAuth(call[tlsClientAuthJSON](c, ctx, http.MethodPut, credentialsPath+"/"+escape(id)+"/tls-client-auth", body))
}

// GetTLSClientAuth reads a credential's TLS client authentication.
func (c *Client) GetTLSClientAuth(ctx context.Context, id string) (*TLSClientAuth, error) {
	return tlsAuth(call[tlsClientAuthJSON](c, ctx, http.MethodGet, credentialsPath+"/"+escape(id)+"/tls-client-auth", nil))
}

// DeleteTLSClientAuth removes a credential's TLS client authentication.
func (c *Client) DeleteTLSClientAuth(ctx context.Context, id string) error {
	return c.delete(ctx, credentialsPath+"/"+escape(id)+"/tls-client-auth")
}

// Address is a postal address of a workspace contact.
type Address struct {
	StreetAddress           string `json:"streetAddress,omitempty"`
	StreetAddressComplement string `json:"streetAddressComplement,omitempty"`
	City                    string `json:"city,omitempty"`
	StateOrRegion           string `json:"stateOrRegion,omitempty"`
	Zip                     string `json:"zip,omitempty"`
	CountryCode             string `json:"countryCode,omitempty"`
}

// WorkspaceContact is a workspace's contact details.
type WorkspaceContact struct {
	Email       string   `json:"email,omitempty"`
	PhoneNumber string   `json:"phoneNumber,omitempty"`
	Address     *Address `json:"address,omitempty"`
	ResourceURI string   `json:"resourceUri,omitempty"`
}

// GetWorkspaceContact reads a workspace's contact (the caller's own, or a tenant of its MSP).
func (c *Client) GetWorkspaceContact(ctx context.Context, workspaceID string) (*WorkspaceContact, error) {
	return call[WorkspaceContact](c, ctx, http.MethodGet, "/workspaces/v1/workspaces/"+escape(workspaceID)+"/contact", nil)
}

// SetWorkspaceContact replaces the caller's own workspace's contact (keyhold's extension).
func (c *Client) SetWorkspaceContact(ctx context.Context, workspaceID string, in WorkspaceContact) (*WorkspaceContact, error) {
	in.ResourceURI = ""
	return call[WorkspaceContact](c, ctx, http.MethodPut, "/workspaces/v1/workspaces/"+escape(workspaceID)+"/contact", in)
}

// UserUpdate is the body of UpdateUser; nil fields are kept.
type UserUpdate struct {
	IdleTimeout *int    `json:"idleTimeout,omitempty"`
	Language    *string `json:"language,omitempty"`
	FirstName   *string `json:"firstName,omitempty"`
	LastName    *string `json:"lastName,omitempty"`
}

// UpdateUser changes a user's preferences (anyone for themselves) and names (an identity
// administrator holding what the user holds).
func (c *Client) UpdateUser(ctx context.Context, id string, in UserUpdate) (*User, error) {
	return call[User](c, ctx, http.MethodPut, usersPath+"/"+escape(id), in)
}

// ServiceManager is a service manager of keyhold's service catalogue.
type ServiceManager struct {
	ID                  string `json:"id"`
	Type                string `json:"type"`
	ResourceURI         string `json:"resourceUri"`
	Name                string `json:"name"`
	Description         string `json:"description"`
	StandaloneSupported bool   `json:"standaloneSupported"`
	MSPSupported        bool   `json:"mspSupported"`
	MSPOnlySupported    bool   `json:"mspOnlySupported"`
	TenantOnlySupported bool   `json:"tenantOnlySupported"`
}

// RegionServiceManagers is a region with the service managers offered in it.
type RegionServiceManagers struct {
	ID              string           `json:"id"`
	Type            string           `json:"type"`
	RegionName      string           `json:"regionName"`
	ServiceManagers []ServiceManager `json:"serviceManagers"`
}

const catalogPath = "/service-catalog/v1"

// ListServiceManagers lists the catalogue's service managers.
func (c *Client) ListServiceManagers(ctx context.Context, opts *ListOptions) iter.Seq2[ServiceManager, error] {
	return list[ServiceManager](c, ctx, catalogPath+"/service-managers", opts, 100)
}

// GetServiceManager reads one service manager.
func (c *Client) GetServiceManager(ctx context.Context, id string) (*ServiceManager, error) {
	return call[ServiceManager](c, ctx, http.MethodGet, catalogPath+"/service-managers/"+escape(id), nil)
}

// ListRegionServiceManagers lists the regions with the service managers offered in each.
func (c *Client) ListRegionServiceManagers(ctx context.Context, opts *ListOptions) iter.Seq2[RegionServiceManagers, error] {
	return list[RegionServiceManagers](c, ctx, catalogPath+"/per-region-service-managers", opts, 100)
}

// GetRegionServiceManagers reads one region's service managers.
func (c *Client) GetRegionServiceManagers(ctx context.Context, id string) (*RegionServiceManagers, error) {
	return call[RegionServiceManagers](c, ctx, http.MethodGet, catalogPath+"/per-region-service-managers/"+escape(id), nil)
}
