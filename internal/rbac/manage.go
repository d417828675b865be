package rbac

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// Limits of the management API.
const (
	// DefaultMaxCustomRoles is how many custom roles one workspace may hold.
	DefaultMaxCustomRoles = 100
	// MaxScopesPerAssignment and the per-kind limits bound an assignment's scope list.
	MaxScopesPerAssignment = 20
	MaxTenantGroupScopes   = 10
	MaxScopeGroupScopes    = 10
	// MaxScopesPerGroup bounds a scope group; MaxScopeBatch bounds one batch add or remove.
	MaxScopesPerGroup = 1000
	MaxScopeBatch     = 500
	// MaxPermissionsPerRole bounds a role's permission list.
	MaxPermissionsPerRole = 1000
)

// Specific error codes, as GreenLake's authorization API names them.
const (
	CodeAlreadyCreated   = "HPE_GL_AUTHORIZATION_ALREADY_CREATED"
	CodeResourceConflict = "HPE_GL_AUTHORIZATION_RESOURCE_CONFLICT"
)

// Permissions that guard the management API beyond the route's own check.
const (
	PermAuthzView        = "glp.authorization.view"
	PermAuthzEdit        = "glp.authorization.edit"
	PermAuthzDelete      = "glp.authorization.delete"
	PermProviderEdit     = "glp.resource-provider.edit"
	PermProviderDelete   = "glp.resource-provider.delete"
	PermPredefinedEdit   = "glp.predefined-role.edit"
	PermPredefinedDelete = "glp.predefined-role.delete"
)

// Manager implements the rules of the authorization management API: resource providers,
// resource types, permissions, roles, role assignments and scope groups. Every write goes
// through the store and then Sync, so that the next decision on this node reflects it.
type Manager struct {
	Store  storage.Store
	Engine *Engine
	Sync   func(context.Context) error
	Now    func() time.Time
	// MaxCustomRoles per workspace; 0 means DefaultMaxCustomRoles.
	MaxCustomRoles int
}

func (m *Manager) now() time.Time { return m.Now().UTC().Truncate(time.Microsecond) }

// synced makes this node's views reflect a write that just succeeded.
func (m *Manager) synced(ctx context.Context) error {
	if err := m.Sync(ctx); err != nil {
		return apperr.Wrap(err, "sync views")
	}
	return nil
}

// platformAllowed reports whether the caller holds permission on the platform scope.
func (m *Manager) platformAllowed(c *principal.Caller, permission string) bool {
	return m.Engine.Allowed(c, permission, grn.Platform(grn.DefaultPlatform))
}

// requirePlatform refuses callers without permission on the platform scope grn:glp.
func (m *Manager) requirePlatform(c *principal.Caller, permission string) error {
	if !m.platformAllowed(c, permission) {
		return apperr.New(apperr.Forbidden, "this operation requires the permission %s on the platform (grn:glp)", permission)
	}
	return nil
}

// workspaceGRN is the whole-workspace GRN of the caller's workspace.
func workspaceGRN(c *principal.Caller) grn.GRN {
	g, _ := grn.Workspace(grn.DefaultPlatform, c.WorkspaceID)
	return g
}

// CheckGeneration implements If-Match: "" matches anything, otherwise the value must be the
// record's current generation.
func CheckGeneration(ifMatch string, generation int64) error {
	if ifMatch == "" {
		return nil
	}
	if g, err := strconv.ParseInt(ifMatch, 10, 64); err != nil || g != generation {
		return apperr.New(apperr.PreconditionFailed, "If-Match %q does not match the current generation %d", truncate(ifMatch), generation)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// storeErr maps a storage error that the caller did not handle to an internal error.
func storeErr(err error, what string) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.Wrap(err, what)
}

// conflict is a 409 with one of GreenLake's authorization conflict codes.
func conflict(code, format string, args ...any) error {
	e := apperr.New(apperr.Conflict, format, args...)
	e.Code = code
	return e
}
