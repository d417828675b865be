package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

const credentialsPath = "/workspaces/v1/credentials"

func (a *API) credentialRoutes() {
	a.route("GET "+credentialsPath, "glp.workspace.view", a.listCredentials)
	a.route("POST "+credentialsPath, "glp.workspace.edit", a.createCredential)
	a.route("DELETE "+credentialsPath+"/{id}", "glp.workspace.delete", a.deleteCredential)
	a.route("POST "+credentialsPath+"/{id}/reset", "glp.workspace.edit", a.resetCredential)
	a.route("POST "+credentialsPath+"/{id}/rotate", "glp.workspace.edit", a.rotateCredential)
	a.route("GET "+credentialsPath+"/{id}/secrets", "glp.workspace.view", a.listCredentialSecrets)
	a.route("DELETE "+credentialsPath+"/{id}/secrets/previous", "glp.workspace.edit", a.retirePreviousSecret)
	a.route("PUT "+credentialsPath+"/{id}/keys", "glp.workspace.edit", a.putCredentialKeys)
	a.route("GET "+credentialsPath+"/{id}/keys", "glp.workspace.view", a.getCredentialKeys)
	a.route("DELETE "+credentialsPath+"/{id}/keys", "glp.workspace.edit", a.deleteCredentialKeys)
	a.route("PUT "+credentialsPath+"/{id}/token-settings", "glp.workspace.edit", a.putCredentialTokenSettings)
	a.route("GET "+credentialsPath+"/{id}/token-settings", "glp.workspace.view", a.getCredentialTokenSettings)
	a.route("PUT "+credentialsPath+"/{id}/tls-client-auth", "glp.workspace.edit", a.putCredentialTLS)
	a.route("GET "+credentialsPath+"/{id}/tls-client-auth", "glp.workspace.view", a.getCredentialTLS)
	a.route("DELETE "+credentialsPath+"/{id}/tls-client-auth", "glp.workspace.edit", a.deleteCredentialTLS)
}

type resourceRef struct {
	ResourceURI string `json:"resourceUri"`
	TenantName  string `json:"tenantName,omitempty"`
}

type credentialJSON struct {
	ID                                string       `json:"id"`
	CredentialName                    string       `json:"credentialName"`
	ClientID                          string       `json:"clientId"`
	ClientSecret                      string       `json:"clientSecret,omitempty"`
	Type                              string       `json:"type"`
	Generation                        int64        `json:"generation"`
	CreatedAt                         string       `json:"createdAt"`
	UpdatedAt                         string       `json:"updatedAt"`
	OwnerID                           string       `json:"ownerId"`
	AssociatedTenant                  *resourceRef `json:"associatedTenant,omitempty"`
	AssociatedServiceManagerProvision *resourceRef `json:"associatedServiceManagerProvision,omitempty"`
}

// timestamp is the one format keyhold serves times in: RFC 3339, UTC.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (a *API) credentialOut(c *storage.Credential, secret string) credentialJSON {
	out := credentialJSON{ID: c.ID, CredentialName: c.Name, ClientID: c.ID, ClientSecret: secret, Type: "credentials",
		Generation: c.Generation, CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt), OwnerID: c.OwnerID}
	if c.TenantID != "" {
		ref := &resourceRef{ResourceURI: "/workspaces/v1/workspaces/" + c.TenantID}
		if w, ok := a.Workspaces.Get(c.TenantID); ok {
			ref.TenantName = w.Name
		}
		out.AssociatedTenant = ref
	}
	if c.ProvisionURI != "" {
		out.AssociatedServiceManagerProvision = &resourceRef{ResourceURI: c.ProvisionURI}
	} else if c.ProvisionID != "" {
		out.AssociatedServiceManagerProvision = &resourceRef{ResourceURI: provisionsPath + "/" + c.ProvisionID}
	}
	return out
}

func (a *API) listCredentials(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	q, err := queryParams(r, "filter")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, err := a.Credentials.List(r.Context(), c, q.Get("filter"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]credentialJSON, 0, len(list))
	for i := range list {
		items = append(items, a.credentialOut(&list[i], ""))
	}
	writeJSON(w, http.StatusOK, credentialList{Count: len(items), Items: items})
}

// credentialList is the body of a credentials list.
type credentialList struct {
	Count int              `json:"count"`
	Items []credentialJSON `json:"items"`
}

