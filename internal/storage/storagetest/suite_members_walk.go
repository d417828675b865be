package storagetest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/keyhold/keyhold/internal/storage"
)

// testMemberWalk checks EachMember: every membership once, with the stored user, in user id
// then workspace id order; a user of no workspace is not walked; fn's error ends the walk.
func testMemberWalk(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws1 := newWorkspace(t, s, storage.WorkspaceStandard, "")
	ws2 := newWorkspace(t, s, storage.WorkspaceStandard, "")
	a, b := newUser(t, s, ws1.ID), newUser(t, s, ws2.ID)
	mustNil(t, s.AddMember(ctx, ws2.ID, a.ID, now))
	newUser(t, s, "") // a member of nothing
	type row struct{ ws, user, email string }
	var got []row
	mustNil(t, s.EachMember(ctx, func(ws string, u *storage.User) error {
		got = append(got, row{ws, u.ID, u.Email})
		return nil
	}))
	want := []row{{ws1.ID, a.ID, a.Email}, {ws2.ID, a.ID, a.Email}, {ws2.ID, b.ID, b.Email}}
	slices.SortFunc(want, func(x, y row) int {
		if x.user != y.user {
			return cmp.Compare(x.user, y.user)
		}
		return cmp.Compare(x.ws, y.ws)
	})
	if !slices.Equal(got, want) {
		t.Fatalf("EachMember walked %v, want %v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	err := s.EachMember(ctx, func(string, *storage.User) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("EachMember after fn's error: %v after %d calls", err, n)
	}
}
