package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// UpdateWorkspace replaces a workspace's name and tenant details.
func (s *Store) UpdateWorkspace(ctx context.Context, id, name string, d storage.TenantDetails, at time.Time) (*storage.Workspace, error) {
	var out *storage.Workspace
	err := s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `UPDATE workspaces SET name = ?, description = ?, email = ?, phone_number = ?,
			inventory_ownership = ?, address = ?, generation = generation + 1, updated_at = ? WHERE id = ?`,
			name, d.Description, d.Email, d.PhoneNumber, d.InventoryOwnership, d.Address, at, id)); err != nil {
			return err
		}
		w, err := s.GetWorkspace(ctx, id)
		out = w
		if err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindWorkspace, id)
	})
	return out, err
}

// GetTenantDetails reads a workspace's contact details.
func (s *Store) GetTenantDetails(ctx context.Context, id string) (*storage.TenantDetails, error) {
	var d storage.TenantDetails
	err := s.queryRow(ctx, `SELECT description, email, phone_number, inventory_ownership, address FROM workspaces WHERE id = ?`, id).
		Scan(&d.Description, &d.Email, &d.PhoneNumber, &d.InventoryOwnership, &d.Address)
	if err != nil {
		return nil, s.translate(err)
	}
	return &d, nil
}

// dependents lists, per change kind, the keys of every record that deleting workspace id
// removes by cascade; the log must name each of them so that views on every node drop them.
// Every placeholder of a query stands for the workspace id.
var dependents = []struct{ kind, query string }{
	{storage.KindCredential, `SELECT id FROM credentials WHERE workspace_id = ? OR tenant_id = ?`},
	{storage.KindMember, `SELECT workspace_id || '/' || user_id FROM workspace_members WHERE workspace_id = ?`},
	{storage.KindAssignment, `SELECT id FROM role_assignments WHERE workspace_id = ?`},
	{storage.KindRole, `SELECT id FROM roles WHERE workspace_id = ?`},
	{storage.KindTenantGroupMember, `SELECT m.id FROM tenant_group_members m JOIN tenant_groups g ON g.id = m.group_id
		WHERE m.workspace_id = ? OR g.msp_id = ?`},
	{storage.KindTenantGroup, `SELECT id FROM tenant_groups WHERE msp_id = ?`},
	{storage.KindProvision, `SELECT id FROM provisions WHERE workspace_id = ?`},
	{storage.KindUserGroupMember, `SELECT m.group_id || '/' || m.user_id FROM user_group_members m
		JOIN user_groups g ON g.id = m.group_id WHERE g.workspace_id = ?`},
	{storage.KindUserGroup, `SELECT id FROM user_groups WHERE workspace_id = ?`},
	{storage.KindScopeGroup, `SELECT id FROM scope_groups WHERE workspace_id = ?`},
}

