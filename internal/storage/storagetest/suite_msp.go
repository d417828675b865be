package storagetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

func testTenants(t *testing.T, s storage.Store) {
	ctx := context.Background()
	msp := newWorkspace(t, s, storage.WorkspaceMSP, "")
	other := newWorkspace(t, s, storage.WorkspaceMSP, "")
	var tenants []*storage.Workspace
	for i := range 5 {
		w := &storage.Workspace{ID: ids.New(), Name: "tenant " + string(rune('a'+i)), Type: storage.WorkspaceTenant,
			ParentID: msp.ID, Generation: 1, CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
		mustNil(t, s.CreateWorkspace(ctx, w))
		tenants = append(tenants, w)
	}
	newWorkspace(t, s, storage.WorkspaceTenant, other.ID)
	page, total, err := s.ListTenants(ctx, storage.TenantQuery{ParentID: msp.ID, Page: storage.Page{Limit: 2, Offset: 1}})
	mustNil(t, err)
	if total != 5 || len(page) != 2 || page[0].ID != tenants[1].ID || page[1].ID != tenants[2].ID {
		t.Fatalf("ListTenants page = %d items of %d: %+v", len(page), total, page)
	}
	filtered, total, err := s.ListTenants(ctx, storage.TenantQuery{ParentID: msp.ID,
		Filter: storage.Predicate{SQL: "name = ?", Args: []any{"tenant c"}}})
	mustNil(t, err)
	if total != 1 || len(filtered) != 1 || filtered[0].ID != tenants[2].ID {
		t.Fatalf("filtered tenants = %+v (total %d)", filtered, total)
	}
	d := storage.TenantDetails{Description: "d", Email: "t@example.test", PhoneNumber: "+1", InventoryOwnership: "MSP_OWNED_INVENTORY", Address: `{"countryCode":"US"}`}
	w, err := s.UpdateWorkspace(ctx, tenants[0].ID, "renamed", d, now.Add(time.Hour))
	mustNil(t, err)
	if w.Name != "renamed" || w.Generation != 2 || !w.UpdatedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("UpdateWorkspace = %+v", w)
	}
	got, err := s.GetTenantDetails(ctx, tenants[0].ID)
	mustNil(t, err)
	if *got != d {
		t.Fatalf("GetTenantDetails = %+v", got)
	}
	_, err = s.UpdateWorkspace(ctx, ids.New(), "x", d, now)
	mustIs(t, err, storage.ErrNotFound)
}

func testTenantGroups(t *testing.T, s storage.Store) {
	ctx := context.Background()
	msp := newWorkspace(t, s, storage.WorkspaceMSP, "")
	t1 := newWorkspace(t, s, storage.WorkspaceTenant, msp.ID)
	g := &storage.TenantGroup{ID: ids.New(), MSPID: msp.ID, Name: "emea", Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateTenantGroup(ctx, g))
	dup := *g
	dup.ID = ids.New()
	mustIs(t, s.CreateTenantGroup(ctx, &dup), storage.ErrConflict)
	m := &storage.GroupMember{ID: ids.New(), GroupID: g.ID, WorkspaceID: t1.ID, Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.AddGroupMember(ctx, m))
	again := *m
	again.ID = ids.New()
	mustIs(t, s.AddGroupMember(ctx, &again), storage.ErrConflict)
	members, total, err := s.ListGroupMembers(ctx, g.ID, storage.Page{Limit: 10})
	mustNil(t, err)
	if total != 1 || len(members) != 1 || members[0].WorkspaceID != t1.ID {
		t.Fatalf("members = %+v", members)
	}
	g.Name, g.UpdatedAt = "europe", now.Add(time.Minute)
	mustNil(t, s.UpdateTenantGroup(ctx, g))
	got, err := s.GetTenantGroup(ctx, g.ID)
	mustNil(t, err)
	if got.Name != "europe" || got.Generation != 2 {
		t.Fatalf("group after update = %+v", got)
	}
	mustNil(t, s.RemoveGroupMember(ctx, m.ID))
	mustIs(t, s.RemoveGroupMember(ctx, m.ID), storage.ErrNotFound)
	mustNil(t, s.AddGroupMember(ctx, &again))
	before, _ := s.LatestSeq(ctx)
	mustNil(t, s.DeleteTenantGroup(ctx, g.ID))
	changes, _ := s.ChangesSince(ctx, before, 10)
	if len(changes) != 2 || changes[0].Key != again.ID || changes[1].Key != g.ID {
		t.Fatalf("deleting a group logged %+v, want its member then the group", changes)
	}
	_, err = s.GetGroupMember(ctx, again.ID)
	mustIs(t, err, storage.ErrNotFound)
}

