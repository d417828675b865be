package workspace

import (
	"context"
	"errors"
	"sync"

	"github.com/keyhold/keyhold/internal/storage"
)

type membership struct{ group, workspace string }

// TenantGroups is the in-memory view of tenant group memberships, fed by the change log. The
// decision engine asks it whether a tenant group reaches a tenant.
type TenantGroups struct {
	mu      sync.RWMutex
	byID    map[string]membership
	members map[string]map[string]struct{} // group -> tenants
	groups  map[string]map[string]struct{} // tenant -> groups (for subject search)
}

// NewTenantGroups returns an empty view; the change feed loads it.
func NewTenantGroups() *TenantGroups {
	return &TenantGroups{byID: map[string]membership{}, members: map[string]map[string]struct{}{},
		groups: map[string]map[string]struct{}{}}
}

// GroupsOf lists the tenant groups that hold tenant (rbac.TenantGroupLister).
func (v *TenantGroups) GroupsOf(tenant string) []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]string, 0, len(v.groups[tenant]))
	for g := range v.groups[tenant] {
		out = append(out, g)
	}
	return out
}

// Contains reports whether tenant is in group.
func (v *TenantGroups) Contains(group, tenant string) bool {
	v.mu.RLock()
	_, ok := v.members[group][tenant]
	v.mu.RUnlock()
	return ok
}

// Kinds implements changefeed.Handler.
func (v *TenantGroups) Kinds() []string { return []string{storage.KindTenantGroupMember} }

// Load implements changefeed.Handler.
func (v *TenantGroups) Load(ctx context.Context, s storage.Store) error {
	all, err := s.ListAllGroupMembers(ctx)
	if err != nil {
		return err
	}
	fresh := NewTenantGroups()
	for _, m := range all {
		fresh.put(m)
	}
	v.mu.Lock()
	v.byID, v.members, v.groups = fresh.byID, fresh.members, fresh.groups
	v.mu.Unlock()
	return nil
}

// Apply implements changefeed.Handler.
func (v *TenantGroups) Apply(ctx context.Context, s storage.Store, c storage.Change) error {
	m, err := s.GetGroupMember(ctx, c.Key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.remove(c.Key)
	if err == nil {
		v.put(*m)
	}
	return nil
}

func (v *TenantGroups) put(m storage.GroupMember) {
	v.byID[m.ID] = membership{m.GroupID, m.WorkspaceID}
	set := v.members[m.GroupID]
	if set == nil {
		set = map[string]struct{}{}
		v.members[m.GroupID] = set
	}
	set[m.WorkspaceID] = struct{}{}
	of := v.groups[m.WorkspaceID]
	if of == nil {
		of = map[string]struct{}{}
		v.groups[m.WorkspaceID] = of
	}
	of[m.GroupID] = struct{}{}
}

func (v *TenantGroups) remove(id string) {
	m, ok := v.byID[id]
	if !ok {
		return
	}
	delete(v.byID, id)
	delete(v.members[m.group], m.workspace)
	if len(v.members[m.group]) == 0 {
		delete(v.members, m.group)
	}
	delete(v.groups[m.workspace], m.group)
	if len(v.groups[m.workspace]) == 0 {
		delete(v.groups, m.workspace)
	}
}

// Count is how many tenants a group holds.
func (v *TenantGroups) Count(group string) int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.members[group])
}
