package identity_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func newStore(t *testing.T) storage.Store {
	t.Helper()
	s, err := sqlite.OpenFile(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func addWorkspace(t testing.TB, s storage.Store) string {
	t.Helper()
	w := &storage.Workspace{ID: ids.New(), Name: "w", Type: storage.WorkspaceStandard, CreatedBy: "t", Generation: 1,
		CreatedAt: t0, UpdatedAt: t0}
	must(t, s.CreateWorkspace(context.Background(), w))
	return w.ID
}

func addUser(t testing.TB, s storage.Store, email string, wss ...string) *storage.User {
	t.Helper()
	u := &storage.User{ID: ids.New(), Email: email, Generation: 1, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.CreateUser(context.Background(), u))
	for _, ws := range wss {
		must(t, s.AddMember(context.Background(), ws, u.ID, t0))
	}
	return u
}

// applyAll applies every change log entry after seq to d and returns the last sequence number.
func applyAll(t *testing.T, s storage.Store, d *identity.Directory, seq int64) int64 {
	t.Helper()
	changes, err := s.ChangesSince(context.Background(), seq, 1000)
	must(t, err)
	for _, c := range changes {
		for _, k := range d.Kinds() {
			if c.Kind == k {
				must(t, d.Apply(context.Background(), s, c))
			}
		}
		seq = c.Seq
	}
	return seq
}

// TestDirectoryFind checks that subjects resolve by id, email (any case) and membership, that a
// user outside the asked workspaces is not found, and that Load and Apply agree.
func TestDirectoryFind(t *testing.T) {
	s := newStore(t)
	ws, other := addWorkspace(t, s), addWorkspace(t, s)
	rick := addUser(t, s, "rick@the-citadel.com", ws)
	beth := addUser(t, s, "beth@the-smiths.com", other)

	loaded := identity.NewDirectory()
	must(t, loaded.Load(context.Background(), s))
	applied := identity.NewDirectory()
	applyAll(t, s, applied, 0)

	for name, d := range map[string]*identity.Directory{"loaded": loaded, "applied": applied} {
		cases := []struct {
			key  string
			in   []string
			want string
		}{
			{rick.ID, []string{ws}, rick.ID},
			{ids.Hex(rick.ID), []string{ws}, rick.ID},
			{"rick@the-citadel.com", []string{ws}, rick.ID},
			{"Rick@The-Citadel.com", []string{ws}, rick.ID},
			{"rick@the-citadel.com", []string{other}, ""},
			{"rick@the-citadel.com", []string{other, ws}, rick.ID},
			{"beth@the-smiths.com", []string{ws}, ""},
			{"nobody@example.com", []string{ws}, ""},
			{"", []string{ws}, ""},
		}
		for _, c := range cases {
			p, res := d.Find(c.key, c.in...)
			got := ""
			if res == identity.Found {
				got = p.ID
			}
			if got != c.want {
				t.Errorf("%s: Find(%q, %v) = %q (%d), want %q", name, c.key, c.in, got, res, c.want)
			}
		}
		if p, ok := d.Get(beth.ID); !ok || !p.MemberOf(other) || p.MemberOf(ws) || p.Properties()["email"] != "beth@the-smiths.com" {
			t.Errorf("%s: Get(beth) = %+v, %v", name, p, ok)
		}
	}
}

// TestDirectoryFollowsChanges checks that joining, leaving and deletion reach the view.
func TestDirectoryFollowsChanges(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	ws, other := addWorkspace(t, s), addWorkspace(t, s)
	d := identity.NewDirectory()
	must(t, d.Load(ctx, s))
	seq := applyAll(t, s, d, 0)

	u := addUser(t, s, "morty@the-citadel.com", ws)
	seq = applyAll(t, s, d, seq)
	if _, res := d.Find("morty@the-citadel.com", ws); res != identity.Found {
		t.Fatal("a new member is not found")
	}
	must(t, s.AddMember(ctx, other, u.ID, t0))
	must(t, s.RemoveMember(ctx, ws, u.ID))
	seq = applyAll(t, s, d, seq)
	if _, res := d.Find(u.ID, ws); res != identity.NotFound {
		t.Fatal("a user who left is still found in the workspace")
	}
	if p, res := d.Find(u.ID, other); res != identity.Found || len(p.Workspaces()) != 1 {
		t.Fatalf("after moving: %+v %d", p, res)
	}
	must(t, s.RemoveMember(ctx, other, u.ID))
	must(t, s.DeleteUser(ctx, u.ID))
	applyAll(t, s, d, seq)
	if _, ok := d.Get(u.ID); ok {
		t.Fatal("a deleted user is still held")
	}
	if _, res := d.Find("morty@the-citadel.com", other); res != identity.NotFound {
		t.Fatal("a deleted user's email still resolves")
	}
}

// TestDirectoryExternalIDs checks lookups by external id (unique only within what is asked),
// activity and the stored attributes as properties, which fixed properties override.
func TestDirectoryExternalIDs(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	ws, other := addWorkspace(t, s), addWorkspace(t, s)
	rick := addUser(t, s, "rick@the-citadel.com", ws)
	twin := addUser(t, s, "twin@example.com", other)
	for _, u := range []*storage.User{rick, twin} {
		u.ExternalID = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
		u.Attributes = `{"department":"science","roles":["admin","evil_genius"],"email":"spoofed@example.com"}`
		must(t, s.UpdateUser(ctx, u, 0))
	}
	d := identity.NewDirectory()
	applyAll(t, s, d, 0)
	p, res := d.Find(rick.ExternalID, ws)
	if res != identity.Found || p.ID != rick.ID {
		t.Fatalf("by external id: %+v %d", p, res)
	}
	if p.Properties()["department"] != "science" || p.Properties()["email"] != "rick@the-citadel.com" ||
		p.Properties()["externalId"] != rick.ExternalID || p.Properties()["active"] != true {
		t.Fatalf("properties: %v", p.Properties())
	}
	if _, res := d.Find(rick.ExternalID, ws, other); res != identity.Ambiguous {
		t.Fatalf("an external id of two members is %d, want Ambiguous", res)
	}
	rick.Inactive = true
	must(t, s.UpdateUser(ctx, rick, 0))
	loaded := identity.NewDirectory()
	must(t, loaded.Load(ctx, s))
	if p, res := loaded.Find("rick@the-citadel.com", ws); res != identity.Found || p.Active || len(p.Workspaces()) != 1 {
		t.Fatalf("an inactive user: %+v %d", p, res)
	}
}