func testProvisions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	p := &storage.Provision{ID: ids.New(), WorkspaceID: ws.ID, ServiceManagerID: ids.New(), Region: "us-west",
		Status: "PROVISIONED", CreatedBy: "a@example.test", Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateProvision(ctx, p))
	dup := *p
	dup.ID = ids.New()
	mustIs(t, s.CreateProvision(ctx, &dup), storage.ErrConflict)
	got, err := s.GetProvision(ctx, p.ID)
	mustNil(t, err)
	if *got != *p {
		t.Fatalf("GetProvision = %+v, want %+v", got, p)
	}
	list, total, err := s.ListProvisions(ctx, storage.ProvisionQuery{WorkspaceID: ws.ID,
		Filter: storage.Predicate{SQL: "region = ?", Args: []any{"us-west"}}})
	mustNil(t, err)
	if total != 1 || len(list) != 1 {
		t.Fatalf("ListProvisions = %+v", list)
	}
	// A credential keeps the provision reference as its client wrote it.
	u := newUser(t, s, ws.ID)
	ref := "/service-catalog/v1beta1/service-manager-provisions/" + p.ID
	cred := &storage.Credential{ID: ids.New(), WorkspaceID: ws.ID, ProvisionID: p.ID, ProvisionURI: ref, OwnerID: u.ID,
		Name: "provisioned", SecretHash: []byte{1}, Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateCredential(ctx, cred, 0))
	gotCred, err := s.GetCredential(ctx, cred.ID)
	mustNil(t, err)
	if gotCred.ProvisionID != p.ID || gotCred.ProvisionURI != ref {
		t.Fatalf("GetCredential = %+v, want provision %s given as %s", gotCred, p.ID, ref)
	}
	mustNil(t, s.DeleteCredential(ctx, cred.ID))
	mustNil(t, s.DeleteProvision(ctx, p.ID))
	mustIs(t, s.DeleteProvision(ctx, p.ID), storage.ErrNotFound)
}

// testWorkspaceDelete checks that deleting an MSP removes its tenants and everything in them,
// and that the change log names every record removed.
func testWorkspaceDelete(t *testing.T, s storage.Store) {
	ctx := context.Background()
	msp := newWorkspace(t, s, storage.WorkspaceMSP, "")
	tenant := newWorkspace(t, s, storage.WorkspaceTenant, msp.ID)
	keep := newWorkspace(t, s, storage.WorkspaceStandard, "")
	u := newUser(t, s, msp.ID)
	mustNil(t, s.AddMember(ctx, tenant.ID, u.ID, now))
	own := newCredential(msp.ID, u.ID, "own")
	forTenant := newCredential(msp.ID, u.ID, "tenant")
	forTenant.TenantID = tenant.ID
	inTenant := newCredential(tenant.ID, u.ID, "in")
	kept := newCredential(keep.ID, u.ID, "kept")
	for _, c := range []*storage.Credential{own, forTenant, inTenant, kept} {
		mustNil(t, s.CreateCredential(ctx, c, 0))
	}
	g := &storage.TenantGroup{ID: ids.New(), MSPID: msp.ID, Name: "g", Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateTenantGroup(ctx, g))
	m := &storage.GroupMember{ID: ids.New(), GroupID: g.ID, WorkspaceID: tenant.ID, Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.AddGroupMember(ctx, m))

	before, _ := s.LatestSeq(ctx)
	mustNil(t, s.DeleteWorkspace(ctx, tenant.ID))
	changes, _ := s.ChangesSince(ctx, before, 100)
	logged := map[string]bool{}
	for _, c := range changes {
		logged[c.Kind+" "+c.Key] = true
	}
	for _, want := range []string{storage.KindWorkspace + " " + tenant.ID, storage.KindCredential + " " + forTenant.ID,
		storage.KindCredential + " " + inTenant.ID, storage.KindTenantGroupMember + " " + m.ID,
		storage.KindMember + " " + tenant.ID + "/" + u.ID} {
		if !logged[want] {
			t.Errorf("deleting the tenant did not log %q; logged %v", want, logged)
		}
	}
	for _, gone := range []string{forTenant.ID, inTenant.ID} {
		_, err := s.GetCredential(ctx, gone)
		mustIs(t, err, storage.ErrNotFound)
	}
	mustNil(t, s.DeleteWorkspace(ctx, msp.ID))
	_, err := s.GetCredential(ctx, own.ID)
	mustIs(t, err, storage.ErrNotFound)
	_, err = s.GetTenantGroup(ctx, g.ID)
	mustIs(t, err, storage.ErrNotFound)
	if _, err := s.GetCredential(ctx, kept.ID); err != nil {
		t.Fatalf("a credential of another workspace was removed: %v", err)
	}
	all, _ := s.ListWorkspaces(ctx)
	if ids := workspaceIDs(all); !slices.Equal(ids, []string{keep.ID}) {
		t.Fatalf("workspaces left = %v, want only %s", ids, keep.ID)
	}
	mustIs(t, s.DeleteWorkspace(ctx, msp.ID), storage.ErrNotFound)
}

func workspaceIDs(ws []storage.Workspace) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.ID)
	}
	return out
}
