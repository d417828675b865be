package rbac

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// Guard applies keyhold's escalation rule, the one Kubernetes RBAC applies to bindings and
// roles: nobody grants, directly or through another principal, a permission it does not hold
// itself on the scope it grants it on. It answers 403 naming the first permission and scope
// the caller lacks. Everything it reads about the target comes from the store (these are
// management writes, not hot paths); what the caller holds comes from Engine.Allowed, so it
// counts exactly the assignments the caller's token acts with.
//
// "Holds permission p on scope s" means: Allowed(caller, p, s), or Allowed(caller, p, the
// whole workspace of s) (which covers everything in it); on grn:glp only the former. A
// scope-group scope stands for each of the group's scopes; a tenant-group scope, whose grants
// reach the tenants of the group, needs p on the MSP's whole workspace (no permission applies
// to the tenant-group GRN itself).
//
// Service permissions (of any provider but keyhold's own "glp") may also be granted by a
// caller that holds every permission of glp.workspace-administrator on its whole workspace:
// the workspace administrator assigns the roles of the services in its workspace although it
// holds none of their permissions itself. This stands for Kubernetes' "bind" verb; keyhold's
// own permissions have no such exception.
type Guard struct {
	Store  storage.Store
	Engine *Engine
}

// check is one caller's run of the guard; it remembers what it computed once.
type check struct {
	g    *Guard
	ctx  context.Context
	c    *principal.Caller
	what string // the act refused, for messages: "assigning this role"
	ws   grn.GRN
	bind *bool
	// scopesOf caches the scopes of scope groups, by the group's GRN text.
	scopesOf map[string][]grn.GRN
	roles    map[string]*storage.Role
}

func (g *Guard) check(ctx context.Context, c *principal.Caller, what string) *check {
	return &check{g: g, ctx: ctx, c: c, what: what, ws: workspaceGRN(c),
		scopesOf: map[string][]grn.GRN{}, roles: map[string]*storage.Role{}}
}

// MayAssign refuses (403) unless the caller holds every permission of role on every one of
// scopes (canonical GRN texts).
func (g *Guard) MayAssign(ctx context.Context, c *principal.Caller, role *storage.Role, scopes []string) error {
	return g.check(ctx, c, "assigning this role").grants(role.Permissions, scopes)
}

// MayRevoke refuses (403) unless the caller holds every permission of role on every one of
// scopes: nobody takes away, by deleting an assignment, more than it could have granted.
func (g *Guard) MayRevoke(ctx context.Context, c *principal.Caller, role *storage.Role, scopes []string) error {
	return g.check(ctx, c, "deleting this role assignment").grants(role.Permissions, scopes)
}

// MayDefine refuses (403) unless the caller holds every one of perms on its whole workspace:
// the permissions a custom role create or update adds (an assigned role's new permissions
// reach every scope it is assigned on; Kubernetes' "escalate" rule).
func (g *Guard) MayDefine(ctx context.Context, c *principal.Caller, perms []string) error {
	k := g.check(ctx, c, "putting this permission in a role")
	return k.grants(perms, []string{k.ws.String()})
}

// MayGrantHoldings refuses (403) unless the caller holds everything that the assignments
// made in its workspace to subjects grant: what the caller would hand out (or take over) by
// the act what ("adding a member to this user group").
func (g *Guard) MayGrantHoldings(ctx context.Context, c *principal.Caller, subjects []string, what string) error {
	if len(subjects) == 0 {
		return nil
	}
	list, _, err := g.Store.QueryAssignments(ctx, storage.AssignmentQuery{WorkspaceID: c.WorkspaceID, Subjects: subjects})
	if err != nil {
		return apperr.Wrap(err, "read assignments")
	}
	k := g.check(ctx, c, what)
	for i := range list {
		r, err := k.role(list[i].RoleID)
		if err != nil {
			return err
		}
		if r == nil {
			continue // removed meanwhile: grants nothing
		}
		if err := k.grants(r.Permissions, list[i].Scopes); err != nil {
			return err
		}
	}
	return nil
}

