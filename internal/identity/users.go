package identity

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/odata"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// UserStatus is the status keyhold reports for every user: keyhold has no email verification
// or login flow, so a user exists, and is usable, from the moment an administrator adds it.
const UserStatus = "VERIFIED"

// Service implements the users and user groups APIs of one node.
type Service struct {
	Store storage.Store
	Sync  func(context.Context) error
	Now   func() time.Time
	// Guard applies the escalation rule to adding group members and removing users.
	Guard *rbac.Guard
}

// userFilter is what GET /identity/v1/users accepts in filter. userStatus compares with the
// constant every keyhold user has.
var userFilter = odata.NewSchema(
	odata.Property{Name: "id", Column: "u.id", Kind: odata.UUID, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "username", Column: "u.email", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "userStatus", Column: "CAST('" + UserStatus + "' AS TEXT)", Kind: odata.String,
		Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "createdAt", Column: "u.created_at", Kind: odata.Time,
		Ops: []odata.Op{odata.Eq, odata.Ne, odata.Gt, odata.Ge, odata.Lt, odata.Le}},
	odata.Property{Name: "updatedAt", Column: "u.updated_at", Kind: odata.Time,
		Ops: []odata.Op{odata.Eq, odata.Ne, odata.Gt, odata.Ge, odata.Lt, odata.Le}},
	odata.Property{Name: "firstName", Column: "u.first_name", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "lastName", Column: "u.last_name", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	// A user who never logged in has no lastLogin: every comparison with it is false.
	odata.Property{Name: "lastLogin", Column: "NULLIF(u.last_login, '')", Kind: odata.Time,
		Ops: []odata.Op{odata.Eq, odata.Ne, odata.Gt, odata.Ge, odata.Lt, odata.Le}},
)

var errUserNotFound = apperr.New(apperr.NotFound, "no user with this id in the workspace")

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) synced(ctx context.Context) error {
	if err := s.Sync(ctx); err != nil {
		return apperr.Wrap(err, "sync views")
	}
	return nil
}

// ListUsers pages through the members of the caller's workspace, narrowed by a filter.
func (s *Service) ListUsers(ctx context.Context, c *principal.Caller, filter string, p storage.Page) ([]storage.User, int, error) {
	pred, err := userFilter.Compile(filter)
	if err != nil {
		return nil, 0, apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
	}
	list, total, err := s.Store.ListMembers(ctx, storage.MemberQuery{WorkspaceID: c.WorkspaceID, Page: p,
		Filter: storage.Predicate{SQL: pred.SQL, Args: pred.Args}})
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list users")
	}
	return list, total, nil
}

// InviteUser adds the user with email to the caller's workspace, creating the user if the
// platform does not know the address yet. A user already in the workspace is a conflict.
func (s *Service) InviteUser(ctx context.Context, c *principal.Caller, email string) (*storage.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return nil, apperr.Field("email", "must be a plain email address")
	}
	var out *storage.User
	err := s.Store.WithTx(ctx, func(tx storage.Store) error {
		u, err := tx.GetUserByEmail(ctx, email)
		if errors.Is(err, storage.ErrNotFound) {
			now := s.now()
			u = &storage.User{ID: ids.New(), Email: email, Generation: 1, CreatedAt: now, UpdatedAt: now}
			err = tx.CreateUser(ctx, u)
		}
		if err != nil {
			return err
		}
		if member, err := tx.IsMember(ctx, c.WorkspaceID, u.ID); err != nil || member {
			if err == nil {
				err = apperr.New(apperr.Conflict, "a user with this email is already a member of the workspace")
			}
			return err
		}
		out = u
		return tx.AddMember(ctx, c.WorkspaceID, u.ID, s.now())
	})
	if err != nil {
		return nil, storeErr(err, "invite user")
	}
	return out, s.synced(ctx)
}

// GetUser reads a member of the caller's workspace.
func (s *Service) GetUser(ctx context.Context, c *principal.Caller, rawID string) (*storage.User, error) {
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "id", "must be a UUID")
	}
	member, err := s.Store.IsMember(ctx, c.WorkspaceID, id)
	if err != nil {
		return nil, apperr.Wrap(err, "check membership")
	}
	if !member {
		return nil, errUserNotFound
	}
	u, err := s.Store.GetUser(ctx, id)
	if err != nil {
		return nil, notFoundOr(err, errUserNotFound, "read user")
	}
	return u, nil
}

