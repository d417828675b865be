package storagetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

func testAuthorization(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	p := &storage.Permission{Name: "svc.thing.view", Provider: "svc", Description: "d", ReleaseStage: "STABLE",
		CustomRoleUse: "ALLOW", ResourceTypes: []string{"svc/thing", "svc/other"}, Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.UpsertPermission(ctx, p))
	p2 := *p
	p2.ReleaseStage, p2.ResourceTypes, p2.FixedScope = "DEPRECATED", []string{"svc/thing"}, true
	mustNil(t, s.UpsertPermission(ctx, &p2))
	got, err := s.GetPermission(ctx, p.Name)
	mustNil(t, err)
	if got.ReleaseStage != "DEPRECATED" || !got.FixedScope || got.Generation != 2 || !slices.Equal(got.ResourceTypes, []string{"svc/thing"}) {
		t.Fatalf("permission after upsert = %+v", got)
	}
	role := &storage.Role{ID: ids.New(), WorkspaceID: ws.ID, Slug: "viewer", Name: "Viewer", Kind: "CUSTOM",
		ReleaseStage: "STABLE", Permissions: []string{p.Name}, Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.UpsertRole(ctx, role))
	r, err := s.GetRole(ctx, role.ID)
	mustNil(t, err)
	if r.WorkspaceID != ws.ID || !slices.Equal(r.Permissions, []string{p.Name}) {
		t.Fatalf("role = %+v", r)
	}
	bad := *role
	bad.ID, bad.Permissions = ids.New(), []string{"no.such.permission"}
	if err := s.UpsertRole(ctx, &bad); err == nil {
		t.Fatal("a role with an unknown permission was stored")
	}
	a := &storage.Assignment{ID: ids.New(), WorkspaceID: ws.ID, Subject: "user:u1", RoleID: role.ID,
		Scopes: []string{"grn:glp/workspaces/b", "grn:glp/workspaces/a"}, Source: "LOCAL", Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateAssignment(ctx, a))
	dup := *a
	dup.ID, dup.Scopes = ids.New(), []string{"grn:glp/workspaces/a", "grn:glp/workspaces/b"}
	mustIs(t, s.CreateAssignment(ctx, &dup), storage.ErrConflict)
	ga, err := s.GetAssignment(ctx, a.ID)
	mustNil(t, err)
	if !slices.Equal(ga.Scopes, []string{"grn:glp/workspaces/a", "grn:glp/workspaces/b"}) || ga.Subject != "user:u1" {
		t.Fatalf("assignment = %+v", ga)
	}
	list, err := s.ListAssignments(ctx, ws.ID)
	mustNil(t, err)
	if len(list) != 1 || len(list[0].Scopes) != 2 {
		t.Fatalf("ListAssignments = %+v", list)
	}
	testEachAssignment(t, s, a)
	mustNil(t, s.DeleteAssignment(ctx, a.ID))
	mustIs(t, s.DeleteAssignment(ctx, a.ID), storage.ErrNotFound)
	list, _ = s.ListAssignments(ctx, "")
	if len(list) != 0 {
		t.Fatalf("assignments after delete = %+v", list)
	}
}