type createCredentialBody struct {
	CredentialName                    *string      `json:"credentialName"`
	OwnerID                           *string      `json:"ownerId"`
	AssociatedTenant                  *resourceRef `json:"associatedTenant"`
	AssociatedServiceManagerProvision *resourceRef `json:"associatedServiceManagerProvision"`
}

func (b *createCredentialBody) input() (credential.CreateInput, error) {
	if b.CredentialName == nil {
		return credential.CreateInput{}, apperr.Field("credentialName", "is required")
	}
	in := credential.CreateInput{CredentialName: *b.CredentialName}
	if b.OwnerID != nil {
		if *b.OwnerID == "" {
			return in, apperr.Field("ownerId", "must not be empty")
		}
		in.OwnerID = *b.OwnerID
	}
	if t := b.AssociatedTenant; t != nil {
		if t.ResourceURI == "" || t.TenantName != "" {
			return in, apperr.Field("associatedTenant.resourceUri", "is required and is the only field of associatedTenant")
		}
		in.AssociatedTenantURI = t.ResourceURI
	}
	if p := b.AssociatedServiceManagerProvision; p != nil {
		if p.ResourceURI == "" || p.TenantName != "" {
			return in, apperr.Field("associatedServiceManagerProvision.resourceUri", "is required and is the only field of associatedServiceManagerProvision")
		}
		in.AssociatedServiceManagerProvision = p.ResourceURI
	}
	return in, nil
}

func (a *API) createCredential(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body createCredentialBody
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeError(w, r, err)
		return
	}
	in, err := body.input()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	created, err := a.Credentials.Create(r.Context(), c, in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", a.BaseURL+credentialsPath+"/"+created.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, a.credentialOut(&created.Credential, created.Secret))
}

func (a *API) resetCredential(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := requireEmptyBody(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	created, err := a.Credentials.Reset(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, a.credentialOut(&created.Credential, created.Secret))
}

func (a *API) deleteCredential(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := a.Credentials.Delete(r.Context(), c, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// requireEmptyBody refuses a body on calls that take none (an empty JSON object is allowed),
// rather than silently ignoring what the client meant.
func requireEmptyBody(r *http.Request) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64))
	if err != nil {
		return apperr.New(apperr.BadRequest, "the request body could not be read")
	}
	if body := strings.TrimSpace(string(b)); body == "" || body == "{}" {
		return nil
	}
	return apperr.Field("body", "this call takes no request body")
}

// Secret rotation with an overlap window: keyhold's extension to the credentials API (the
// GreenLake routes above are unchanged; reset keeps its meaning).

type rotateBody struct {
	// OverlapSeconds is how long the replaced secret keeps working (default one day).
	OverlapSeconds *int64 `json:"overlapSeconds"`
}

type secretJSON struct {
	Slot      string  `json:"slot"`
	CreatedAt *string `json:"createdAt,omitempty"`
	ExpiresAt *string `json:"expiresAt"`
}

type rotatedJSON struct {
	credentialJSON
	Secrets []secretJSON `json:"secrets"`
}

func secretsOut(list []credential.Secret) []secretJSON {
	out := make([]secretJSON, 0, len(list))
	for _, s := range list {
		j := secretJSON{Slot: s.Slot}
		if !s.CreatedAt.IsZero() {
			t := timestamp(s.CreatedAt)
			j.CreatedAt = &t
		}
		if !s.ExpiresAt.IsZero() {
			t := timestamp(s.ExpiresAt)
			j.ExpiresAt = &t
		}
		out = append(out, j)
	}
	return out
}

func (a *API) rotateCredential(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body rotateBody
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &body); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	overlap := credential.DefaultOverlap
	if body.OverlapSeconds != nil {
		if *body.OverlapSeconds < 0 || *body.OverlapSeconds > int64(credential.MaxOverlap/time.Second) {
			a.writeError(w, r, apperr.Invalid(apperr.SourceField, "overlapSeconds",
				"must be between 60 and 2592000 (one minute to 30 days)"))
			return
		}
		overlap = time.Duration(*body.OverlapSeconds) * time.Second
	}
	rotated, err := a.Credentials.Rotate(r.Context(), c, r.PathValue("id"), overlap)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, rotatedJSON{credentialJSON: a.credentialOut(&rotated.Credential, rotated.Secret),
		Secrets: secretsOut(credential.Secrets(&rotated.Credential, a.now()))})
}

