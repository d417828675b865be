package rbac

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/storage"
)

// Provider is keyhold's own resource provider namespace.
const Provider = "glp"

// Release stages and custom-role use values of permissions.
const (
	StageStable     = "STABLE"
	StageDeprecated = "DEPRECATED"
	CustomAllow     = "ALLOW"
	CustomDeny      = "DENY"
	KindPredefined  = "PREDEFINED"
	KindCustom      = "CUSTOM"
)

// Slugs of the predefined roles. They are fixed: clients and tests rely on them.
const (
	RoleWorkspaceAdmin    = "glp.workspace-administrator"
	RoleWorkspaceOperator = "glp.workspace-operator"
	RoleWorkspaceObserver = "glp.workspace-observer"
	RolePlatformAdmin     = "glp.platform-administrator"
)

// Areas of keyhold's workspace permissions: glp.<area>.view|edit|delete.
var Areas = []string{"workspace", "authorization", "identity", "msp-tenant", "service-catalog"}

// PermAuditView reads the audit log of one's workspace.
const PermAuditView = "glp.audit-log.view"

// platformPermissions are held only by platform administrators.
var platformPermissions = []string{
	"glp.resource-provider.edit", "glp.resource-provider.delete",
	"glp.predefined-role.edit", "glp.predefined-role.delete",
}

// roleNamespace derives stable ids for predefined roles, so every node and every store agrees.
var roleNamespace = uuid.MustParse("6f1c2a0e-8b7d-4e3a-9c55-1d2e3f405162")

// PredefinedRoleID is the id of a predefined role.
func PredefinedRoleID(slug string) string {
	return uuid.NewSHA1(roleNamespace, []byte(slug)).String()
}

// PredefinedRoleGRN is the GRN of a predefined role.
func PredefinedRoleGRN(slug string) string {
	return "grn:" + grn.DefaultPlatform + "/providers/authorization/roles/" + slug
}

// Builtins returns keyhold's own permissions and the predefined roles.
func Builtins() ([]storage.Permission, []storage.Role) {
	var perms []storage.Permission
	var view, edit, all []string
	for _, area := range Areas {
		for _, action := range []string{"view", "edit", "delete"} {
			name := Provider + "." + area + "." + action
			perms = append(perms, permission(name, area, CustomAllow))
			all = append(all, name)
			switch action {
			case "view":
				view, edit = append(view, name), append(edit, name)
			case "edit":
				edit = append(edit, name)
			}
		}
	}
	// Reading the audit log is a view right of its own: every predefined role that views
	// the workspace holds it, and a custom role may be given it alone.
	perms = append(perms, permission(PermAuditView, "audit-log", CustomAllow))
	view, edit, all = append(view, PermAuditView), append(edit, PermAuditView), append(all, PermAuditView)
	for _, name := range platformPermissions {
		perms = append(perms, permission(name, "platform", CustomDeny))
	}
	roles := []storage.Role{
		role(RoleWorkspaceAdmin, "Workspace Administrator", "Views, edits and deletes everything in a workspace", all),
		role(RoleWorkspaceOperator, "Workspace Operator", "Views and edits everything in a workspace", edit),
		role(RoleWorkspaceObserver, "Workspace Observer", "Views everything in a workspace", view),
		role(RolePlatformAdmin, "Platform Administrator", "Workspace administration plus registering resource providers and predefined roles",
			append(slices.Clone(all), platformPermissions...)),
	}
	return perms, roles
}

func permission(name, resourceType, customUse string) storage.Permission {
	return storage.Permission{Name: name, Provider: Provider, Description: "keyhold " + name,
		ReleaseStage: StageStable, CustomRoleUse: customUse, ResourceTypes: []string{Provider + "/" + resourceType}, Generation: 1}
}

func role(slug, name, desc string, perms []string) storage.Role {
	return storage.Role{ID: PredefinedRoleID(slug), Slug: slug, Name: name, Description: desc, Kind: KindPredefined,
		ReleaseStage: StageStable, Permissions: perms, Generation: 1}
}

// EnsureBuiltins writes the built-in permissions and roles that are missing or differ from
// their definition; a store that already has them is left untouched.
func EnsureBuiltins(ctx context.Context, s storage.Store, now time.Time) error {
	perms, roles := Builtins()
	return s.WithTx(ctx, func(tx storage.Store) error {
		if err := ensureProvider(ctx, tx, now); err != nil {
			return err
		}
		for i := range perms {
			p := &perms[i]
			old, err := tx.GetPermission(ctx, p.Name)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if old != nil && old.Description == p.Description && old.CustomRoleUse == p.CustomRoleUse &&
				slices.Equal(old.ResourceTypes, p.ResourceTypes) {
				continue
			}
			p.CreatedAt, p.UpdatedAt = now, now
			if err := tx.UpsertPermission(ctx, p); err != nil {
				return err
			}
		}
		for i := range roles {
			r := &roles[i]
			old, err := tx.GetRole(ctx, r.ID)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if old != nil && old.Name == r.Name && slices.Equal(old.Permissions, slices.Sorted(slices.Values(r.Permissions))) {
				continue
			}
			r.CreatedAt, r.UpdatedAt = now, now
			if err := tx.UpsertRole(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// builtinTypes are the resource types of keyhold's own provider: its areas, the platform, and
// the objects of the platform permissions (so every built-in permission name follows
// <provider>.<resource type>.<action>).
var builtinTypes = append(slices.Clone(Areas), "platform", "resource-provider", "predefined-role", "audit-log")

// ensureProvider registers keyhold's own resource provider and its resource types if missing.
func ensureProvider(ctx context.Context, tx storage.Store, now time.Time) error {
	if _, err := tx.GetProvider(ctx, Provider); errors.Is(err, storage.ErrNotFound) {
		if err := tx.CreateProvider(ctx, &storage.ResourceProvider{ID: Provider, Name: "HPE GreenLake platform (keyhold)",
			Description: "keyhold's own resource provider", Generation: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	for _, name := range builtinTypes {
		_, err := tx.GetResourceType(ctx, Provider, name)
		if err == nil {
			continue
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := tx.CreateResourceType(ctx, &storage.ResourceType{Provider: Provider, Name: name, DisplayName: name,
			Description: "keyhold " + name, Generation: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}