// DeleteWorkspace removes a workspace, its tenants, and everything in them.
func (s *Store) DeleteWorkspace(ctx context.Context, id string) error {
	return s.write(ctx, func(s *Store) error {
		children, err := s.column(ctx, `SELECT id FROM workspaces WHERE parent_id = ?`, id)
		if err != nil {
			return err
		}
		for _, c := range children {
			if err := s.DeleteWorkspace(ctx, c); err != nil {
				return err
			}
		}
		for _, d := range dependents {
			args := make([]any, strings.Count(d.query, "?"))
			for i := range args {
				args[i] = id
			}
			keys, err := s.column(ctx, d.query, args...)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := s.logChange(ctx, d.kind, k); err != nil {
					return err
				}
			}
		}
		if err := mustAffect(s.exec(ctx, `DELETE FROM workspaces WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindWorkspace, id)
	})
}

// column reads a single text column.
func (s *Store) column(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.query(ctx, query, args...)
	return collect(rows, err, func(r *sql.Rows) (string, error) {
		var v string
		err := r.Scan(&v)
		return v, err
	})
}

// page runs a SELECT of cols FROM from (with where and args) ordered by order, returning one
// page and the total number of matching rows.
func page[T any](s *Store, ctx context.Context, cols, from string, where []string, args []any, order string,
	p storage.Page, scan func(*sql.Rows) (T, error)) ([]T, int, error) {
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM `+from+w, args...).Scan(&total); err != nil {
		return nil, 0, s.translate(err)
	}
	q := `SELECT ` + cols + ` FROM ` + from + w + ` ORDER BY ` + order
	if p.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(append([]any{}, args...), p.Limit, p.Offset)
	}
	rows, err := s.query(ctx, q, args...)
	items, err := collect(rows, err, scan)
	return items, total, err
}

// ListTenants returns a page of an MSP's tenants.
func (s *Store) ListTenants(ctx context.Context, q storage.TenantQuery) ([]storage.Workspace, int, error) {
	where, args := []string{"parent_id = ?"}, []any{q.ParentID}
	if q.Filter.SQL != "" {
		where, args = append(where, "("+q.Filter.SQL+")"), append(args, q.Filter.Args...)
	}
	return page(s, ctx, workspaceCols, "workspaces", where, args, "created_at, id", q.Page,
		func(r *sql.Rows) (storage.Workspace, error) { return scanWorkspace(r) })
}

const groupCols = `id, msp_id, name, description, generation, created_at, updated_at`

func scanGroup(r interface{ Scan(...any) error }) (storage.TenantGroup, error) {
	var g storage.TenantGroup
	err := r.Scan(&g.ID, &g.MSPID, &g.Name, &g.Description, &g.Generation, timeField{&g.CreatedAt}, timeField{&g.UpdatedAt})
	return g, err
}

// CreateTenantGroup inserts a tenant group; ErrConflict when the name is taken in the MSP.
func (s *Store) CreateTenantGroup(ctx context.Context, g *storage.TenantGroup) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO tenant_groups (`+groupCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.MSPID, g.Name, g.Description, g.Generation, g.CreatedAt, g.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindTenantGroup, g.ID)
	})
}

// GetTenantGroup reads one tenant group.
func (s *Store) GetTenantGroup(ctx context.Context, id string) (*storage.TenantGroup, error) {
	g, err := scanGroup(s.queryRow(ctx, `SELECT `+groupCols+` FROM tenant_groups WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	return &g, nil
}

// ListTenantGroups returns a page of an MSP's tenant groups.
func (s *Store) ListTenantGroups(ctx context.Context, mspID string, p storage.Page) ([]storage.TenantGroup, int, error) {
	return page(s, ctx, groupCols, "tenant_groups", []string{"msp_id = ?"}, []any{mspID}, "created_at, id", p,
		func(r *sql.Rows) (storage.TenantGroup, error) { return scanGroup(r) })
}

// UpdateTenantGroup replaces a group's name and description and increments its generation.
func (s *Store) UpdateTenantGroup(ctx context.Context, g *storage.TenantGroup) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `UPDATE tenant_groups SET name = ?, description = ?, generation = generation + 1,
			updated_at = ? WHERE id = ?`, g.Name, g.Description, g.UpdatedAt, g.ID)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindTenantGroup, g.ID)
	})
}

// DeleteTenantGroup removes a group and its memberships.
func (s *Store) DeleteTenantGroup(ctx context.Context, id string) error {
	return s.write(ctx, func(s *Store) error {
		members, err := s.column(ctx, `SELECT id FROM tenant_group_members WHERE group_id = ?`, id)
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := s.logChange(ctx, storage.KindTenantGroupMember, m); err != nil {
				return err
			}
		}
		if err := mustAffect(s.exec(ctx, `DELETE FROM tenant_groups WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindTenantGroup, id)
	})
}

const memberCols = `id, group_id, workspace_id, generation, created_at, updated_at`

func scanMember(r interface{ Scan(...any) error }) (storage.GroupMember, error) {
	var m storage.GroupMember
	err := r.Scan(&m.ID, &m.GroupID, &m.WorkspaceID, &m.Generation, timeField{&m.CreatedAt}, timeField{&m.UpdatedAt})
	return m, err
}

// AddGroupMember puts a tenant in a group.
func (s *Store) AddGroupMember(ctx context.Context, m *storage.GroupMember) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO tenant_group_members (`+memberCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			m.ID, m.GroupID, m.WorkspaceID, m.Generation, m.CreatedAt, m.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindTenantGroupMember, m.ID)
	})
}