func (a *API) listCredentialSecrets(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	list, err := a.Credentials.ListSecrets(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := secretsOut(list)
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "count": len(items), "total": len(items)})
}

func (a *API) retirePreviousSecret(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := a.Credentials.RetirePrevious(r.Context(), c, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// private_key_jwt keys (keyhold's extension): the public keys that verify a credential's
// client assertions, inline or by URL.

type keysBody struct {
	JWKS    json.RawMessage `json:"jwks"`
	JWKSURI string          `json:"jwksUri"`
}

type keysJSON struct {
	JWKS    json.RawMessage `json:"jwks"`
	JWKSURI *string         `json:"jwksUri"`
}

func keysOut(c *storage.Credential) keysJSON {
	out := keysJSON{JWKS: json.RawMessage("null")}
	if c.JWKS != "" {
		out.JWKS = json.RawMessage(c.JWKS)
	}
	if c.JWKSURI != "" {
		out.JWKSURI = &c.JWKSURI
	}
	return out
}

func (a *API) putCredentialKeys(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body keysBody
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeError(w, r, err)
		return
	}
	if string(body.JWKS) == "null" {
		body.JWKS = nil
	}
	cred, err := a.Credentials.SetKeys(r.Context(), c, r.PathValue("id"),
		credential.KeysInput{JWKS: body.JWKS, JWKSURI: body.JWKSURI}, a.AllowPrivateJWKS)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keysOut(cred))
}

func (a *API) getCredentialKeys(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	cred, err := a.Credentials.Keys(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keysOut(cred))
}

func (a *API) deleteCredentialKeys(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := a.Credentials.RemoveKeys(r.Context(), c, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// TLS client authentication (RFC 8705; keyhold's extension).

type tlsAuthBody struct {
	SubjectDN              string   `json:"subjectDn"`
	SelfSignedCertificates []string `json:"selfSignedCertificates"`
}

type tlsAuthJSON struct {
	SubjectDN              *string  `json:"subjectDn"`
	CertificateThumbprints []string `json:"certificateThumbprints"`
}

func tlsAuthOut(c *storage.Credential) tlsAuthJSON {
	out := tlsAuthJSON{CertificateThumbprints: c.TLSThumbprints}
	if out.CertificateThumbprints == nil {
		out.CertificateThumbprints = []string{}
	}
	if c.TLSSubjectDN != "" {
		out.SubjectDN = &c.TLSSubjectDN
	}
	return out
}

func (a *API) putCredentialTLS(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body tlsAuthBody
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeError(w, r, err)
		return
	}
	cred, err := a.Credentials.SetTLS(r.Context(), c, r.PathValue("id"),
		credential.TLSInput{SubjectDN: body.SubjectDN, SelfSigned: body.SelfSignedCertificates})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tlsAuthOut(cred))
}

func (a *API) getCredentialTLS(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	cred, err := a.Credentials.Keys(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tlsAuthOut(cred))
}

func (a *API) deleteCredentialTLS(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	if err := a.Credentials.RemoveTLS(r.Context(), c, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Token settings (keyhold's extension): a credential's token lifetime and the resource URIs
// (RFC 8707) its tokens may be issued for.

type tokenSettingsJSON struct {
	TokenLifetime int64    `json:"tokenLifetime"`
	Audiences     []string `json:"audiences"`
	// Scopes ([] or absent: tokens not restricted by scope) are the OAuth scopes its tokens may carry.
	Scopes []string `json:"scopes"`
}

func tokenSettingsOut(c *storage.Credential) tokenSettingsJSON {
	out := tokenSettingsJSON{TokenLifetime: int64(c.TokenTTL / time.Second), Audiences: c.TokenAudiences, Scopes: c.TokenScopes}
	if out.Audiences == nil {
		out.Audiences = []string{}
	}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	return out
}

func (a *API) putCredentialTokenSettings(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	var body tokenSettingsJSON
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeError(w, r, err)
		return
	}
	cred, err := a.Credentials.SetTokenSettings(r.Context(), c, r.PathValue("id"),
		credential.TokenSettingsInput{TTLSeconds: body.TokenLifetime, Audiences: body.Audiences, Scopes: body.Scopes})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenSettingsOut(cred))
}

func (a *API) getCredentialTokenSettings(w http.ResponseWriter, r *http.Request, c *principal.Caller) {
	cred, err := a.Credentials.TokenSettings(r.Context(), c, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenSettingsOut(cred))
}