// MayActFor refuses (403) unless the caller holds every permission that the user ownerID
// holds in the caller's workspace (through its own assignments and its user groups'), and,
// when clientID is not "", that the API client clientID holds there: the rights that a
// credential of that owner acts with, and which creating, resetting or deleting it hands
// over (or takes away).
//
// A credential an MSP made for one of its tenants also acts with what is assigned in the
// tenant to it and to its owner; the caller must hold that too, as a token of its own
// exchanged into the tenant would.
func (g *Guard) MayActFor(ctx context.Context, c *principal.Caller, ownerID, clientID string) error {
	const what = "managing a credential of this user"
	if err := g.mayHoldAs(ctx, c, ownerID, clientID, what); err != nil || clientID == "" {
		return err
	}
	cred, err := g.Store.GetCredential(ctx, clientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return apperr.Wrap(err, "read credential")
	case cred.TenantID == "" || cred.TenantID == c.WorkspaceID || c.ActingFrom != "":
		return nil
	}
	inTenant := *c
	inTenant.WorkspaceID, inTenant.ActingFrom = cred.TenantID, c.WorkspaceID
	return g.mayHoldAs(ctx, &inTenant, ownerID, clientID, what)
}

// MayRemoveUser refuses (403) unless the caller holds every permission the user holds in the
// caller's workspace: removing it takes them away, with its credentials.
func (g *Guard) MayRemoveUser(ctx context.Context, c *principal.Caller, userID string) error {
	return g.mayHoldAs(ctx, c, userID, "", "removing this user")
}

// MayEditProfile refuses (403) unless the caller holds every permission the user holds in
// the caller's workspace: a user's names are properties that access conditions may read.
func (g *Guard) MayEditProfile(ctx context.Context, c *principal.Caller, userID string) error {
	return g.mayHoldAs(ctx, c, userID, "", "changing this user's profile")
}

// mayHoldAs checks the holdings, in c's workspace, of the user and (when not "") the client.
func (g *Guard) mayHoldAs(ctx context.Context, c *principal.Caller, ownerID, clientID, what string) error {
	subjects, err := UserSubjects(ctx, g.Store, c.WorkspaceID, ownerID)
	if err != nil {
		return err
	}
	if clientID != "" {
		subjects = append(subjects, principal.APIClient(clientID))
	}
	return g.MayGrantHoldings(ctx, c, subjects, what)
}

// UserSubjects lists the principals whose assignments made in workspace ws a user acts
// with: the user and its user groups there.
func UserSubjects(ctx context.Context, s storage.Store, ws, userID string) ([]string, error) {
	groups, err := s.ListGroupsOfUser(ctx, ws, userID)
	if err != nil {
		return nil, apperr.Wrap(err, "read the user's groups")
	}
	out := []string{principal.User(userID)}
	for _, g := range groups {
		out = append(out, principal.Group(g.ID))
	}
	return out, nil
}

// grants refuses unless the caller holds each of perms on each of scopes.
func (k *check) grants(perms, scopes []string) error {
	parsed := make([]grn.GRN, 0, len(scopes))
	for _, s := range scopes {
		g, err := grn.Parse(s)
		if err != nil {
			continue // the engine ignores a scope that does not parse: it grants nothing
		}
		parsed = append(parsed, g)
	}
	for _, p := range perms {
		if err := k.holdsEverywhere(p, parsed); err != nil {
			return err
		}
	}
	return nil
}

// holdsEverywhere refuses unless the caller holds p on each of scopes.
func (k *check) holdsEverywhere(p string, scopes []grn.GRN) error {
	for _, s := range scopes {
		if !s.IsPlatform() && s.Workspace == k.ws.Workspace && k.g.Engine.Allowed(k.c, p, k.ws) {
			continue // the whole workspace covers every scope in it
		}
		if !isGLP(p) && s.Workspace == k.ws.Workspace && k.binds() {
			continue
		}
		missing, err := k.missing(p, s)
		if err != nil {
			return err
		}
		if missing != "" {
			return k.denied(p, missing)
		}
	}
	return nil
}

// missing returns the scope (s, or a scope of the scope group s names) on which the caller
// does not hold p, or "".
func (k *check) missing(p string, s grn.GRN) (string, error) {
	if _, ok := scopeGroupOf(s); ok {
		members, err := k.groupScopes(s)
		if err != nil {
			return "", err
		}
		for _, m := range members {
			if !k.holds(p, m) {
				return m.String(), nil
			}
		}
		return "", nil
	}
	if !k.holds(p, s) {
		return s.String(), nil
	}
	return "", nil
}

// holds reports whether the caller holds p on s (see Guard).
func (k *check) holds(p string, s grn.GRN) bool {
	if k.g.Engine.Allowed(k.c, p, s) {
		return true
	}
	whole := s.WorkspaceGRN()
	return !whole.IsZero() && k.g.Engine.Allowed(k.c, p, whole)
}

