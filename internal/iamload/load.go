package iamload

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

// Shape sizes the data set. Every workspace holds the same things, so that requests can be
// generated from indexes alone (see ID, Subject and the GRN helpers).
type Shape struct {
	Workspaces int
	// Subjects per workspace, each with two assignments; the first Users of them are users,
	// the others API clients.
	Subjects int
	Users    int
	// WorkspacesPerTx bounds one transaction of the bulk insert.
	WorkspacesPerTx int
}

// Default is the benchmark data set: 10,000 workspaces of 100 assignments each (1,000,000).
var Default = Shape{Workspaces: 10_000, Subjects: 50, Users: 35, WorkspacesPerTx: 500}

// WorkspacesEnv names the environment variable with which the in-process benchmarks over the
// data set ask for another number of workspaces than Default's.
const WorkspacesEnv = "KEYHOLD_BENCH_WORKSPACES"

// ShapeFromEnv is Default with the number of workspaces WorkspacesEnv gives, when it is set;
// a value that is not a whole number above 0 is an error naming it.
func ShapeFromEnv() (Shape, error) {
	s := Default
	if v := os.Getenv(WorkspacesEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s, fmt.Errorf("%s=%q: want a whole number above 0", WorkspacesEnv, v)
		}
		s.Workspaces = n
	}
	return s, nil
}

// Kinds of generated ids (the second group of ID's hex digits).
const (
	KindWorkspace  = 0
	KindUser       = 1
	KindClient     = 2
	KindRole       = 3
	KindAssignment = 4
	KindGroup      = 5
	KindScopeGroup = 6
	KindScope      = 7
)

// Group members and scope-group scopes of every workspace: users 0..GroupMembers-1 belong to
// its user group, which is assigned the custom role on servers/GroupServer; the scope group
// holds servers/ScopeServers... and every nic.
const (
	GroupMembers = 10
	GroupServer  = 200
)

// ScopeServers are the servers in every workspace's scope group (besides nics/*).
var ScopeServers = []int{100, 101}

// ID is the deterministic UUID of generated record n of kind in workspace ws.
func ID(kind, ws, n int) string {
	return fmt.Sprintf("%08x-%04x-4000-8000-%012x", ws, kind, n)
}

// WorkspaceHex is the 32-hex form of workspace ws's id, as GRNs carry it.
func WorkspaceHex(ws int) string {
	return fmt.Sprintf("%08x%04x40008000%012x", ws, KindWorkspace, 0)
}

// WorkspaceGRN and ResourceGRN name workspace ws and a resource of provider svc in it.
func WorkspaceGRN(ws int) string { return "grn:glp/workspaces/" + WorkspaceHex(ws) }
func ResourceGRN(ws int, path string) string {
	return WorkspaceGRN(ws) + "/regions/default/providers/" + Provider + "/" + path
}

// Subject is the principal of subject k of workspace ws.
func (s Shape) Subject(ws, k int) string {
	if k < s.Users {
		return "user:" + ID(KindUser, ws, k)
	}
	return "api-client:" + ID(KindClient, ws, k)
}

// Stats reports what Load wrote and how long it took.
type Stats struct {
	Workspaces, Assignments, Users int
	Elapsed                        time.Duration
}

// Load writes the provider and then the data set, WorkspacesPerTx workspaces per
// transaction, through prepared statements. It writes no change log entries: nodes build
// their views from the store when they start (Feed.Load), so load before starting them.
// The store must be migrated and hold keyhold's built-ins (rbac.EnsureBuiltins).
func Load(ctx context.Context, st *sqlstore.Store, d *sqlstore.Dialect, shape Shape, now time.Time) (Stats, error) {
	start := time.Now()
	if err := ensureProvider(ctx, st, now); err != nil {
		return Stats{}, err
	}
	var stats Stats
	for first := 0; first < shape.Workspaces; first += shape.WorkspacesPerTx {
		last := min(first+shape.WorkspacesPerTx, shape.Workspaces)
		n, err := loadBatch(ctx, st.DB(), d, shape, first, last, now)
		if err != nil {
			return stats, fmt.Errorf("workspaces %d..%d: %w", first, last-1, err)
		}
		stats.Assignments += n
		stats.Workspaces = last
	}
	stats.Users = shape.Workspaces * shape.Users
	stats.Elapsed = time.Since(start)
	return stats, nil
}

// ensureProvider registers svc with its resource types and permissions through the store.
func ensureProvider(ctx context.Context, st storage.Store, now time.Time) error {
	if _, err := st.GetProvider(ctx, Provider); err == nil {
		return nil
	}
	if err := st.CreateProvider(ctx, &storage.ResourceProvider{ID: Provider, Name: "Benchmark service", Generation: 1,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		return err
	}
	for _, ty := range []string{"servers", "nics"} {
		if err := st.CreateResourceType(ctx, &storage.ResourceType{Provider: Provider, Name: ty, DisplayName: ty,
			Generation: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
	}
	for _, p := range Permissions(now) {
		if err := st.CreatePermission(ctx, &p); err != nil {
			return err
		}
	}
	return nil
}

// Provider and the permissions of the data set.
const (
	Provider   = "svc"
	PermView   = "svc.servers.view"  // servers and nics
	PermPower  = "svc.servers.power" // servers, fixed scope
	PermLegacy = "svc.servers.legacy"
)

// Permissions returns the data set's permissions.
func Permissions(now time.Time) []storage.Permission {
	p := func(name string, fixed bool, stage string, types ...string) storage.Permission {
		return storage.Permission{Name: name, Provider: Provider, Description: name, ReleaseStage: stage, CustomRoleUse: "ALLOW",
			ResourceTypes: types, FixedScope: fixed, Generation: 1, CreatedAt: now, UpdatedAt: now}
	}
	return []storage.Permission{
		p(PermView, false, "STABLE", "svc/nics", "svc/servers"),
		p(PermPower, true, "STABLE", "svc/servers"),
		p(PermLegacy, false, "DEPRECATED", "svc/servers"),
	}
}

// executor runs prepared statements of one transaction by name.
type executor struct {
	ctx   context.Context
	stmts map[string]*sql.Stmt
	err   error
}

func (x *executor) exec(name string, args ...any) {
	if x.err != nil {
		return
	}
	_, x.err = x.stmts[name].ExecContext(x.ctx, args...)
}
