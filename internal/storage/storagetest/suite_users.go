package storagetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

func sameUser(a, b *storage.User) bool { return *a == *b }

// testUserProfile: the profile columns round-trip, defaults hold for a user created without
// them, UpdateUser replaces them conditionally and logs a change, attributes are bounded.
func testUserProfile(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	plain := newUser(t, s, ws.ID)
	got, err := s.GetUser(ctx, plain.ID)
	mustNil(t, err)
	if got.Inactive || string(got.Attributes) != "{}" || !got.LastLogin.IsZero() || got.FirstName != "" || got.ExternalID != "" ||
		got.IdleTimeout != 0 || got.Language != "" {
		t.Fatalf("a user created without a profile reads %+v: want active, {} attributes, no login", got)
	}

	id := ids.New()
	full := &storage.User{ID: id, Email: id + "@example.test", FirstName: "Ada", LastName: "Lovelace",
		ExternalID: "okta-00u1", Inactive: true, Attributes: (`{ "dept": "R&D", "level": 3 }`),
		IdleTimeout: 900, Language: "fr", Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateUser(ctx, full))
	if full.Attributes != `{"dept":"R&D","level":3}` {
		t.Fatalf("CreateUser wrote back attributes %s, want them compact", full.Attributes)
	}
	got, err = s.GetUser(ctx, id)
	mustNil(t, err)
	if !sameUser(got, full) {
		t.Fatalf("GetUser = %+v, want %+v", got, full)
	}
	over := &storage.User{ID: ids.New(), Email: "over@example.test", Generation: 1, CreatedAt: now, UpdatedAt: now,
		Attributes: `{"k":"` + strings.Repeat("x", storage.MaxUserAttributes) + `"}`}
	mustIs(t, s.CreateUser(ctx, over), storage.ErrLimit)

	seq, err := s.LatestSeq(ctx)
	mustNil(t, err)
	later := now.Add(time.Hour)
	upd := *got
	upd.FirstName, upd.LastName, upd.ExternalID, upd.Inactive = "Augusta", "King", "okta-00u2", false
	upd.Attributes, upd.UpdatedAt = (`{"dept":"Math"}`), later
	upd.IdleTimeout, upd.Language = 3600, "de"
	mustNil(t, s.UpdateUser(ctx, &upd, got.Generation))
	if upd.Generation != got.Generation+1 || upd.FirstName != "Augusta" || upd.Inactive || upd.IdleTimeout != 3600 || upd.Language != "de" ||
		string(upd.Attributes) != `{"dept":"Math"}` || !upd.UpdatedAt.Equal(later) || !upd.CreatedAt.Equal(now) {
		t.Fatalf("UpdateUser wrote back %+v", upd)
	}
	changes, err := s.ChangesSince(ctx, seq, 10)
	mustNil(t, err)
	if len(changes) != 1 || changes[0].Kind != storage.KindUser || changes[0].Key != id {
		t.Fatalf("UpdateUser logged %+v, want one user change", changes)
	}

	// Conditional: the old generation is stale now; 0 means unconditional.
	stale := upd
	stale.FirstName = "Stale"
	mustIs(t, s.UpdateUser(ctx, &stale, got.Generation), storage.ErrStale)
	missing := upd
	missing.ID = ids.New()
	mustIs(t, s.UpdateUser(ctx, &missing, 0), storage.ErrNotFound)
	taken := upd
	taken.Email = plain.Email
	mustIs(t, s.UpdateUser(ctx, &taken, 0), storage.ErrConflict)
	big := upd
	big.Attributes = (`{"k":"` + strings.Repeat("x", storage.MaxUserAttributes) + `"}`)
	mustIs(t, s.UpdateUser(ctx, &big, 0), storage.ErrLimit)
	for _, bad := range []string{`[1]`, `"s"`, `null`, `{`} {
		notObj := upd
		notObj.Attributes = (bad)
		if err := s.UpdateUser(ctx, &notObj, 0); err == nil {
			t.Errorf("UpdateUser with attributes %s succeeded", bad)
		}
	}
	got, err = s.GetUser(ctx, id)
	mustNil(t, err)
	if !sameUser(got, &upd) {
		t.Fatalf("refused updates changed the user: %+v, want %+v", got, &upd)
	}

	// The new columns filter members.
	for _, c := range []struct {
		filter string
		want   string
	}{
		{"u.external_id = ?", "okta-00u2"},
		{"u.first_name = ?", "Augusta"},
		{"u.last_name = ?", "King"},
	} {
		users, _, err := s.ListMembers(ctx, storage.MemberQuery{WorkspaceID: ws.ID,
			Filter: storage.Predicate{SQL: c.filter, Args: []any{c.want}}, Page: storage.Page{Limit: 10}})
		mustNil(t, err)
		if len(users) != 0 {
			t.Errorf("%s matched %d members before %s joined", c.filter, len(users), id)
		}
	}
	mustNil(t, s.AddMember(ctx, ws.ID, id, now))
	users, _, err := s.ListMembers(ctx, storage.MemberQuery{WorkspaceID: ws.ID,
		Filter: storage.Predicate{SQL: "u.external_id = ? AND u.active = ?", Args: []any{"okta-00u2", true}},
		Page:   storage.Page{Limit: 10}})
	mustNil(t, err)
	if len(users) != 1 || !sameUser(&users[0], &upd) {
		t.Fatalf("ListMembers by external id = %+v, want %+v", users, upd)
	}
}

