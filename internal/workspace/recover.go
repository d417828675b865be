package workspace

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// RecoverCredentialPrefix starts the name of a credential made by RecoverAdmin; the rest is
// the time it was made, so that names stay unique per owner.
const RecoverCredentialPrefix = "recovery "

// RecoverInput names a workspace that lost its administrator (or the administrator's
// secret) and the user to make its administrator.
type RecoverInput struct {
	// Workspace is the workspace's id (either spelling) or its exact name.
	Workspace string
	// Email of the user to make administrator; "" means the workspace's creator (its first
	// administrator, as recorded in createdBy). A user unknown to the platform is created.
	Email string
	// PlatformAdmin also assigns glp.platform-administrator on grn:glp, made in this
	// workspace: the only way to get a platform administrator back once none is left.
	PlatformAdmin bool
	IssuerURL     func(workspaceID string) string
	Now           time.Time
}

// RecoverAdmin is the operator's way back into a workspace, for whoever has access to the
// store (like Keycloak's bootstrap-admin): in one transaction it makes the user a member of
// the workspace if it is not, assigns it glp.workspace-administrator on the whole workspace
// unless it holds that already (and glp.platform-administrator on grn:glp when asked), and
// issues it a new credential, whose secret it returns (the only time it is shown). The
// user's other credentials and assignments are left as they are. A running server sees all
// of it at once: the writes go through the change log, and an unknown client id makes a
// server read the log before it answers.
func RecoverAdmin(ctx context.Context, s storage.Store, in RecoverInput) (*Created, error) {
	var out *Created
	err := s.WithTx(ctx, func(tx storage.Store) error {
		var err error
		out, err = recoverAdmin(ctx, tx, in)
		return err
	})
	return out, err
}

func recoverAdmin(ctx context.Context, tx storage.Store, in RecoverInput) (*Created, error) {
	w, err := findWorkspace(ctx, tx, in.Workspace)
	if err != nil {
		return nil, err
	}
	email, err := recoverEmail(in.Email, w)
	if err != nil {
		return nil, err
	}
	now := in.Now.UTC().Truncate(time.Microsecond)
	u, err := adminUser(ctx, tx, email, now)
	if err != nil {
		return nil, err
	}
	if err := ensureMember(ctx, tx, w.ID, u.ID, now); err != nil {
		return nil, err
	}
	whole, _ := grn.Workspace(grn.DefaultPlatform, w.ID)
	if err := ensureAssigned(ctx, tx, w.ID, u.ID, rbac.RoleWorkspaceAdmin, whole, now); err != nil {
		return nil, err
	}
	if in.PlatformAdmin {
		if err := ensureAssigned(ctx, tx, w.ID, u.ID, rbac.RolePlatformAdmin, grn.Platform(grn.DefaultPlatform), now); err != nil {
			return nil, err
		}
	}
	secret, hash := credential.NewSecret()
	c := &storage.Credential{ID: ids.New(), WorkspaceID: w.ID, OwnerID: u.ID,
		Name: RecoverCredentialPrefix + now.Format("2006-01-02T15:04:05.000000Z"), SecretHash: hash,
		Generation: 1, CreatedAt: now, UpdatedAt: now}
	// No per-owner limit: the way back in must not depend on deleting credentials first.
	if err := tx.CreateCredential(ctx, c, 0); err != nil {
		return nil, fmt.Errorf("create the credential: %w", err)
	}
	iss := in.IssuerURL(w.ID)
	return &Created{WorkspaceID: w.ID, WorkspaceName: w.Name, WorkspaceType: w.Type, UserID: u.ID,
		ClientID: c.ID, ClientSecret: secret, Issuer: iss, TokenURL: iss + "/token"}, nil
}

// findWorkspace finds a workspace by id or, failing that, by exact name (which must be
// unambiguous).
func findWorkspace(ctx context.Context, tx storage.Store, ref string) (*storage.Workspace, error) {
	ref = strings.TrimSpace(ref)
	if id, err := ids.Parse(ref); err == nil {
		w, err := tx.GetWorkspace(ctx, id)
		if err == nil || !errors.Is(err, storage.ErrNotFound) {
			return w, err
		}
	}
	all, err := tx.ListWorkspaces(ctx)
	if err != nil {
		return nil, err
	}
	var found []storage.Workspace
	for _, w := range all {
		if w.Name == ref {
			found = append(found, w)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no workspace has the id or name %q", ref)
	case 1:
		return &found[0], nil
	}
	var names []string
	for _, w := range found {
		names = append(names, w.ID)
	}
	return nil, fmt.Errorf("%d workspaces are named %q; name one by its id: %s", len(found), ref, strings.Join(names, ", "))
}

func ensureMember(ctx context.Context, tx storage.Store, ws, userID string, now time.Time) error {
	member, err := tx.IsMember(ctx, ws, userID)
	if err != nil || member {
		return err
	}
	return tx.AddMember(ctx, ws, userID, now)
}

// ensureAssigned assigns role slug on scope to the user unless an assignment made in ws
// already grants it there.
func ensureAssigned(ctx context.Context, tx storage.Store, ws, userID, slug string, scope grn.GRN, now time.Time) error {
	list, _, err := tx.QueryAssignments(ctx, storage.AssignmentQuery{WorkspaceID: ws,
		Subjects: []string{principal.User(userID)}, RoleIDs: []string{rbac.PredefinedRoleID(slug)}})
	if err != nil {
		return err
	}
	for _, a := range list {
		if slices.Contains(a.Scopes, scope.String()) {
			return nil
		}
	}
	return assign(ctx, tx, ws, userID, slug, scope, now)
}

// recoverEmail is the plain, lower-case address of the user to recover: given, or the
// workspace's creator.
func recoverEmail(given string, w *storage.Workspace) (string, error) {
	email := strings.ToLower(strings.TrimSpace(given))
	if email == "" {
		email = strings.ToLower(w.CreatedBy)
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		if given == "" {
			return "", fmt.Errorf("the workspace's creator %q is not an email address: name the user with --email", w.CreatedBy)
		}
		return "", fmt.Errorf("email %q is not a plain email address", given)
	}
	return email, nil
}
