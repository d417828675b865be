package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends translate driver errors into these; nothing above storage sees a
// driver error it has to interpret.
var (
	ErrNotFound = errors.New("storage: not found")
	ErrConflict = errors.New("storage: conflict with an existing record")
	ErrLimit    = errors.New("storage: limit reached")
	ErrInUse    = errors.New("storage: still referenced")
	// ErrStale answers a conditional write whose record changed since the caller read it.
	ErrStale = errors.New("storage: record changed since it was read")
)

// Workspace types.
const (
	WorkspaceStandard = "STANDARD_ENTERPRISE"
	WorkspaceMSP      = "MSP"
	WorkspaceTenant   = "MSP_TENANT"
)

// Workspace is a tenant of the platform. ParentID is set for an MSP's tenants.
type Workspace struct {
	ID         string
	Name       string
	Type       string
	ParentID   string
	CreatedBy  string
	Generation int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// User is a person known to the platform; users are global and join workspaces as members.
//
// ExternalID is what an identity provider calls the user; it is not unique across the
// platform. Inactive is the negation of the column active (default true), so that the zero
// User is an active one. Attributes is the text of a JSON object of free attributes ("" stores
// as {}; stored compact), at most MaxUserAttributes bytes; text keeps User comparable and
// immutable when views share it. LastLogin is the last time one of the
// user's credentials obtained a token (zero: never); it is written by RecordLogins only.
// DisplayName and CountryCode are SCIM's displayName and GreenLake's countryCode. Source is
// who manages the user's lifecycle (SourceLocal, SourceSCIM; "" stores as SourceLocal) and
// SourceWorkspace, for SourceSCIM, the workspace whose provisioning controls its profile and
// active state.
type User struct {
	ID              string
	Email           string
	FirstName       string
	LastName        string
	DisplayName     string
	CountryCode     string
	ExternalID      string
	Inactive        bool
	Source          string
	SourceWorkspace string
	Attributes      string
	LastLogin       time.Time
	// Preferences: IdleTimeout (seconds) and Language; 0 and "" are "not set".
	IdleTimeout int
	Language    string
	Generation  int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MaxUserAttributes bounds the size in bytes of a user's Attributes as stored (compact JSON).
const MaxUserAttributes = 16384

// Login records that a user's credential obtained a token at At.
type Login struct {
	UserID string
	At     time.Time
}

// Credential is a personal API client. WorkspaceID is where it was created and is managed;
// TenantID, when set, is the MSP tenant its tokens are scoped to. SecretHash is a digest of
// the secret; the secret itself is never stored.
type Credential struct {
	ID          string
	WorkspaceID string
	TenantID    string
	ProvisionID string
	// ProvisionURI is the provision reference as the client gave it ("" : none given, or
	// made before keyhold kept it); it names ProvisionID.
	ProvisionURI string
	OwnerID      string
	Name         string
	SecretHash   []byte
	Generation   int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// SecretCreatedAt is when the current secret was made (zero: with the credential or at
	// its last reset before rotation existed).
	SecretCreatedAt time.Time
	// PrevSecretHash, when not empty, is the secret the last rotation replaced: it keeps
	// authenticating until PrevSecretExpiresAt.
	PrevSecretHash      []byte
	PrevSecretExpiresAt time.Time
	// JWKS (a JSON Web Key Set) or JWKSURI (where to fetch one), at most one of them set,
	// holds the public keys of private_key_jwt client assertions.
	JWKS    string
	JWKSURI string
	// TLSSubjectDN (tls_client_auth) and TLSThumbprints (self_signed_tls_client_auth:
	// base64url SHA-256 of the certificates) let the client authenticate with a TLS client
	// certificate.
	TLSSubjectDN   string
	TLSThumbprints []string
	// TokenTTL, when not zero, is the lifetime of the credential's tokens (whole seconds; the
	// server's token lifetime still caps it). TokenAudiences are the resource URIs (RFC 8707)
	// its tokens may be issued for. TokenScopes, when not empty, are the OAuth scope items
	// (package scope) its tokens may carry, and the scope of a token that asks for none.
	TokenTTL       time.Duration
	TokenAudiences []string
	TokenScopes    []string
}

// SigningKey is a token signing key. The newest key whose RetireAt is zero signs; retired
// keys stay published for verification until RetireAt, then are deleted.
type SigningKey struct {
	KID        string
	Algorithm  string
	PrivateKey []byte // PKCS#8 DER
	CreatedAt  time.Time
	RetireAt   time.Time
}

// Permission is one right a resource provider declares.
type Permission struct {
	Name          string
	Provider      string
	Description   string
	ReleaseStage  string
	CustomRoleUse string
	ResourceTypes []string
	FixedScope    bool
	Generation    int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Role is a named set of permissions; WorkspaceID is empty for predefined roles.
type Role struct {
	ID           string
	WorkspaceID  string
	Slug         string
	Name         string
	Description  string
	Kind         string
	ReleaseStage string
	Permissions  []string
	Generation   int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Assignment grants a role to a subject (a principal string such as "user:<id>") on scopes
// (GRN strings), made in WorkspaceID. Condition, when not "", is the text of a CEL
// expression that must hold for the assignment to grant anything (package rbac compiles
// it); it is part of what makes two assignments identical.
type Assignment struct {
	ID          string
	WorkspaceID string
	Subject     string
	RoleID      string
	Scopes      []string
	Condition   string
	Source      string
	Generation  int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MaxConditionLength bounds the text of an assignment's condition, in bytes.
const MaxConditionLength = 2048

// RevokedToken records an access token revoked before its expiry (RFC 7009).
type RevokedToken struct {
	JTI       string
	ExpiresAt time.Time
}

// Change kinds: which record a change log entry is about. Key is that record's id.
const (
	KindWorkspace  = "workspace"
	KindUser       = "user"
	KindMember     = "member" // key: workspaceID + "/" + userID
	KindCredential = "credential"
	KindSigningKey = "signing_key"
	KindPermission = "permission"
	KindRole       = "role"
	KindAssignment = "assignment"
	KindRevocation = "revocation"
)

// Change is one entry of the change log.
type Change struct {
	Seq  int64
	Kind string
	Key  string
}

// Predicate is a compiled filter: SQL with `?` placeholders over the columns a query
// documents, and its bound arguments. Backends splice SQL in as is, so it must come from a
// compiler that never copies input text into it (package odata).
type Predicate struct {
	SQL  string
	Args []any
}

// CredentialQuery selects credentials. Empty fields do not constrain. Filter may use the
// columns tenant_id, name, owner_id, created_at, updated_at.
type CredentialQuery struct {
	WorkspaceID string
	OwnerID     string
	Filter      Predicate
}

// Workspaces stores workspaces.
type Workspaces interface {
	CreateWorkspace(ctx context.Context, w *Workspace) error
	GetWorkspace(ctx context.Context, id string) (*Workspace, error)
	ListWorkspaces(ctx context.Context) ([]Workspace, error)
}

// Users stores users and their workspace memberships.
type Users interface {
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// CreateUser (above) fails with ErrConflict when the email is taken, ErrLimit for
	// attributes over MaxUserAttributes; it sets u.Attributes to the stored text.
	// UpdateUser replaces a user's email, names, display name, country code, external id,
	// Inactive, source, source workspace, attributes and preferences, sets
	// UpdatedAt and increments the generation (written back into u with the stored record).
	// When ifGeneration is not 0 the user must still be at that generation (ErrStale
	// otherwise). ErrNotFound for an unknown user, ErrConflict for an email taken, ErrLimit
	// for attributes over MaxUserAttributes; attributes that are not a JSON object are an
	// error. CreatedAt, LastLogin are kept.
	UpdateUser(ctx context.Context, u *User, ifGeneration int64) error
	// RecordLogins advances the last login of each user named (never moving it back; unknown
	// users are ignored). It neither increments generations nor appends to the change log:
	// it is a batched side effect of token issuance, not an edit of the user.
	RecordLogins(ctx context.Context, logins []Login) error
	AddMember(ctx context.Context, workspaceID, userID string, at time.Time) error
	IsMember(ctx context.Context, workspaceID, userID string) (bool, error)
	// InactiveUsers lists the ids of the users whose Inactive is set (for the credential
	// view, which refuses their credentials).
	InactiveUsers(ctx context.Context) ([]string, error)
}

// Credentials stores API client credentials.
type Credentials interface {
	// CreateCredential fails with ErrConflict when the owner already has a credential of that
	// name in the workspace, and ErrLimit when the owner already has maxPerOwner of them.
	CreateCredential(ctx context.Context, c *Credential, maxPerOwner int) error
	GetCredential(ctx context.Context, id string) (*Credential, error)
	ListCredentials(ctx context.Context, q CredentialQuery) ([]Credential, error)
	// ResetCredential replaces the secret hash, forgets any previous secret and increments
	// the generation.
	ResetCredential(ctx context.Context, id string, secretHash []byte, at time.Time) (*Credential, error)
	// EndCredentialTokens increments the generation (ending every token issued before) and
	// keeps the secrets and their dates: a deactivated owner's credentials. ErrNotFound for
	// an unknown credential.
	EndCredentialTokens(ctx context.Context, id string, at time.Time) (*Credential, error)
	// RotateCredentialSecret makes secretHash the current secret and keeps the current one as
	// the previous secret until prevExpires; the generation (and so every token) is kept. It
	// fails with ErrConflict when a previous secret is still valid at at.
	RotateCredentialSecret(ctx context.Context, id string, secretHash []byte, at, prevExpires time.Time) (*Credential, error)
	// RetirePreviousSecret forgets the previous secret; ErrNotFound when there is none valid
	// at at.
	RetirePreviousSecret(ctx context.Context, id string, at time.Time) (*Credential, error)
	// SetCredentialKeys replaces the credential's private_key_jwt keys (both "": none).
	SetCredentialKeys(ctx context.Context, id, jwks, jwksURI string, at time.Time) (*Credential, error)
	// SetCredentialTLS replaces the credential's TLS client authentication settings (""
	// and nil: none).
	SetCredentialTLS(ctx context.Context, id, subjectDN string, thumbprints []string, at time.Time) (*Credential, error)
	// SetCredentialTokenSettings replaces the credential's token lifetime (0: the server's) and
	// allowed audiences (nil: none).
	SetCredentialTokenSettings(ctx context.Context, id string, ttl time.Duration, audiences, scopes []string, at time.Time) (*Credential, error)
	// UseAssertionID records that clientID used a client assertion with jti, valid until
	// expires. It fails with ErrConflict when that jti was recorded before and has not
	// expired at now: a replay; of concurrent uses of one jti exactly one succeeds. It returns
	// nil only once the record is durable. Outside the serialised write path; the SQL store
	// records concurrent uses in one transaction (group commit). A use whose ctx ends before
	// it was taken for recording fails with ctx.Err() and is not recorded.
	UseAssertionID(ctx context.Context, clientID, jti string, expires, now time.Time) error
	DeleteCredential(ctx context.Context, id string) error
}

// SigningKeys stores token signing keys.
type SigningKeys interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKeys sets RetireAt on every key not yet retired except keep.
	RetireSigningKeys(ctx context.Context, keep string, retireAt time.Time) error
	// DeleteRetiredKeys removes keys whose RetireAt is set and not after now.
	DeleteRetiredKeys(ctx context.Context, now time.Time) error
}

// Authorization stores permissions, roles and role assignments.
type Authorization interface {
	UpsertPermission(ctx context.Context, p *Permission) error
	GetPermission(ctx context.Context, name string) (*Permission, error)
	ListPermissions(ctx context.Context) ([]Permission, error)
	// UpsertRole creates or replaces a role (by ID) with its permission set.
	UpsertRole(ctx context.Context, r *Role) error
	GetRole(ctx context.Context, id string) (*Role, error)
	ListRoles(ctx context.Context) ([]Role, error)
	// CreateAssignment fails with ErrConflict for an exact duplicate (workspace, subject,
	// role and the same set of scopes).
	CreateAssignment(ctx context.Context, a *Assignment) error
	GetAssignment(ctx context.Context, id string) (*Assignment, error)
	ListAssignments(ctx context.Context, workspaceID string) ([]Assignment, error)
	// EachAssignment calls fn with every assignment and its scopes, in id order, streaming
	// them instead of building a list (a node's start-up load of a million assignments holds
	// one at a time). fn must not use the store; an error from fn ends the walk and is
	// returned.
	EachAssignment(ctx context.Context, fn func(*Assignment) error) error
	DeleteAssignment(ctx context.Context, id string) error
}

// Revocations stores revoked token ids until the tokens would have expired anyway.
type Revocations interface {
	RevokeToken(ctx context.Context, t RevokedToken) error
	GetRevokedToken(ctx context.Context, jti string) (*RevokedToken, error)
	ListRevokedTokens(ctx context.Context, now time.Time) ([]RevokedToken, error)
	DeleteExpiredRevocations(ctx context.Context, now time.Time) error
}

// ChangeLog reads the log that every write appends to.
type ChangeLog interface {
	// ChangesSince returns up to limit entries with Seq > after, in Seq order.
	ChangesSince(ctx context.Context, after int64, limit int) ([]Change, error)
	// LatestSeq is the highest Seq written so far (0 for an empty log); compaction does not
	// lower it.
	LatestSeq(ctx context.Context) (int64, error)
	// OldestSeq is the lowest Seq still in the log (0 when the log is empty). Sequence numbers
	// are dense (every committed write takes the next one), so a reader that has applied up
	// to seq N has missed entries exactly when OldestSeq > N+1.
	OldestSeq(ctx context.Context) (int64, error)
	// CompactChanges deletes the oldest entries of the log: every entry with a Seq below that
	// of the first entry written at or after cutoff. The newest entry is always kept, so
	// what remains is a contiguous, non-empty suffix of the log (when anything was ever
	// written). It returns how many entries it deleted. It is safe to run on several nodes at
	// once, and alongside writers.
	CompactChanges(ctx context.Context, cutoff time.Time) (int64, error)
}

// Settings are named values the service records for the operator commands (SettingBaseURL).
// They are not views: nothing is appended to the change log.
type Settings interface {
	// PutSetting creates or replaces a setting.
	PutSetting(ctx context.Context, name, value string, now time.Time) error
	// GetSetting returns a setting's value, or ErrNotFound.
	GetSetting(ctx context.Context, name string) (string, error)
}

// SettingBaseURL is the public base URL the last started `keyhold serve` runs with.
const SettingBaseURL = "base_url"

// SettingTokenTTL is the access token lifetime the last started `keyhold serve` runs with (a
// Go duration), which `keyhold keys rotate` must cover with its overlap.
const SettingTokenTTL = "token_ttl"

// Store is everything a backend provides.
type Store interface {
	Settings
	Workspaces
	Users
	MemberWalker
	Credentials
	SigningKeys
	Authorization
	Revocations
	ChangeLog
	MSP
	IAM
	AuditLog
	// WithTx runs fn in one transaction: every write inside commits or none does. fn must use
	// the Store it is given, not the outer one.
	WithTx(ctx context.Context, fn func(Store) error) error
	Close() error
}
