package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// Factory returns a fresh, empty, migrated store; the suite closes it.
type Factory func(t *testing.T) storage.Store

// Options tunes the suite for a backend.
type Options struct {
	// Skip maps a category name to the reason the backend cannot pass it.
	Skip map[string]string
}

// Run runs every category of the suite against stores made by f.
func Run(t *testing.T, f Factory, opts Options) {
	cats := []struct {
		name string
		fn   func(*testing.T, storage.Store)
	}{
		{"Settings", testSettings},
		{"Workspaces", testWorkspaces},
		{"Users", testUsers},
		{"UserProfile", testUserProfile},
		{"UserSCIMColumns", testUserSCIMColumns},
		{"UserLogins", testUserLogins},
		{"Credentials", testCredentials},
		{"CredentialRotation", testCredentialRotation},
		{"CredentialKeys", testCredentialKeys},
		{"AssertionIDsConcurrent", testAssertionIDsConcurrent},
		{"AssertionIDsAfterClose", testAssertionIDsAfterClose},
		{"CredentialLimits", testCredentialLimits},
		{"CredentialFilter", testCredentialFilter},
		{"SigningKeys", testSigningKeys},
		{"Authorization", testAuthorization},
		{"Revocations", testRevocations},
		{"ChangeLog", testChangeLog},
		{"ChangeLogCompaction", testChangeLogCompaction},
		{"Transactions", testTransactions},
		{"ConcurrentCreates", testConcurrentCreates},
		{"Tenants", testTenants},
		{"TenantGroups", testTenantGroups},
		{"Provisions", testProvisions},
		{"WorkspaceDelete", testWorkspaceDelete},
		{"IAMProviders", testIAMProviders},
		{"IAMPermissions", testIAMPermissions},
		{"IAMRoles", testIAMRoles},
		{"IAMAssignments", testIAMAssignments},
		{"IAMScopeGroups", testIAMScopeGroups},
		{"IAMMembers", testIAMMembers},
		{"MemberWalk", testMemberWalk},
		{"IAMUserGroups", testIAMUserGroups},
		{"SCIMGroups", testSCIMGroups},
		{"IAMChangeLog", testIAMChangeLog},
		{"AuditInTransaction", testAuditInTransaction},
		{"AuditChainsAndPruning", testAuditChainsAndPruning},
	}
	for _, c := range cats {
		t.Run(c.name, func(t *testing.T) {
			if why, ok := opts.Skip[c.name]; ok {
				t.Skipf("backend skips %s: %s", c.name, why)
			}
			s := f(t)
			t.Cleanup(func() { s.Close() })
			c.fn(t, s)
		})
	}
}

