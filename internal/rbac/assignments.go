package rbac

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// Assignment sources.
const (
	SourceLocal    = "LOCAL"
	SourceExternal = "EXTERNAL"
)

// AssignmentInput is the body of an assignment create or update. SubjectField names the
// subject's field as the API version spells it ("subject" in v2alpha2, "principal" in
// v1beta1), for error messages.
type AssignmentInput struct {
	SubjectField string
	Subject      string
	Role         string
	Scopes       []string
	// Condition is a CEL expression the assignment grants under ("" for none; see
	// condition.go). It narrows what the assignment grants, never widens it: a conditional
	// assignment is made under the same rules (Guard) as an unconditional one.
	Condition string
}

// AssignmentView is an assignment with its role's GRN.
type AssignmentView struct {
	storage.Assignment
	RoleGRN string
}

var errAssignmentNotFound = apperr.New(apperr.NotFound, "no role assignment with this id")

// CreateAssignment grants a role to a principal of the caller's workspace on scopes inside it.
func (m *Manager) CreateAssignment(ctx context.Context, c *principal.Caller, in AssignmentInput) (*AssignmentView, error) {
	subject, err := m.checkSubject(ctx, c, in.SubjectField, in.Subject)
	if err != nil {
		return nil, err
	}
	role, err := m.ResolveRole(ctx, c, "role", in.Role)
	if err != nil {
		return nil, err
	}
	scopes, err := m.assignable(ctx, c, role, in.Scopes)
	if err != nil {
		return nil, err
	}
	if in.Condition != "" {
		if _, err := CompileCondition("condition", in.Condition); err != nil {
			return nil, err
		}
	}
	now := m.now()
	a := &storage.Assignment{ID: ids.New(), WorkspaceID: c.WorkspaceID, Subject: subject, RoleID: role.ID, Scopes: scopes,
		Condition: in.Condition, Source: SourceLocal, Generation: 1, CreatedAt: now, UpdatedAt: now}
	switch err := m.Store.CreateAssignment(ctx, a); {
	case errors.Is(err, storage.ErrConflict):
		return nil, conflict(CodeAlreadyCreated, "an identical role assignment already exists")
	case err != nil:
		return nil, apperr.Wrap(err, "create assignment")
	}
	slices.Sort(a.Scopes)
	return &AssignmentView{Assignment: *a, RoleGRN: RoleGRN(role)}, m.synced(ctx)
}

// assignable validates the scopes of an assignment of role and applies the escalation rule
// (Guard): the caller must hold every permission of the role on every scope. The platform
// administrator role is assignable on grn:glp only (so only by a platform administrator).
func (m *Manager) assignable(ctx context.Context, c *principal.Caller, role *storage.Role, raw []string) ([]string, error) {
	var scopes []string
	if role.ID == PredefinedRoleID(RolePlatformAdmin) {
		platform := grn.Platform(grn.DefaultPlatform)
		if len(raw) != 1 || !isPlatformScope(raw[0]) {
			return nil, apperr.Field("scope", "the role %s is assignable on %s only", RolePlatformAdmin, platform.String())
		}
		scopes = []string{platform.String()}
	} else {
		var err error
		if scopes, err = m.checkScopes(ctx, c, role, raw); err != nil {
			return nil, err
		}
	}
	if err := m.guard().MayAssign(ctx, c, role, scopes); err != nil {
		return nil, err
	}
	return scopes, nil
}

// isPlatformScope reports whether text is the GRN grn:glp.
func isPlatformScope(text string) bool {
	g, err := grn.Parse(text)
	return err == nil && g.IsPlatform() && g.Platform == grn.DefaultPlatform
}

// guard is the escalation guard over the manager's store and engine.
func (m *Manager) guard() *Guard { return &Guard{Store: m.Store, Engine: m.Engine} }