// testUserLogins: RecordLogins only moves last_login forward, ignores unknown users, and
// neither bumps the generation nor appends to the change log.
func testUserLogins(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := newUser(t, s, ""), newUser(t, s, "")
	seq, err := s.LatestSeq(ctx)
	mustNil(t, err)
	t1, t2 := now.Add(time.Minute), now.Add(2*time.Minute)
	mustNil(t, s.RecordLogins(ctx, nil))
	mustNil(t, s.RecordLogins(ctx, []storage.Login{{UserID: a.ID, At: t2}, {UserID: b.ID, At: t1}, {UserID: ids.New(), At: t1}}))
	mustNil(t, s.RecordLogins(ctx, []storage.Login{{UserID: a.ID, At: t1}, {UserID: b.ID, At: t2}}))
	for _, c := range []struct {
		id   string
		want time.Time
	}{{a.ID, t2}, {b.ID, t2}} {
		got, err := s.GetUser(ctx, c.id)
		mustNil(t, err)
		if !got.LastLogin.Equal(c.want) || got.Generation != 1 {
			t.Errorf("user %s: last login %v generation %d, want %v and 1", c.id, got.LastLogin, got.Generation, c.want)
		}
	}
	after, err := s.LatestSeq(ctx)
	mustNil(t, err)
	if after != seq {
		t.Errorf("RecordLogins appended to the change log (seq %d -> %d)", seq, after)
	}
}

// testUserSCIMColumns: the SCIM columns round-trip through CreateUser and UpdateUser,
// InactiveUsers lists exactly the inactive users, and members sort by display name and by
// last login in both directions.
func testUserSCIMColumns(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	plain := newUser(t, s, ws.ID)
	if got, err := s.GetUser(ctx, plain.ID); err != nil || got.Source != storage.SourceLocal || got.SourceWorkspace != "" {
		t.Fatalf("a plain user reads %+v, %v: want source Local and no source workspace", got, err)
	}
	id := ids.New()
	u := &storage.User{ID: id, Email: id + "@example.test", DisplayName: "Zed", CountryCode: "FR",
		Source: storage.SourceSCIM, SourceWorkspace: ws.ID, Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateUser(ctx, u))
	mustNil(t, s.AddMember(ctx, ws.ID, id, now))
	got, err := s.GetUser(ctx, id)
	mustNil(t, err)
	if !sameUser(got, u) {
		t.Fatalf("GetUser = %+v, want %+v", got, u)
	}
	before, err := s.InactiveUsers(ctx)
	mustNil(t, err)
	upd := *got
	upd.DisplayName, upd.CountryCode, upd.Inactive, upd.Source, upd.SourceWorkspace = "Zoe", "DE", true, "", ""
	upd.UpdatedAt = now.Add(time.Minute)
	mustNil(t, s.UpdateUser(ctx, &upd, got.Generation))
	if upd.DisplayName != "Zoe" || upd.CountryCode != "DE" || !upd.Inactive || upd.Source != storage.SourceLocal || upd.SourceWorkspace != "" {
		t.Fatalf("UpdateUser wrote back %+v", upd)
	}
	after, err := s.InactiveUsers(ctx)
	mustNil(t, err)
	if len(after) != len(before)+1 || !slices.Contains(after, id) || slices.Contains(before, id) {
		t.Fatalf("InactiveUsers %v then %v, want %s added", before, after, id)
	}
	mustNil(t, s.RecordLogins(ctx, []storage.Login{{UserID: id, At: now.Add(time.Hour)}}))
	for _, c := range []struct {
		sort  storage.MemberSort
		desc  bool
		first string
	}{
		{storage.SortDisplayName, false, plain.ID}, // its email (hex) sorts before "zoe"
		{storage.SortDisplayName, true, id},
		{storage.SortLastLogin, false, plain.ID}, // never before an hour later
		{storage.SortLastLogin, true, id},
	} {
		list, total, err := s.ListMembers(ctx, storage.MemberQuery{WorkspaceID: ws.ID, Sort: c.sort, Desc: c.desc, Page: storage.Page{Limit: 1}})
		mustNil(t, err)
		if total < 2 || len(list) != 1 || list[0].ID != c.first {
			t.Errorf("sort %d desc %v: %d of %d, first %v, want %s", c.sort, c.desc, len(list), total, list, c.first)
		}
	}
}