// now is a fixed instant with microsecond precision, the precision every backend keeps.
var now = time.Date(2026, 11, 23, 12, 0, 0, 123456000, time.UTC)

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustIs(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func newWorkspace(t *testing.T, s storage.Store, typ, parent string) *storage.Workspace {
	t.Helper()
	w := &storage.Workspace{ID: ids.New(), Name: "ws " + typ, Type: typ, ParentID: parent, CreatedBy: "test",
		Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateWorkspace(context.Background(), w))
	return w
}

func newUser(t *testing.T, s storage.Store, ws string) *storage.User {
	t.Helper()
	id := ids.New()
	u := &storage.User{ID: id, Email: id + "@example.test", Generation: 1, CreatedAt: now, UpdatedAt: now}
	mustNil(t, s.CreateUser(context.Background(), u))
	if ws != "" {
		mustNil(t, s.AddMember(context.Background(), ws, u.ID, now))
	}
	return u
}

func newCredential(ws, owner, name string) *storage.Credential {
	return &storage.Credential{ID: ids.New(), WorkspaceID: ws, OwnerID: owner, Name: name,
		SecretHash: []byte("hash-" + name), Generation: 1, CreatedAt: now, UpdatedAt: now}
}

func testWorkspaces(t *testing.T, s storage.Store) {
	ctx := context.Background()
	msp := newWorkspace(t, s, storage.WorkspaceMSP, "")
	tenant := newWorkspace(t, s, storage.WorkspaceTenant, msp.ID)
	got, err := s.GetWorkspace(ctx, tenant.ID)
	mustNil(t, err)
	if *got != *tenant {
		t.Fatalf("GetWorkspace = %+v, want %+v", got, tenant)
	}
	_, err = s.GetWorkspace(ctx, ids.New())
	mustIs(t, err, storage.ErrNotFound)
	mustIs(t, s.CreateWorkspace(ctx, tenant), storage.ErrConflict)
	all, err := s.ListWorkspaces(ctx)
	mustNil(t, err)
	if len(all) != 2 {
		t.Fatalf("ListWorkspaces returned %d, want 2", len(all))
	}
}

func testUsers(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	u := newUser(t, s, ws.ID)
	got, err := s.GetUserByEmail(ctx, u.Email)
	mustNil(t, err)
	if !sameUser(got, u) {
		t.Fatalf("GetUserByEmail = %+v, want %+v", got, u)
	}
	dup := *u
	dup.ID = ids.New()
	mustIs(t, s.CreateUser(ctx, &dup), storage.ErrConflict)
	mustNil(t, s.AddMember(ctx, ws.ID, u.ID, now)) // idempotent
	for _, c := range []struct {
		ws, user string
		want     bool
	}{{ws.ID, u.ID, true}, {ws.ID, ids.New(), false}, {ids.New(), u.ID, false}} {
		ok, err := s.IsMember(ctx, c.ws, c.user)
		mustNil(t, err)
		if ok != c.want {
			t.Errorf("IsMember(%s, %s) = %v, want %v", c.ws, c.user, ok, c.want)
		}
	}
	_, err = s.GetUser(ctx, ids.New())
	mustIs(t, err, storage.ErrNotFound)
}

func testCredentials(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	u := newUser(t, s, ws.ID)
	c := newCredential(ws.ID, u.ID, "ci")
	mustNil(t, s.CreateCredential(ctx, c, 7))
	got, err := s.GetCredential(ctx, c.ID)
	mustNil(t, err)
	if got.Name != "ci" || got.Generation != 1 || string(got.SecretHash) != "hash-ci" || !got.CreatedAt.Equal(now) {
		t.Fatalf("GetCredential = %+v", got)
	}
	mustIs(t, s.CreateCredential(ctx, newCredential(ws.ID, u.ID, "ci"), 7), storage.ErrConflict)
	later := now.Add(time.Minute)
	reset, err := s.ResetCredential(ctx, c.ID, []byte("new"), later)
	mustNil(t, err)
	if reset.Generation != 2 || string(reset.SecretHash) != "new" || !reset.UpdatedAt.Equal(later) || !reset.CreatedAt.Equal(now) {
		t.Fatalf("ResetCredential = %+v", reset)
	}
	_, err = s.ResetCredential(ctx, ids.New(), []byte("x"), later)
	mustIs(t, err, storage.ErrNotFound)
	// EndCredentialTokens: the next generation, the secret and its date kept, one change.
	seq, err := s.LatestSeq(ctx)
	mustNil(t, err)
	evenLater := later.Add(time.Minute)
	ended, err := s.EndCredentialTokens(ctx, c.ID, evenLater)
	mustNil(t, err)
	if ended.Generation != 3 || string(ended.SecretHash) != "new" || !ended.UpdatedAt.Equal(evenLater) ||
		!ended.SecretCreatedAt.Equal(reset.SecretCreatedAt) {
		t.Fatalf("EndCredentialTokens = %+v after %+v", ended, reset)
	}
	if changes, err := s.ChangesSince(ctx, seq, 10); err != nil || len(changes) != 1 || changes[0].Kind != storage.KindCredential {
		t.Fatalf("EndCredentialTokens logged %+v, %v", changes, err)
	}
	_, err = s.EndCredentialTokens(ctx, ids.New(), later)
	mustIs(t, err, storage.ErrNotFound)
	mustNil(t, s.DeleteCredential(ctx, c.ID))
	mustIs(t, s.DeleteCredential(ctx, c.ID), storage.ErrNotFound)
	_, err = s.GetCredential(ctx, c.ID)
	mustIs(t, err, storage.ErrNotFound)
	mustIs(t, s.CreateCredential(ctx, newCredential(ws.ID, ids.New(), "orphan"), 7), storage.ErrNotFound)
}

func testCredentialRotation(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	c := newCredential(ws.ID, newUser(t, s, ws.ID).ID, "rotated")
	mustNil(t, s.CreateCredential(ctx, c, 7))
	t1, exp := now.Add(time.Minute), now.Add(time.Hour)
	r, err := s.RotateCredentialSecret(ctx, c.ID, []byte("second"), t1, exp)
	mustNil(t, err)
	if string(r.SecretHash) != "second" || string(r.PrevSecretHash) != "hash-rotated" || !r.PrevSecretExpiresAt.Equal(exp) ||
		!r.SecretCreatedAt.Equal(t1) || r.Generation != c.Generation {
		t.Fatalf("RotateCredentialSecret = %+v", r)
	}
	got, err := s.GetCredential(ctx, c.ID)
	mustNil(t, err)
	if string(got.PrevSecretHash) != "hash-rotated" || !got.PrevSecretExpiresAt.Equal(exp) {
		t.Fatalf("GetCredential after rotation = %+v", got)
	}
	// A previous secret still valid blocks the next rotation; an expired one does not.
	_, err = s.RotateCredentialSecret(ctx, c.ID, []byte("third"), t1, exp)
	mustIs(t, err, storage.ErrConflict)
	r, err = s.RotateCredentialSecret(ctx, c.ID, []byte("third"), exp, exp.Add(time.Hour))
	mustNil(t, err)
	if string(r.PrevSecretHash) != "second" || string(r.SecretHash) != "third" {
		t.Fatalf("rotation after expiry = %+v", r)
	}
	r, err = s.RetirePreviousSecret(ctx, c.ID, exp)
	mustNil(t, err)
	if r.PrevSecretHash != nil || !r.PrevSecretExpiresAt.IsZero() || string(r.SecretHash) != "third" {
		t.Fatalf("RetirePreviousSecret = %+v", r)
	}
	_, err = s.RetirePreviousSecret(ctx, c.ID, exp)
	mustIs(t, err, storage.ErrNotFound)
	_, err = s.RetirePreviousSecret(ctx, ids.New(), exp)
	mustIs(t, err, storage.ErrNotFound)
	_, err = s.RotateCredentialSecret(ctx, ids.New(), []byte("x"), t1, exp)
	mustIs(t, err, storage.ErrNotFound)
	// A reset forgets the previous secret.
	_, err = s.RotateCredentialSecret(ctx, c.ID, []byte("fourth"), exp, exp.Add(time.Hour))
	mustNil(t, err)
	r, err = s.ResetCredential(ctx, c.ID, []byte("fifth"), exp)
	mustNil(t, err)
	if r.PrevSecretHash != nil || r.Generation != c.Generation+1 || !r.SecretCreatedAt.Equal(exp) {
		t.Fatalf("reset after rotation = %+v", r)
	}
}

func testCredentialKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	c := newCredential(ws.ID, newUser(t, s, ws.ID).ID, "keys")
	mustNil(t, s.CreateCredential(ctx, c, 7))
	got, err := s.SetCredentialKeys(ctx, c.ID, `{"keys":[]}`, "", now)
	mustNil(t, err)
	if got.JWKS != `{"keys":[]}` || got.JWKSURI != "" {
		t.Fatalf("SetCredentialKeys = %+v", got)
	}
	got, err = s.SetCredentialKeys(ctx, c.ID, "", "https://example.com/jwks", now)
	mustNil(t, err)
	if again, _ := s.GetCredential(ctx, c.ID); again.JWKS != "" || again.JWKSURI != "https://example.com/jwks" || got.JWKSURI != again.JWKSURI {
		t.Fatalf("GetCredential after SetCredentialKeys = %+v", again)
	}
	_, err = s.SetCredentialKeys(ctx, ids.New(), "", "", now)
	mustIs(t, err, storage.ErrNotFound)
	got, err = s.SetCredentialTLS(ctx, c.ID, "CN=job", []string{"t1", "t2"}, now)
	mustNil(t, err)
	if again, _ := s.GetCredential(ctx, c.ID); again.TLSSubjectDN != "CN=job" || len(again.TLSThumbprints) != 2 || again.TLSThumbprints[1] != "t2" || got.TLSSubjectDN != "CN=job" {
		t.Fatalf("SetCredentialTLS = %+v", again)
	}
	got, err = s.SetCredentialTLS(ctx, c.ID, "", nil, now)
	mustNil(t, err)
	if got.TLSSubjectDN != "" || len(got.TLSThumbprints) != 0 {
		t.Fatalf("SetCredentialTLS cleared = %+v", got)
	}

	// Token settings: lifetime, audiences and scopes round-trip and can be cleared.
	auds := []string{"https://api.example.com", "urn:example:reports"}
	scopes := []string{"glp.workspace.view", "acme.todo.*"}
	got, err = s.SetCredentialTokenSettings(ctx, c.ID, 5*time.Minute, auds, scopes, now)
	mustNil(t, err)
	again, err := s.GetCredential(ctx, c.ID)
	mustNil(t, err)
	if got.TokenTTL != 5*time.Minute || again.TokenTTL != 5*time.Minute || !slices.Equal(again.TokenAudiences, auds) ||
		!slices.Equal(again.TokenScopes, scopes) || !slices.Equal(got.TokenScopes, scopes) ||
		again.JWKSURI != "https://example.com/jwks" {
		t.Fatalf("after SetCredentialTokenSettings: %+v", again)
	}
	_, err = s.SetCredentialTokenSettings(ctx, c.ID, 0, nil, nil, now)
	mustNil(t, err)
	if again, _ = s.GetCredential(ctx, c.ID); again.TokenTTL != 0 || again.TokenAudiences != nil || len(again.TokenScopes) != 0 {
		t.Fatalf("after clearing token settings: %+v", again)
	}
	_, err = s.SetCredentialTokenSettings(ctx, ids.New(), 0, nil, nil, now)
	mustIs(t, err, storage.ErrNotFound)

	// A jti is used once until it expires; other clients' jtis are their own.
	exp := now.Add(time.Minute)
	mustNil(t, s.UseAssertionID(ctx, c.ID, "j1", exp, now))
	mustIs(t, s.UseAssertionID(ctx, c.ID, "j1", exp, now.Add(30*time.Second)), storage.ErrConflict)
	mustNil(t, s.UseAssertionID(ctx, "other-client", "j1", exp, now))
	mustNil(t, s.UseAssertionID(ctx, c.ID, "j1", exp.Add(time.Minute), exp)) // expired: taken over
	mustIs(t, s.UseAssertionID(ctx, c.ID, "j1", exp.Add(time.Minute), exp), storage.ErrConflict)
}

