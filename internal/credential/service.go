package credential

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/odata"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// DefaultMaxPerOwner is how many credentials one owner may hold in one workspace.
const DefaultMaxPerOwner = 7

// maxNameLen bounds credentialName, in characters.
const maxNameLen = 100

// PermManageOthers lets a caller see and manage credentials owned by other users of its
// workspace, and create credentials for them (an identity administrator's right).
const PermManageOthers = "glp.identity.edit"

// Authorizer answers whether a caller holds a permission on a resource.
type Authorizer interface {
	Allowed(c *principal.Caller, permission string, resource grn.GRN) bool
}

// Escalation keeps a caller from taking over, or taking away, rights it does not hold.
type Escalation interface {
	// MayActFor refuses (403) unless the caller holds every permission that the user ownerID
	// and, when clientID is not "", the API client clientID hold in the caller's workspace.
	MayActFor(ctx context.Context, c *principal.Caller, ownerID, clientID string) error
}

// ProvisionExists reports whether a service-manager provision exists in a workspace.
type ProvisionExists func(ctx context.Context, workspaceID, provisionID string) (bool, error)

// Service implements the credentials API's rules.
type Service struct {
	Store      storage.Store
	Authz      Authorizer
	Sync       func(context.Context) error // makes this node's views reflect a write
	Now        func() time.Time
	MaxPerUser int
	// Provisions checks provision references; nil means no provision exists.
	Provisions ProvisionExists
	// Escalation checks every act on another owner's credential (create, reset, delete): the
	// caller must hold everything the owner holds in the workspace.
	Escalation Escalation
	// MaxTokenTTL is the server's token lifetime, the longest a credential may ask for.
	MaxTokenTTL time.Duration
	// KnownScope reports whether a scope item names registered permissions (rbac.Engine's);
	// nil accepts any well-formed item.
	KnownScope func(item string) bool
}

// CreateInput is the body of a create request.
type CreateInput struct {
	CredentialName                    string
	OwnerID                           string
	AssociatedTenantURI               string
	AssociatedServiceManagerProvision string
}

// Created is a credential with its secret, returned by create and reset only.
type Created struct {
	storage.Credential
	Secret string
}

// filterSchema is what GET /workspaces/v1/credentials accepts in filter.
var filterSchema = odata.NewSchema(
	odata.Property{Name: "tenantId", Column: "tenant_id", Kind: odata.UUID, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "credentialName", Column: "name", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "ownerId", Column: "owner_id", Kind: odata.UUID, Ops: []odata.Op{odata.Eq, odata.In}},
	odata.Property{Name: "createdAt", Column: "created_at", Kind: odata.Time,
		Ops: []odata.Op{odata.Eq, odata.Ne, odata.Gt, odata.Ge, odata.Lt, odata.Le}},
)

var (
	tenantURI    = regexp.MustCompile(`^/workspaces/v1/workspaces?/([0-9A-Fa-f-]{32,36})$`)
	provisionURI = regexp.MustCompile(`^/service-catalog/v1(?:beta1)?/service-manager-provisions/([0-9A-Fa-f-]{32,36})$`)
)

func (s *Service) workspaceGRN(c *principal.Caller) grn.GRN {
	g, _ := grn.Workspace(grn.DefaultPlatform, c.WorkspaceID)
	return g
}

func (s *Service) managesOthers(c *principal.Caller) bool {
	return s.Authz.Allowed(c, PermManageOthers, s.workspaceGRN(c))
}

// Create makes a credential owned by the caller's user (or by in.OwnerID, for an identity
// administrator) and returns it with its secret.
func (s *Service) Create(ctx context.Context, c *principal.Caller, in CreateInput) (*Created, error) {
	cred, err := s.validateCreate(ctx, c, in)
	if err != nil {
		return nil, err
	}
	secret, hash := NewSecret()
	cred.SecretHash = hash
	switch err := s.Store.CreateCredential(ctx, cred, s.MaxPerUser); {
	case errors.Is(err, storage.ErrConflict):
		return nil, apperr.New(apperr.Conflict, "a credential named %q already exists for this owner", cred.Name)
	case errors.Is(err, storage.ErrLimit):
		return nil, apperr.New(apperr.Conflict, "credential limit reached: an owner may hold at most %d credentials in a workspace; delete one first", s.MaxPerUser)
	case errors.Is(err, storage.ErrNotFound):
		return nil, apperr.Field("ownerId", "no such user")
	case err != nil:
		return nil, apperr.Wrap(err, "create credential")
	}
	if err := s.Sync(ctx); err != nil {
		return nil, apperr.Wrap(err, "sync views")
	}
	return &Created{Credential: *cred, Secret: secret}, nil
}