// GetGroupMember reads one membership.
func (s *Store) GetGroupMember(ctx context.Context, id string) (*storage.GroupMember, error) {
	m, err := scanMember(s.queryRow(ctx, `SELECT `+memberCols+` FROM tenant_group_members WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	return &m, nil
}

// ListGroupMembers returns a page of a group's memberships.
func (s *Store) ListGroupMembers(ctx context.Context, groupID string, p storage.Page) ([]storage.GroupMember, int, error) {
	return page(s, ctx, memberCols, "tenant_group_members", []string{"group_id = ?"}, []any{groupID}, "created_at, id", p,
		func(r *sql.Rows) (storage.GroupMember, error) { return scanMember(r) })
}

// ListAllGroupMembers returns every membership.
func (s *Store) ListAllGroupMembers(ctx context.Context) ([]storage.GroupMember, error) {
	ms, _, err := page(s, ctx, memberCols, "tenant_group_members", nil, nil, "id", storage.Page{},
		func(r *sql.Rows) (storage.GroupMember, error) { return scanMember(r) })
	return ms, err
}

// RemoveGroupMember takes a tenant out of a group.
func (s *Store) RemoveGroupMember(ctx context.Context, id string) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `DELETE FROM tenant_group_members WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindTenantGroupMember, id)
	})
}

const provisionCols = `id, workspace_id, service_manager_id, region, status, created_by, generation, created_at, updated_at`

func scanProvision(r interface{ Scan(...any) error }) (storage.Provision, error) {
	var p storage.Provision
	err := r.Scan(&p.ID, &p.WorkspaceID, &p.ServiceManagerID, &p.Region, &p.Status, &p.CreatedBy, &p.Generation,
		timeField{&p.CreatedAt}, timeField{&p.UpdatedAt})
	return p, err
}

// CreateProvision inserts a provision; ErrConflict when that service manager is already
// provisioned in that region of the workspace.
func (s *Store) CreateProvision(ctx context.Context, p *storage.Provision) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO provisions (`+provisionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.WorkspaceID, p.ServiceManagerID, p.Region, p.Status, p.CreatedBy, p.Generation, p.CreatedAt, p.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindProvision, p.ID)
	})
}

// GetProvision reads one provision.
func (s *Store) GetProvision(ctx context.Context, id string) (*storage.Provision, error) {
	p, err := scanProvision(s.queryRow(ctx, `SELECT `+provisionCols+` FROM provisions WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	return &p, nil
}

// ListProvisions returns a page of a workspace's provisions.
func (s *Store) ListProvisions(ctx context.Context, q storage.ProvisionQuery) ([]storage.Provision, int, error) {
	where, args := []string{"workspace_id = ?"}, []any{q.WorkspaceID}
	if q.Filter.SQL != "" {
		where, args = append(where, "("+q.Filter.SQL+")"), append(args, q.Filter.Args...)
	}
	return page(s, ctx, provisionCols, "provisions", where, args, "created_at, id", q.Page,
		func(r *sql.Rows) (storage.Provision, error) { return scanProvision(r) })
}

// DeleteProvision removes a provision. Credentials naming it keep the reference (GreenLake
// keeps them too); their tokens go on naming the provision.
func (s *Store) DeleteProvision(ctx context.Context, id string) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `DELETE FROM provisions WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindProvision, id)
	})
}