// groupScopes returns the scopes of the scope group s names, as the engine counts them: none
// when the group does not exist or belongs to another workspace than its GRN names.
func (k *check) groupScopes(s grn.GRN) ([]grn.GRN, error) {
	text := s.String()
	if got, ok := k.scopesOf[text]; ok {
		return got, nil
	}
	id, _ := scopeGroupOf(s)
	var out []grn.GRN
	g, err := k.g.Store.GetScopeGroup(k.ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, apperr.Wrap(err, "read scope group")
	case ids.Hex(g.WorkspaceID) == s.Workspace:
		list, _, err := k.g.Store.ListGroupScopes(k.ctx, g.ID, storage.Page{})
		if err != nil {
			return nil, apperr.Wrap(err, "read scope group scopes")
		}
		for _, sc := range list {
			if p, err := grn.Parse(sc.GRN); err == nil {
				out = append(out, p)
			}
		}
	}
	k.scopesOf[text] = out
	return out, nil
}

// binds reports whether the caller holds every permission of glp.workspace-administrator on
// its whole workspace, which lets it grant service permissions it does not hold.
func (k *check) binds() bool {
	if k.bind == nil {
		ok := true
		for _, p := range adminPermissions() {
			if !k.g.Engine.Allowed(k.c, p, k.ws) {
				ok = false
				break
			}
		}
		k.bind = &ok
	}
	return *k.bind
}

// role reads a role once per check; nil when it no longer exists.
func (k *check) role(id string) (*storage.Role, error) {
	if r, ok := k.roles[id]; ok {
		return r, nil
	}
	r, err := k.g.Store.GetRole(k.ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		r = nil
	case err != nil:
		return nil, apperr.Wrap(err, "read role")
	}
	k.roles[id] = r
	return r, nil
}

func (k *check) denied(p, scope string) error {
	msg := k.what + " needs the permission " + p + " on " + scope + ", which the caller does not hold: nobody may grant more than it holds"
	if !isGLP(p) {
		msg += " (a workspace administrator may grant service permissions it does not hold)"
	}
	return apperr.New(apperr.Forbidden, "%s", msg)
}

// isGLP reports whether p is one of keyhold's own permissions.
func isGLP(p string) bool { return strings.HasPrefix(p, Provider+".") }

// adminPermissions are the permissions of glp.workspace-administrator.
var adminPermissions = sync.OnceValue(func() []string {
	_, roles := Builtins()
	for _, r := range roles {
		if r.Slug == RoleWorkspaceAdmin {
			return r.Permissions
		}
	}
	return nil
})

// MayExtendScopeGroup returns a check for scopes about to join the scope group groupGRN: a
// scope added to a group reaches every assignment that names the group, so the check refuses
// (403) a scope on which the caller does not hold every permission of every role assigned on
// the group in its workspace.
func (g *Guard) MayExtendScopeGroup(ctx context.Context, c *principal.Caller, groupGRN string) (func(scope string) error, error) {
	return g.mayExtend(ctx, c, groupGRN, "adding this scope to a scope group that role assignments name")
}

// MayExtendTenantGroup refuses (403) adding a tenant to the tenant group groupGRN of the
// caller's MSP workspace unless the caller holds, on the MSP's whole workspace (which reaches
// every tenant), every permission of every role assigned on the group: the tenant's new
// member gets them there.
func (g *Guard) MayExtendTenantGroup(ctx context.Context, c *principal.Caller, groupGRN string) error {
	check, err := g.mayExtend(ctx, c, groupGRN, "adding a tenant to a tenant group that role assignments name")
	if err != nil {
		return err
	}
	return check(workspaceGRN(c).String())
}

func (g *Guard) mayExtend(ctx context.Context, c *principal.Caller, groupGRN, what string) (func(scope string) error, error) {
	list, _, err := g.Store.QueryAssignments(ctx, storage.AssignmentQuery{WorkspaceID: c.WorkspaceID, Scopes: []string{groupGRN}})
	if err != nil {
		return nil, apperr.Wrap(err, "read assignments")
	}
	k := g.check(ctx, c, what)
	var perms []string
	for i := range list {
		r, err := k.role(list[i].RoleID)
		if err != nil {
			return nil, err
		}
		if r != nil {
			perms = append(perms, r.Permissions...)
		}
	}
	slices.Sort(perms)
	perms = slices.Compact(perms)
	return func(scope string) error { return k.grants(perms, []string{scope}) }, nil
}