// checkSubject requires a principal of the caller's workspace: a member user, a user group
// of the workspace, or an API client (credential) of the workspace.
func (m *Manager) checkSubject(ctx context.Context, c *principal.Caller, field, raw string) (string, error) {
	if raw == "" {
		return "", apperr.Field(field, "is required")
	}
	typ, id, err := principal.Parse(raw)
	if err != nil {
		return "", apperr.Field(field, "must be user:<id>, user-group:<id> or api-client:<id>")
	}
	var ok bool
	switch typ {
	case principal.TypeUser:
		ok, err = m.Store.IsMember(ctx, c.WorkspaceID, id)
	case principal.TypeUserGroup:
		var g *storage.UserGroup
		if g, err = m.Store.GetUserGroup(ctx, id); err == nil {
			ok = g.WorkspaceID == c.WorkspaceID
		}
	case principal.TypeAPIClient:
		var cred *storage.Credential
		if cred, err = m.Store.GetCredential(ctx, id); err == nil {
			ok = cred.WorkspaceID == c.WorkspaceID || cred.TenantID == c.WorkspaceID
		}
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", apperr.Wrap(err, "read principal")
	}
	if !ok {
		return "", apperr.Field(field, "no %s with this id in the workspace", typ)
	}
	return typ + ":" + id, nil
}

// scopeKind classifies an assignment scope.
type scopeKind uint8

const (
	scopeResource    scopeKind = iota // covers by GRN rules
	scopeWorkspace                    // a whole workspace
	scopeTenantGroup                  // a tenant group of an MSP workspace (a resource too)
	scopeScopeGroup                   // a scope group: stands for the group's scopes
	scopePlatform                     // grn:<platform>
)

// kindOf classifies a scope.
func kindOf(g grn.GRN) scopeKind {
	switch {
	case g.IsPlatform():
		return scopePlatform
	case g.IsWorkspace():
		return scopeWorkspace
	}
	if _, ok := scopeGroupOf(g); ok {
		return scopeScopeGroup
	}
	if _, ok := tenantGroupOf(g); ok {
		return scopeTenantGroup
	}
	return scopeResource
}

// checkScopes validates an assignment's scope list and returns it in canonical form: 1..20
// GRNs inside the caller's workspace; at most one whole-workspace GRN, 10 tenant groups and
// 10 scope groups; the whole workspace combines with tenant groups only; a role whose
// permissions are all fixed-scope only on the whole workspace (or tenant groups).
func (m *Manager) checkScopes(ctx context.Context, c *principal.Caller, role *storage.Role, raw []string) ([]string, error) {
	if len(raw) == 0 || len(raw) > MaxScopesPerAssignment {
		return nil, apperr.Field("scope", "must list 1 to %d GRNs", MaxScopesPerAssignment)
	}
	count := map[scopeKind]int{}
	out := make([]string, 0, len(raw))
	for i, text := range raw {
		canon, kind, err := m.checkScope(ctx, c, text)
		if err != nil {
			if apperr.As(err).Kind != apperr.BadRequest {
				return nil, err
			}
			return nil, apperr.Field(indexed("scope", i), "%s", apperr.As(err).Message)
		}
		if slices.Contains(out, canon) {
			return nil, apperr.Field(indexed("scope", i), "is listed twice")
		}
		out = append(out, canon)
		count[kind]++
	}
	switch {
	case count[scopeWorkspace] > 1:
		return nil, apperr.Field("scope", "may hold at most one workspace GRN")
	case count[scopeTenantGroup] > MaxTenantGroupScopes:
		return nil, apperr.Field("scope", "may hold at most %d tenant-group GRNs", MaxTenantGroupScopes)
	case count[scopeScopeGroup] > MaxScopeGroupScopes:
		return nil, apperr.Field("scope", "may hold at most %d scope-group GRNs", MaxScopeGroupScopes)
	case count[scopeWorkspace] == 1 && count[scopeScopeGroup]+count[scopeResource] > 0:
		return nil, apperr.Field("scope", "the whole workspace combines with tenant groups only (it already covers every scope group and resource in it)")
	case count[scopeScopeGroup]+count[scopeResource] > 0 && m.Engine.onlyFixedScope(role.Permissions):
		return nil, apperr.Field("scope", "every permission of this role is fixed-scope: it can only be assigned on the whole workspace")
	}
	return out, nil
}

