package rbac

import (
	"context"
	"slices"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// RuleLastAdministrator is the rule a 412 names when a change would leave a workspace
// without an administrator.
const RuleLastAdministrator = "a workspace keeps at least one administrator"

// errLastAdministrator is the 412 of RuleLastAdministrator.
func errLastAdministrator() error {
	return apperr.New(apperr.PreconditionFailed, "%s: this change would leave no user holding %s on the whole workspace; "+
		"assign that role to another user first (an operator with access to the store can also run `keyhold admin recover`)",
		RuleLastAdministrator, RoleWorkspaceAdmin)
}

// HasAdministrator reports whether workspace ws has an administrator: a member user that
// holds, through an assignment made in ws to itself or to a user group it belongs to,
// glp.workspace-administrator on the whole workspace or glp.platform-administrator on
// grn:glp. API clients do not count: a credential is personal, and its owner can be removed.
func HasAdministrator(ctx context.Context, s storage.Store, ws string) (bool, error) {
	whole, err := grn.Workspace(grn.DefaultPlatform, ws)
	if err != nil {
		return false, err
	}
	platform := grn.Platform(grn.DefaultPlatform).String()
	adminID, platformID := PredefinedRoleID(RoleWorkspaceAdmin), PredefinedRoleID(RolePlatformAdmin)
	list, _, err := s.QueryAssignments(ctx, storage.AssignmentQuery{WorkspaceID: ws,
		RoleIDs: []string{adminID, platformID}, Scopes: []string{whole.String(), platform}})
	if err != nil {
		return false, err
	}
	for _, a := range list {
		if a.Condition != "" || !(a.RoleID == adminID && slices.Contains(a.Scopes, whole.String()) ||
			a.RoleID == platformID && slices.Contains(a.Scopes, platform)) {
			continue // a conditional assignment grants nothing on keyhold's own API
		}
		ok, err := hasMember(ctx, s, ws, a.Subject)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// hasMember reports whether subject is a member user of ws, or a user group with a member.
func hasMember(ctx context.Context, s storage.Store, ws, subject string) (bool, error) {
	typ, id, err := principal.Parse(subject)
	if err != nil {
		return false, nil
	}
	switch typ {
	case principal.TypeUser:
		return s.IsMember(ctx, ws, id)
	case principal.TypeUserGroup:
		_, n, err := s.ListUserGroupMembers(ctx, id, storage.Page{Limit: 1})
		return n > 0, err
	}
	return false, nil
}

// KeepAdministrator runs write in one transaction and refuses it (412, naming
// RuleLastAdministrator) when it leaves workspace ws, which had an administrator, without
// one. Writers serialise on the store's change log (every transaction takes its lock first),
// so two concurrent removals of two administrators cannot both pass the check.
func KeepAdministrator(ctx context.Context, s storage.Store, ws string, write func(tx storage.Store) error) error {
	return s.WithTx(ctx, func(tx storage.Store) error {
		before, err := HasAdministrator(ctx, tx, ws)
		if err != nil {
			return err
		}
		if err := write(tx); err != nil {
			return err
		}
		if !before {
			return nil
		}
		after, err := HasAdministrator(ctx, tx, ws)
		switch {
		case err != nil:
			return err
		case !after:
			return errLastAdministrator()
		}
		return nil
	})
}