// RemoveUser removes a user from the caller's workspace: in one transaction its credentials
// made there (and their role assignments), its role assignments and group memberships there,
// and its membership; a user left without any workspace is deleted with its remaining
// credentials. Its tokens are refused from the moment RemoveUser returns. Callers cannot
// remove themselves, nor a user holding a permission they lack (rbac.Guard), nor the last
// administrator (rbac.KeepAdministrator: 412).
func (s *Service) RemoveUser(ctx context.Context, c *principal.Caller, rawID string) error {
	u, err := s.GetUser(ctx, c, rawID)
	if err != nil {
		return err
	}
	if u.ID == c.OwnerID {
		return apperr.New(apperr.PreconditionFailed, "a user cannot remove itself from the workspace")
	}
	if err := s.Guard.MayRemoveUser(ctx, c, u.ID); err != nil {
		return err
	}
	err = rbac.KeepAdministrator(ctx, s.Store, c.WorkspaceID, func(tx storage.Store) error {
		if err := removeFromWorkspace(ctx, tx, c.WorkspaceID, u.ID); err != nil {
			return err
		}
		left, err := tx.CountMemberships(ctx, u.ID)
		if err != nil {
			return err
		}
		if left > 0 {
			return releaseControl(ctx, tx, c.WorkspaceID, u.ID, s.now())
		}
		creds, err := tx.ListCredentials(ctx, storage.CredentialQuery{OwnerID: u.ID})
		if err != nil {
			return err
		}
		if err := deleteCredentials(ctx, tx, creds); err != nil {
			return err
		}
		return tx.DeleteUser(ctx, u.ID)
	})
	if err != nil {
		return notFoundOr(err, errUserNotFound, "remove user")
	}
	return s.synced(ctx)
}

// releaseControl hands a user that workspace ws controlled (SCIM) back to keyhold's own API
// when ws lets it go: no workspace controls it any more.
func releaseControl(ctx context.Context, tx storage.Store, ws, userID string, now time.Time) error {
	u, err := tx.GetUser(ctx, userID)
	if err != nil || u.SourceWorkspace != ws {
		return err
	}
	u.Source, u.SourceWorkspace, u.UpdatedAt = storage.SourceLocal, "", now
	return tx.UpdateUser(ctx, u, 0)
}

func removeFromWorkspace(ctx context.Context, tx storage.Store, ws, userID string) error {
	creds, err := tx.ListCredentials(ctx, storage.CredentialQuery{WorkspaceID: ws, OwnerID: userID})
	if err != nil {
		return err
	}
	if err := deleteCredentials(ctx, tx, creds); err != nil {
		return err
	}
	if err := deleteAssignments(ctx, tx, ws, principal.User(userID)); err != nil {
		return err
	}
	groups, err := tx.ListGroupsOfUser(ctx, ws, userID)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if err := tx.RemoveUserGroupMember(ctx, g.ID, userID); err != nil {
			return err
		}
	}
	return tx.RemoveMember(ctx, ws, userID)
}

// deleteCredentials deletes credentials with the assignments made to them.
func deleteCredentials(ctx context.Context, tx storage.Store, creds []storage.Credential) error {
	for _, cr := range creds {
		for _, ws := range []string{cr.WorkspaceID, cr.TenantID} {
			if ws == "" {
				continue
			}
			if err := deleteAssignments(ctx, tx, ws, principal.APIClient(cr.ID)); err != nil {
				return err
			}
		}
		if err := tx.DeleteCredential(ctx, cr.ID); err != nil {
			return err
		}
	}
	return nil
}

func deleteAssignments(ctx context.Context, tx storage.Store, ws, subject string) error {
	list, _, err := tx.QueryAssignments(ctx, storage.AssignmentQuery{WorkspaceID: ws, Subjects: []string{subject}})
	if err != nil {
		return err
	}
	for _, a := range list {
		if err := tx.DeleteAssignment(ctx, a.ID); err != nil {
			return err
		}
	}
	return nil
}

// notFoundOr maps ErrNotFound to nf, keeps application errors, and wraps anything else.
func notFoundOr(err error, nf error, what string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return nf
	}
	return storeErr(err, what)
}

func storeErr(err error, what string) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.Wrap(err, what)
}