// checkScope validates one scope and classifies it. The message of an error is the reason.
func (m *Manager) checkScope(ctx context.Context, c *principal.Caller, text string) (string, scopeKind, error) {
	g, err := grn.Parse(text)
	if err != nil {
		return "", 0, apperr.New(apperr.BadRequest, "%s", err.Error())
	}
	ws := workspaceGRN(c)
	if g.Platform != ws.Platform || g.Workspace != ws.Workspace {
		return "", 0, apperr.New(apperr.BadRequest, "must lie inside the caller's workspace %s", ws.String())
	}
	if g.IsWorkspace() {
		return g.String(), scopeWorkspace, nil
	}
	if id, ok := scopeGroupOf(g); ok {
		canon, err := m.ownScopeGroup(ctx, c, id)
		return canon, scopeScopeGroup, err
	}
	if id, ok := tenantGroupOf(g); ok {
		tg, err := m.Store.GetTenantGroup(ctx, id)
		if err != nil || tg.MSPID != c.WorkspaceID {
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return "", 0, apperr.Wrap(err, "read tenant group")
			}
			return "", 0, apperr.New(apperr.BadRequest, "no tenant group with this id in the workspace")
		}
		return TenantGroupGRN(c.WorkspaceID, tg.ID), scopeTenantGroup, nil
	}
	if g.Provider == AuthorizationProvider || g.Provider == TenantGroupProvider {
		return "", 0, apperr.New(apperr.BadRequest, "names no scope group, tenant group or resource")
	}
	return g.String(), scopeResource, nil
}

// ownScopeGroup returns the canonical GRN of a scope group of the caller's workspace.
func (m *Manager) ownScopeGroup(ctx context.Context, c *principal.Caller, rawID string) (string, error) {
	notFound := apperr.New(apperr.BadRequest, "no scope group with this id in the workspace")
	id, err := ids.Parse(rawID)
	if err != nil {
		return "", notFound
	}
	g, err := m.Store.GetScopeGroup(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "", notFound
	case err != nil:
		return "", apperr.Wrap(err, "read scope group")
	case g.WorkspaceID != c.WorkspaceID:
		return "", notFound
	}
	return ScopeGroupGRN(c.WorkspaceID, g.ID), nil
}

// visibleAssignment reads an assignment made in the caller's workspace.
func (m *Manager) visibleAssignment(ctx context.Context, c *principal.Caller, rawID string) (*storage.Assignment, error) {
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "id", "must be a UUID")
	}
	a, err := m.Store.GetAssignment(ctx, id)
	if err == nil && a.WorkspaceID != c.WorkspaceID {
		err = storage.ErrNotFound
	}
	if err != nil {
		return nil, notFoundOr(err, errAssignmentNotFound, "read assignment")
	}
	return a, nil
}

// GetAssignment reads an assignment of the caller's workspace.
func (m *Manager) GetAssignment(ctx context.Context, c *principal.Caller, id string) (*AssignmentView, error) {
	a, err := m.visibleAssignment(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return m.view(ctx, a)
}

func (m *Manager) view(ctx context.Context, a *storage.Assignment) (*AssignmentView, error) {
	r, err := m.Store.GetRole(ctx, a.RoleID)
	if err != nil {
		return nil, apperr.Wrap(err, "read role")
	}
	return &AssignmentView{Assignment: *a, RoleGRN: RoleGRN(r)}, nil
}

// UpdateAssignment replaces an assignment's scopes. Subject, role and condition are
// immutable: the body repeats them and they must match (an update that left the condition
// out would otherwise widen the assignment; a new condition is a new assignment).
func (m *Manager) UpdateAssignment(ctx context.Context, c *principal.Caller, id string, in AssignmentInput, ifMatch string) (*AssignmentView, error) {
	a, err := m.visibleAssignment(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := CheckGeneration(ifMatch, a.Generation); err != nil {
		return nil, err
	}
	subject, err := m.checkSubject(ctx, c, in.SubjectField, in.Subject)
	if err != nil || subject != a.Subject {
		return nil, apperr.Field(in.SubjectField, "is immutable: it must repeat the assignment's %s", in.SubjectField)
	}
	role, err := m.ResolveRole(ctx, c, "role", in.Role)
	if err != nil || role.ID != a.RoleID {
		return nil, apperr.Field("role", "is immutable: it must repeat the assignment's role")
	}
	if in.Condition != a.Condition {
		return nil, apperr.Field("condition", "is immutable: it must repeat the assignment's condition (none when it has none)")
	}
	scopes, err := m.assignable(ctx, c, role, in.Scopes)
	if err != nil {
		return nil, err
	}
	var up *storage.Assignment
	err = KeepAdministrator(ctx, m.Store, c.WorkspaceID, func(tx storage.Store) error {
		var err error
		up, err = tx.UpdateAssignmentScopes(ctx, a.ID, scopes, m.now())
		return err
	})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return nil, conflict(CodeAlreadyCreated, "an identical role assignment already exists")
	case err != nil:
		return nil, notFoundOr(err, errAssignmentNotFound, "update assignment")
	}
	return &AssignmentView{Assignment: *up, RoleGRN: RoleGRN(role)}, m.synced(ctx)
}

// DeleteAssignment removes an assignment of the caller's workspace; the next decision on
// this node no longer counts it. The caller must hold what the assignment grants (Guard), and
// the workspace's last administrator stays (KeepAdministrator).
func (m *Manager) DeleteAssignment(ctx context.Context, c *principal.Caller, id, ifMatch string) error {
	a, err := m.visibleAssignment(ctx, c, id)
	if err != nil {
		return err
	}
	if err := CheckGeneration(ifMatch, a.Generation); err != nil {
		return err
	}
	role, err := m.Store.GetRole(ctx, a.RoleID)
	if err != nil {
		return apperr.Wrap(err, "read role")
	}
	if err := m.guard().MayRevoke(ctx, c, role, a.Scopes); err != nil {
		return err
	}
	err = KeepAdministrator(ctx, m.Store, c.WorkspaceID, func(tx storage.Store) error {
		return tx.DeleteAssignment(ctx, a.ID)
	})
	if err != nil {
		return notFoundOr(err, errAssignmentNotFound, "delete assignment")
	}
	return m.synced(ctx)
}

// ListAssignments pages through the caller's workspace's assignments, narrowed by an `in`
// filter on role, scope and the subject property (subjectProp: "subject" or "principal").
func (m *Manager) ListAssignments(ctx context.Context, c *principal.Caller, subjectProp, filter string, p storage.Page) ([]AssignmentView, int, error) {
	f, err := InFilter(filter, "role", "scope", subjectProp)
	if err != nil {
		return nil, 0, err
	}
	q := storage.AssignmentQuery{WorkspaceID: c.WorkspaceID, Page: p}
	for _, s := range f[subjectProp] {
		if typ, id, err := principal.Parse(s); err == nil {
			s = typ + ":" + id // stored canonically
		}
		q.Subjects = append(q.Subjects, s)
	}
	for _, s := range f["scope"] {
		if g, err := grn.Parse(s); err == nil {
			s = g.String()
		}
		q.Scopes = append(q.Scopes, s)
	}
	for _, text := range f["role"] {
		if r, err := m.ResolveRole(ctx, c, "filter", text); err == nil {
			q.RoleIDs = append(q.RoleIDs, r.ID)
		}
	}
	if len(f["role"]) > 0 && len(q.RoleIDs) == 0 {
		return []AssignmentView{}, 0, nil // no role named exists: nothing matches
	}
	ext, err := m.externalAssignments(ctx, c, q)
	if err != nil {
		return nil, 0, err
	}
	list, total, err := m.Store.QueryAssignments(ctx, q)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list assignments")
	}
	out, _, err := m.views(ctx, c, list, total)
	if err != nil {
		return nil, 0, err
	}
	return appendPage(out, ext, total, p), total + len(ext), nil
}