// testEachAssignment streams the assignments (a and two more) and compares them with
// GetAssignment's, and checks that an error from the callback ends the walk.
func testEachAssignment(t *testing.T, s storage.Store, a *storage.Assignment) {
	ctx := context.Background()
	more := []*storage.Assignment{}
	for _, scopes := range [][]string{{"grn:glp/workspaces/c"}, {"grn:glp/workspaces/e", "grn:glp/workspaces/d", "grn:glp/workspaces/f"}} {
		b := *a
		b.ID, b.Subject, b.Scopes = ids.New(), "user:"+ids.New(), scopes
		mustNil(t, s.CreateAssignment(ctx, &b))
		more = append(more, &b)
	}
	var seen []*storage.Assignment
	mustNil(t, s.EachAssignment(ctx, func(got *storage.Assignment) error {
		seen = append(seen, got)
		return nil
	}))
	if len(seen) != 3 || !slices.IsSortedFunc(seen, func(x, y *storage.Assignment) int { return strings.Compare(x.ID, y.ID) }) {
		t.Fatalf("EachAssignment walked %d assignments, want 3 in id order", len(seen))
	}
	for _, got := range seen {
		want, err := s.GetAssignment(ctx, got.ID)
		mustNil(t, err)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("EachAssignment gave %+v, GetAssignment %+v", got, want)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.EachAssignment(ctx, func(*storage.Assignment) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("EachAssignment after an error from fn: %v after %d calls", err, calls)
	}
	for _, b := range more {
		mustNil(t, s.DeleteAssignment(ctx, b.ID))
	}
}

func testRevocations(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustNil(t, s.RevokeToken(ctx, storage.RevokedToken{JTI: "a", ExpiresAt: now.Add(time.Minute)}))
	mustNil(t, s.RevokeToken(ctx, storage.RevokedToken{JTI: "a", ExpiresAt: now.Add(time.Minute)}))
	mustNil(t, s.RevokeToken(ctx, storage.RevokedToken{JTI: "b", ExpiresAt: now.Add(-time.Minute)}))
	live, err := s.ListRevokedTokens(ctx, now)
	mustNil(t, err)
	if len(live) != 1 || live[0].JTI != "a" {
		t.Fatalf("ListRevokedTokens = %+v", live)
	}
	mustNil(t, s.DeleteExpiredRevocations(ctx, now))
	_, err = s.GetRevokedToken(ctx, "b")
	mustIs(t, err, storage.ErrNotFound)
}

func testChangeLog(t *testing.T, s storage.Store) {
	ctx := context.Background()
	start, err := s.LatestSeq(ctx)
	mustNil(t, err)
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	u := newUser(t, s, ws.ID)
	c := newCredential(ws.ID, u.ID, "x")
	mustNil(t, s.CreateCredential(ctx, c, 0))
	_, err = s.ResetCredential(ctx, c.ID, []byte("y"), now)
	mustNil(t, err)
	mustNil(t, s.DeleteCredential(ctx, c.ID))
	changes, err := s.ChangesSince(ctx, start, 100)
	mustNil(t, err)
	want := []storage.Change{
		{Kind: storage.KindWorkspace, Key: ws.ID}, {Kind: storage.KindUser, Key: u.ID},
		{Kind: storage.KindMember, Key: ws.ID + "/" + u.ID}, {Kind: storage.KindCredential, Key: c.ID},
		{Kind: storage.KindCredential, Key: c.ID}, {Kind: storage.KindCredential, Key: c.ID},
	}
	if len(changes) != len(want) {
		t.Fatalf("changes = %+v", changes)
	}
	for i, ch := range changes {
		if ch.Kind != want[i].Kind || ch.Key != want[i].Key || (i > 0 && ch.Seq <= changes[i-1].Seq) {
			t.Fatalf("change %d = %+v, want %+v (increasing seq)", i, ch, want[i])
		}
	}
	last, err := s.LatestSeq(ctx)
	mustNil(t, err)
	if last != changes[len(changes)-1].Seq {
		t.Fatalf("LatestSeq = %d, want %d", last, changes[len(changes)-1].Seq)
	}
	page, _ := s.ChangesSince(ctx, changes[1].Seq, 2)
	if len(page) != 2 || page[0].Seq != changes[2].Seq {
		t.Fatalf("paged changes = %+v", page)
	}
}

func testTransactions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	before, _ := s.LatestSeq(ctx)
	boom := errors.New("boom")
	ws := &storage.Workspace{ID: ids.New(), Name: "tx", Type: storage.WorkspaceStandard, Generation: 1, CreatedAt: now, UpdatedAt: now}
	err := s.WithTx(ctx, func(tx storage.Store) error {
		mustNil(t, tx.CreateWorkspace(ctx, ws))
		return boom
	})
	mustIs(t, err, boom)
	_, err = s.GetWorkspace(ctx, ws.ID)
	mustIs(t, err, storage.ErrNotFound)
	if after, _ := s.LatestSeq(ctx); after != before {
		t.Fatalf("a rolled-back transaction left change log entries: %d -> %d", before, after)
	}
	mustNil(t, s.WithTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateWorkspace(ctx, ws); err != nil {
			return err
		}
		u := &storage.User{ID: ids.New(), Email: "tx@example.test", Generation: 1, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return tx.AddMember(ctx, ws.ID, u.ID, now)
	}))
	_, err = s.GetWorkspace(ctx, ws.ID)
	mustNil(t, err)
}

// testConcurrentCreates checks the per-owner limit holds under concurrent writers.
func testConcurrentCreates(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	u := newUser(t, s, ws.ID)
	const writers, limit = 12, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.CreateCredential(ctx, newCredential(ws.ID, u.ID, "c"+string(rune('a'+i))), limit)
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, storage.ErrLimit):
			t.Errorf("concurrent create: %v", err)
		}
	}
	list, err := s.ListCredentials(ctx, storage.CredentialQuery{OwnerID: u.ID})
	mustNil(t, err)
	if ok != limit || len(list) != limit {
		t.Fatalf("%d creates succeeded and %d stored, want %d", ok, len(list), limit)
	}
}
