package workspace

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// DefaultAdminEmail is the first administrator's address when none is given.
const DefaultAdminEmail = "admin@localhost"

// BootstrapCredentialName names the credential made for a new workspace's administrator.
const BootstrapCredentialName = "bootstrap"

// CreateInput describes a workspace to create with its first administrator.
type CreateInput struct {
	Name       string
	Type       string
	AdminEmail string
	// IssuerURL maps a workspace id to its token issuer URL.
	IssuerURL func(workspaceID string) string
	Now       time.Time
}

// Created is what an operator is told once, after creating a workspace: the only time the
// administrator's secret is shown.
type Created struct {
	WorkspaceID   string `json:"workspaceId"`
	WorkspaceName string `json:"workspaceName"`
	WorkspaceType string `json:"workspaceType"`
	UserID        string `json:"userId"`
	ClientID      string `json:"clientId"`
	ClientSecret  string `json:"clientSecret"`
	Issuer        string `json:"issuer"`
	TokenURL      string `json:"tokenUrl"`
}

// ErrNotEmpty is returned by Bootstrap when the store already has a workspace.
var ErrNotEmpty = errors.New("the store already has a workspace")

// Bootstrap creates the first workspace, only if the store has none. Running it on several
// nodes at once creates one workspace: the check and the create share one transaction.
func Bootstrap(ctx context.Context, s storage.Store, in CreateInput) (*Created, error) {
	var out *Created
	err := s.WithTx(ctx, func(tx storage.Store) error {
		all, err := tx.ListWorkspaces(ctx)
		if err != nil {
			return err
		}
		if len(all) > 0 {
			return ErrNotEmpty
		}
		out, err = create(ctx, tx, in)
		return err
	})
	return out, err
}

// Create makes a workspace, its administrator (an existing user with that email is reused)
// and the administrator's first credential, in one transaction. The administrator of the
// first workspace of a store is also the platform administrator.
func Create(ctx context.Context, s storage.Store, in CreateInput) (*Created, error) {
	var out *Created
	err := s.WithTx(ctx, func(tx storage.Store) error {
		var err error
		out, err = create(ctx, tx, in)
		return err
	})
	return out, err
}

func create(ctx context.Context, tx storage.Store, in CreateInput) (*Created, error) {
	if err := validate(&in); err != nil {
		return nil, err
	}
	now := in.Now.UTC().Truncate(time.Microsecond)
	existing, err := tx.ListWorkspaces(ctx)
	if err != nil {
		return nil, err
	}
	w := &storage.Workspace{ID: ids.New(), Name: in.Name, Type: in.Type, CreatedBy: in.AdminEmail,
		Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateWorkspace(ctx, w); err != nil {
		return nil, err
	}
	u, err := adminUser(ctx, tx, in.AdminEmail, now)
	if err != nil {
		return nil, err
	}
	if err := tx.AddMember(ctx, w.ID, u.ID, now); err != nil {
		return nil, err
	}
	if err := assign(ctx, tx, w.ID, u.ID, rbac.RoleWorkspaceAdmin, grn.MustParse("grn:glp/workspaces/"+ids.Hex(w.ID)), now); err != nil {
		return nil, err
	}
	if len(existing) == 0 {
		if err := assign(ctx, tx, w.ID, u.ID, rbac.RolePlatformAdmin, grn.Platform(grn.DefaultPlatform), now); err != nil {
			return nil, err
		}
	}
	secret, hash := credential.NewSecret()
	c := &storage.Credential{ID: ids.New(), WorkspaceID: w.ID, OwnerID: u.ID, Name: BootstrapCredentialName,
		SecretHash: hash, Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateCredential(ctx, c, 0); err != nil {
		return nil, err
	}
	iss := in.IssuerURL(w.ID)
	return &Created{WorkspaceID: w.ID, WorkspaceName: w.Name, WorkspaceType: w.Type, UserID: u.ID,
		ClientID: c.ID, ClientSecret: secret, Issuer: iss, TokenURL: iss + "/token"}, nil
}

func validate(in *CreateInput) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > 100 || strings.IndexFunc(in.Name, unprintable) >= 0 {
		return fmt.Errorf("workspace name must be 1 to 100 printable characters")
	}
	if in.Type == "" {
		in.Type = storage.WorkspaceStandard
	}
	if in.Type != storage.WorkspaceStandard && in.Type != storage.WorkspaceMSP {
		return fmt.Errorf("workspace type %q: expected %s or %s", in.Type, storage.WorkspaceStandard, storage.WorkspaceMSP)
	}
	if in.AdminEmail == "" {
		in.AdminEmail = DefaultAdminEmail
	}
	in.AdminEmail = strings.ToLower(strings.TrimSpace(in.AdminEmail))
	if a, err := mail.ParseAddress(in.AdminEmail); err != nil || a.Address != in.AdminEmail || len(in.AdminEmail) > 254 {
		return fmt.Errorf("admin email %q is not a plain email address", in.AdminEmail)
	}
	return nil
}

func adminUser(ctx context.Context, tx storage.Store, email string, now time.Time) (*storage.User, error) {
	u, err := tx.GetUserByEmail(ctx, email)
	if err == nil || !errors.Is(err, storage.ErrNotFound) {
		return u, err
	}
	u = &storage.User{ID: ids.New(), Email: email, Generation: 1, CreatedAt: now, UpdatedAt: now}
	return u, tx.CreateUser(ctx, u)
}

func assign(ctx context.Context, tx storage.Store, ws, userID, slug string, scope grn.GRN, now time.Time) error {
	return tx.CreateAssignment(ctx, &storage.Assignment{ID: ids.New(), WorkspaceID: ws, Subject: principal.User(userID),
		RoleID: rbac.PredefinedRoleID(slug), Scopes: []string{scope.String()}, Source: "LOCAL",
		Generation: 1, CreatedAt: now, UpdatedAt: now})
}