// appendPage continues a page of the local assignments (of total in all) with the external
// ones, which come after every local one: the page of offset p.Offset and limit p.Limit over
// both.
func appendPage(local, ext []AssignmentView, total int, p storage.Page) []AssignmentView {
	start := max(0, p.Offset-total)
	if start >= len(ext) {
		return local
	}
	end := len(ext)
	if p.Limit > 0 {
		room := p.Limit - len(local)
		if room <= 0 {
			return local
		}
		end = min(end, start+room)
	}
	return append(local, ext[start:end]...)
}

// externalAssignments lists, for a caller in an MSP tenant, the assignments of the MSP
// workspace whose scope reaches the tenant (the MSP's whole workspace, or a tenant group that
// holds the tenant), as the tenant sees them: source EXTERNAL, scope the tenant's whole
// workspace (where they apply), read-only. q narrows them as it narrows the local ones. Other
// callers get none.
func (m *Manager) externalAssignments(ctx context.Context, c *principal.Caller, q storage.AssignmentQuery) ([]AssignmentView, error) {
	ws, err := m.Store.GetWorkspace(ctx, c.WorkspaceID)
	if err != nil {
		return nil, notFoundOr(err, apperr.New(apperr.NotFound, "no workspace with this id"), "read workspace")
	}
	tenantScope := workspaceGRN(c).String()
	if ws.Type != storage.WorkspaceTenant || ws.ParentID == "" || (len(q.Scopes) > 0 && !slices.Contains(q.Scopes, tenantScope)) {
		return nil, nil
	}
	reach, err := m.reachingScopes(ctx, ws.ParentID, ws.ID)
	if err != nil {
		return nil, err
	}
	list, _, err := m.Store.QueryAssignments(ctx, storage.AssignmentQuery{WorkspaceID: ws.ParentID,
		Subjects: q.Subjects, RoleIDs: q.RoleIDs, Scopes: reach})
	if err != nil {
		return nil, apperr.Wrap(err, "list the MSP's assignments")
	}
	out, _, err := m.views(ctx, &principal.Caller{WorkspaceID: ws.ParentID}, list, len(list))
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].WorkspaceID, out[i].Source, out[i].Scopes = ws.ID, SourceExternal, []string{tenantScope}
	}
	return out, nil
}

// reachingScopes lists the GRNs of MSP workspace msp whose assignments reach tenant: the
// MSP's whole workspace and each of its tenant groups that holds the tenant.
func (m *Manager) reachingScopes(ctx context.Context, msp, tenant string) ([]string, error) {
	mspGRN, _ := grn.Workspace(grn.DefaultPlatform, msp)
	out := []string{mspGRN.String()}
	groups, _, err := m.Store.ListTenantGroups(ctx, msp, storage.Page{})
	if err != nil {
		return nil, apperr.Wrap(err, "list tenant groups")
	}
	for _, g := range groups {
		if m.Engine.Groups != nil && m.Engine.Groups.Contains(g.ID, tenant) {
			out = append(out, TenantGroupGRN(msp, g.ID))
		}
	}
	return out, nil
}

func (m *Manager) views(ctx context.Context, c *principal.Caller, list []storage.Assignment, total int) ([]AssignmentView, int, error) {
	roles, err := m.Store.ListRolesIn(ctx, c.WorkspaceID)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list roles")
	}
	grns := make(map[string]string, len(roles))
	for i := range roles {
		grns[roles[i].ID] = RoleGRN(&roles[i])
	}
	out := make([]AssignmentView, len(list))
	for i := range list {
		out[i] = AssignmentView{Assignment: list[i], RoleGRN: grns[list[i].RoleID]}
	}
	return out, total, nil
}

func indexed(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}