func testCredentialLimits(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ws := newWorkspace(t, s, storage.WorkspaceStandard, "")
	other := newWorkspace(t, s, storage.WorkspaceStandard, "")
	u := newUser(t, s, ws.ID)
	for _, name := range []string{"a", "b", "c"} {
		mustNil(t, s.CreateCredential(ctx, newCredential(ws.ID, u.ID, name), 3))
	}
	mustIs(t, s.CreateCredential(ctx, newCredential(ws.ID, u.ID, "d"), 3), storage.ErrLimit)
	// The limit is per owner and workspace.
	mustNil(t, s.CreateCredential(ctx, newCredential(other.ID, u.ID, "a"), 3))
	mustNil(t, s.CreateCredential(ctx, newCredential(ws.ID, newUser(t, s, ws.ID).ID, "a"), 3))
	list, err := s.ListCredentials(ctx, storage.CredentialQuery{WorkspaceID: ws.ID, OwnerID: u.ID})
	mustNil(t, err)
	if names := credentialNames(list); !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Fatalf("ListCredentials = %v", names)
	}
}

func credentialNames(cs []storage.Credential) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func testCredentialFilter(t *testing.T, s storage.Store) {
	ctx := context.Background()
	msp := newWorkspace(t, s, storage.WorkspaceMSP, "")
	tenant := newWorkspace(t, s, storage.WorkspaceTenant, msp.ID)
	u := newUser(t, s, msp.ID)
	a := newCredential(msp.ID, u.ID, "own")
	b := newCredential(msp.ID, u.ID, "for-tenant")
	b.TenantID = tenant.ID
	b.CreatedAt = now.Add(time.Hour)
	mustNil(t, s.CreateCredential(ctx, a, 0))
	mustNil(t, s.CreateCredential(ctx, b, 0))
	cases := []struct {
		p    storage.Predicate
		want []string
	}{
		{storage.Predicate{}, []string{"own", "for-tenant"}},
		{storage.Predicate{SQL: "tenant_id = ?", Args: []any{tenant.ID}}, []string{"for-tenant"}},
		{storage.Predicate{SQL: "tenant_id IS NULL"}, []string{"own"}},
		{storage.Predicate{SQL: "name <> ? AND owner_id = ?", Args: []any{"own", u.ID}}, []string{"for-tenant"}},
		{storage.Predicate{SQL: "created_at > ?", Args: []any{now.Add(time.Minute)}}, []string{"for-tenant"}},
	}
	for _, c := range cases {
		list, err := s.ListCredentials(ctx, storage.CredentialQuery{WorkspaceID: msp.ID, Filter: c.p})
		mustNil(t, err)
		if got := credentialNames(list); !slices.Equal(got, c.want) {
			t.Errorf("filter %q: got %v, want %v", c.p.SQL, got, c.want)
		}
	}
	got, err := s.GetCredential(ctx, b.ID)
	mustNil(t, err)
	if got.TenantID != tenant.ID || got.ProvisionID != "" {
		t.Fatalf("tenant credential = %+v", got)
	}
}

func testSigningKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	k1 := &storage.SigningKey{KID: "k1", Algorithm: "ES256", PrivateKey: []byte{1, 2, 3}, CreatedAt: now}
	k2 := &storage.SigningKey{KID: "k2", Algorithm: "EdDSA", PrivateKey: []byte{4, 5}, CreatedAt: now.Add(time.Hour)}
	mustNil(t, s.CreateSigningKey(ctx, k1))
	mustNil(t, s.CreateSigningKey(ctx, k2))
	mustIs(t, s.CreateSigningKey(ctx, k1), storage.ErrConflict)
	retire := now.Add(2 * time.Hour)
	mustNil(t, s.RetireSigningKeys(ctx, "k2", retire))
	keys, err := s.ListSigningKeys(ctx)
	mustNil(t, err)
	if len(keys) != 2 || keys[0].KID != "k2" || !keys[0].RetireAt.IsZero() || !keys[1].RetireAt.Equal(retire) {
		t.Fatalf("keys after retire = %+v", keys)
	}
	mustNil(t, s.DeleteRetiredKeys(ctx, retire.Add(-time.Second)))
	keys, _ = s.ListSigningKeys(ctx)
	if len(keys) != 2 {
		t.Fatalf("a key was deleted before its retirement: %+v", keys)
	}
	mustNil(t, s.DeleteRetiredKeys(ctx, retire))
	keys, _ = s.ListSigningKeys(ctx)
	if len(keys) != 1 || keys[0].KID != "k2" || string(keys[0].PrivateKey) != "\x04\x05" {
		t.Fatalf("keys after delete = %+v", keys)
	}
}

func testSettings(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.GetSetting(ctx, storage.SettingBaseURL); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unset setting: %v, want ErrNotFound", err)
	}
	seq, err := s.LatestSeq(ctx)
	mustNil(t, err)
	mustNil(t, s.PutSetting(ctx, storage.SettingBaseURL, "https://iam.example.com", now))
	mustNil(t, s.PutSetting(ctx, "other", "x", now))
	mustNil(t, s.PutSetting(ctx, storage.SettingBaseURL, "http://127.0.0.1:9090", now.Add(time.Second)))
	v, err := s.GetSetting(ctx, storage.SettingBaseURL)
	mustNil(t, err)
	if v != "http://127.0.0.1:9090" {
		t.Errorf("base URL %q after replacing it", v)
	}
	if v, err := s.GetSetting(ctx, "other"); err != nil || v != "x" {
		t.Errorf("other setting: %q, %v", v, err)
	}
	// Settings are not views: they append nothing to the change log.
	after, err := s.LatestSeq(ctx)
	mustNil(t, err)
	if after != seq {
		t.Errorf("settings appended to the change log: seq %d -> %d", seq, after)
	}
}
