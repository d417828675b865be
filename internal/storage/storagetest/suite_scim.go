package storagetest

import (
	"context"
	"testing"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// testSCIMGroups checks the SCIM fields of user groups (external id, source) and filtered
// group queries, whose predicates use the alias g.
func testSCIMGroups(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	other := newWorkspace(t, s, storage.WorkspaceStandard, "")
	mk := func(w, name, ext, src string) *storage.UserGroup {
		g := &storage.UserGroup{ID: ids.New(), WorkspaceID: w, Name: name, ExternalID: ext, Source: src,
			Generation: 1, CreatedAt: now, UpdatedAt: now}
		mustNil(t, s.CreateUserGroup(ctx, g))
		return g
	}
	a := mk(ws.ID, "Alpha", "ext-a", storage.SourceSCIM)
	mk(ws.ID, "Beta", "", "")
	mk(other.ID, "Alpha", "ext-a", storage.SourceSCIM)
	if got, _ := s.GetUserGroup(ctx, a.ID); got.ExternalID != "ext-a" || got.Source != storage.SourceSCIM {
		t.Fatalf("group = %+v", got)
	}
	list, total, err := s.QueryUserGroups(ctx, storage.UserGroupQuery{WorkspaceID: ws.ID})
	mustNil(t, err)
	if total != 2 || list[0].Name != "Alpha" || list[1].Source != storage.SourceLocal {
		t.Fatalf("QueryUserGroups = %+v", list)
	}
	list, total, err = s.QueryUserGroups(ctx, storage.UserGroupQuery{WorkspaceID: ws.ID,
		Filter: storage.Predicate{SQL: "g.external_id = ?", Args: []any{"ext-a"}}, Page: storage.Page{Limit: 10}})
	mustNil(t, err)
	if total != 1 || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("QueryUserGroups by external id = %+v of %d", list, total)
	}
	a.Name, a.ExternalID = "Alpha2", "ext-b"
	mustNil(t, s.UpdateUserGroup(ctx, a))
	if got, _ := s.GetUserGroup(ctx, a.ID); got.ExternalID != "ext-b" || got.Name != "Alpha2" || got.Generation != 2 {
		t.Fatalf("group after update = %+v", got)
	}
}