func (s *Service) validateCreate(ctx context.Context, c *principal.Caller, in CreateInput) (*storage.Credential, error) {
	name, err := validName(in.CredentialName)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	cred := &storage.Credential{ID: ids.New(), WorkspaceID: c.WorkspaceID, OwnerID: c.OwnerID, Name: name,
		Generation: 1, CreatedAt: now, UpdatedAt: now}
	if in.OwnerID != "" {
		if cred.OwnerID, err = s.otherOwner(ctx, c, in.OwnerID); err != nil {
			return nil, err
		}
	}
	if cred.OwnerID == "" {
		return nil, apperr.New(apperr.Forbidden, "this token has no owning user; credentials are personal")
	}
	if err := s.scopedSelf(ctx, c, cred.OwnerID, ""); err != nil {
		return nil, err
	}
	if in.AssociatedTenantURI != "" {
		if cred.TenantID, err = s.tenant(ctx, c, in.AssociatedTenantURI); err != nil {
			return nil, err
		}
	}
	if in.AssociatedServiceManagerProvision != "" {
		if cred.ProvisionID, err = s.provision(ctx, c, in.AssociatedServiceManagerProvision); err != nil {
			return nil, err
		}
		// Served back as given (v1beta1 stays v1beta1): clients compare what they sent.
		cred.ProvisionURI = in.AssociatedServiceManagerProvision
	}
	return cred, nil
}

func validName(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	switch {
	case name == "":
		return "", apperr.Field("credentialName", "is required and must not be blank")
	case utf8.RuneCountInString(name) > maxNameLen:
		return "", apperr.Field("credentialName", "must be at most %d characters", maxNameLen)
	case strings.IndexFunc(name, unprintable) >= 0:
		return "", apperr.Field("credentialName", "must not contain control or format characters")
	}
	return name, nil
}

func (s *Service) otherOwner(ctx context.Context, c *principal.Caller, raw string) (string, error) {
	id, err := ids.Parse(raw)
	if err != nil {
		return "", apperr.Field("ownerId", "must be a user id (UUID)")
	}
	if id == c.OwnerID {
		return id, nil
	}
	if !s.managesOthers(c) {
		return "", apperr.New(apperr.Forbidden, "creating a credential for another user requires %s", PermManageOthers)
	}
	member, err := s.Store.IsMember(ctx, c.WorkspaceID, id)
	if err != nil {
		return "", apperr.Wrap(err, "check membership")
	}
	if !member {
		return "", apperr.Field("ownerId", "no user with this id in the workspace")
	}
	if err := s.Escalation.MayActFor(ctx, c, id, ""); err != nil {
		return "", err
	}
	return id, nil
}

func (s *Service) tenant(ctx context.Context, c *principal.Caller, uri string) (string, error) {
	const field = "associatedTenant.resourceUri"
	m := tenantURI.FindStringSubmatch(uri)
	if m == nil {
		return "", apperr.Field(field, "must be /workspaces/v1/workspaces/<workspace id>")
	}
	id, err := ids.Parse(m[1])
	if err != nil {
		return "", apperr.Field(field, "must name a workspace by its UUID")
	}
	w, err := s.Store.GetWorkspace(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", apperr.Wrap(err, "read tenant")
	}
	// Whether the workspace does not exist or belongs to someone else, the answer is the same.
	if err != nil || w.ParentID != c.WorkspaceID {
		return "", apperr.Field(field, "no tenant with this id belongs to this workspace")
	}
	return id, nil
}

func (s *Service) provision(ctx context.Context, c *principal.Caller, uri string) (string, error) {
	const field = "associatedServiceManagerProvision.resourceUri"
	m := provisionURI.FindStringSubmatch(uri)
	if m == nil {
		return "", apperr.Field(field, "must be /service-catalog/v1/service-manager-provisions/<provision id>")
	}
	id, err := ids.Parse(m[1])
	if err != nil {
		return "", apperr.Field(field, "must name a provision by its UUID")
	}
	ok := false
	if s.Provisions != nil {
		if ok, err = s.Provisions(ctx, c.WorkspaceID, id); err != nil {
			return "", apperr.Wrap(err, "read provision")
		}
	}
	if !ok {
		return "", apperr.Field(field, "no service-manager provision with this id in the workspace")
	}
	return id, nil
}

// unprintable reports control and format characters (such as U+202E, which reverses how the
// rest of a name is displayed): names are shown to people, so neither is allowed.
func unprintable(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }
