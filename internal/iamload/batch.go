package iamload

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

// statements of the bulk insert, with ? placeholders (rebound per dialect).
var statements = map[string]string{
	"workspace": `INSERT INTO workspaces (id, name, type, created_by, generation, created_at, updated_at) VALUES (?, ?, 'STANDARD_ENTERPRISE', '', 1, ?, ?)`,
	"user":      `INSERT INTO users (id, email, generation, created_at, updated_at) VALUES (?, ?, 1, ?, ?)`,
	"member":    `INSERT INTO workspace_members (workspace_id, user_id, created_at) VALUES (?, ?, ?)`,
	"role": `INSERT INTO roles (id, workspace_id, slug, name, description, kind, release_stage, generation, created_at, updated_at)
		VALUES (?, ?, '', 'Servers', '', 'CUSTOM', '', 1, ?, ?)`,
	"rolePerm":   `INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)`,
	"group":      `INSERT INTO user_groups (id, workspace_id, name, description, generation, created_at, updated_at) VALUES (?, ?, 'operators', '', 1, ?, ?)`,
	"groupUser":  `INSERT INTO user_group_members (group_id, user_id, created_at) VALUES (?, ?, ?)`,
	"scopeGroup": `INSERT INTO scope_groups (id, workspace_id, name, description, generation, created_at, updated_at) VALUES (?, ?, 'lab', '', 1, ?, ?)`,
	"scope":      `INSERT INTO scope_group_scopes (id, group_id, grn, description, created_at) VALUES (?, ?, ?, 'lab', ?)`,
	"assign": `INSERT INTO role_assignments (id, workspace_id, subject, role_id, source, scope_key, generation, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'LOCAL', ?, 1, ?, ?)`,
	"assignScope": `INSERT INTO assignment_scopes (assignment_id, scope) VALUES (?, ?)`,
}

// loadBatch inserts workspaces first..last-1 in one transaction and returns how many
// assignments it wrote.
func loadBatch(ctx context.Context, db *sql.DB, d *sqlstore.Dialect, shape Shape, first, last int, now time.Time) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	x := &executor{ctx: ctx, stmts: map[string]*sql.Stmt{}}
	for name, q := range statements {
		st, err := tx.PrepareContext(ctx, d.Rebind(q))
		if err != nil {
			return 0, fmt.Errorf("prepare %s: %w", name, err)
		}
		defer st.Close()
		x.stmts[name] = st
	}
	ts := now.UTC().Format("2006-01-02T15:04:05.000000Z")
	n := 0
	for w := first; w < last; w++ {
		n += writeWorkspace(x, shape, w, ts)
	}
	if x.err != nil {
		return 0, x.err
	}
	return n, tx.Commit()
}

var predefinedRoles = []string{
	rbac.PredefinedRoleID(rbac.RoleWorkspaceObserver),
	rbac.PredefinedRoleID(rbac.RoleWorkspaceOperator),
	rbac.PredefinedRoleID(rbac.RoleWorkspaceAdmin),
}

// writeWorkspace writes one workspace: its users (members), custom role, user group, scope
// group and 2*Subjects assignments. Subject k holds a predefined role on the whole workspace
// and the custom role on servers/k (servers/* for every fifth); the custom-role assignments
// of the last two subjects go to the user group (on servers/GroupServer) and to a scope
// group (ScopeServers and nics/*) instead.
func writeWorkspace(x *executor, s Shape, w int, ts string) int {
	ws, role, group, sg := ID(KindWorkspace, w, 0), ID(KindRole, w, 0), ID(KindGroup, w, 0), ID(KindScopeGroup, w, 0)
	x.exec("workspace", ws, fmt.Sprintf("ws-%d", w), ts, ts)
	x.exec("role", role, ws, ts, ts)
	x.exec("rolePerm", role, PermView)
	x.exec("rolePerm", role, PermPower)
	x.exec("rolePerm", role, PermLegacy)
	x.exec("group", group, ws, ts, ts)
	x.exec("scopeGroup", sg, ws, ts, ts)
	for i, srv := range ScopeServers {
		x.exec("scope", ID(KindScope, w, i), sg, ResourceGRN(w, fmt.Sprintf("servers/%d", srv)), ts)
	}
	x.exec("scope", ID(KindScope, w, len(ScopeServers)), sg, ResourceGRN(w, "nics/*"), ts)
	for k := range s.Users {
		u := ID(KindUser, w, k)
		x.exec("user", u, fmt.Sprintf("u%d-%d@bench.test", w, k), ts, ts)
		x.exec("member", ws, u, ts)
		if k < GroupMembers {
			x.exec("groupUser", group, u, ts)
		}
	}
	assign := func(n int, subject, role, scope string) {
		id := ID(KindAssignment, w, n)
		x.exec("assign", id, ws, subject, role, scope, ts, ts)
		x.exec("assignScope", id, scope)
	}
	for k := range s.Subjects {
		assign(2*k, s.Subject(w, k), predefinedRoles[k%len(predefinedRoles)], WorkspaceGRN(w))
		switch {
		case k == s.Subjects-2:
			assign(2*k+1, "user-group:"+group, role, ResourceGRN(w, fmt.Sprintf("servers/%d", GroupServer)))
		case k == s.Subjects-1:
			assign(2*k+1, s.Subject(w, k), role, rbac.ScopeGroupGRN(ws, sg))
		case k%5 == 4:
			assign(2*k+1, s.Subject(w, k), role, ResourceGRN(w, "servers/*"))
		default:
			assign(2*k+1, s.Subject(w, k), role, ResourceGRN(w, fmt.Sprintf("servers/%d", k)))
		}
	}
	return 2 * s.Subjects
}
