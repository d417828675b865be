package workspace_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/changefeed"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
	"github.com/keyhold/keyhold/internal/workspace"
)

var t0 = time.Date(2026, 6, 7, 8, 9, 10, 0, time.UTC)

const base = "https://keyhold.test"

func issuerURL(id string) string { return base + "/authorization/v2/oauth2/" + ids.Hex(id) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newStore is a migrated store with the built-in roles, as a node prepares it.
func newStore(t *testing.T) (*sqlstore.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	st, err := sqlite.Open(context.Background(), dir)
	must(t, err)
	t.Cleanup(func() { st.Close() })
	must(t, rbac.EnsureBuiltins(context.Background(), st, t0))
	return st, dir
}

func input(name string) workspace.CreateInput {
	return workspace.CreateInput{Name: name, IssuerURL: issuerURL, Now: t0}
}

func latest(t *testing.T, s storage.Store) int64 {
	t.Helper()
	seq, err := s.LatestSeq(context.Background())
	must(t, err)
	return seq
}

// roleScopes lists (role slug, scope) pairs of a user's assignments made in a workspace.
func roleScopes(t *testing.T, s storage.Store, ws, userID string) []string {
	t.Helper()
	as, err := s.ListAssignments(context.Background(), ws)
	must(t, err)
	slugs := map[string]string{}
	_, roles := rbac.Builtins()
	for _, r := range roles {
		slugs[r.ID] = r.Slug
	}
	var out []string
	for _, a := range as {
		if a.Subject != principal.User(userID) {
			t.Errorf("assignment to unexpected subject %s", a.Subject)
		}
		if a.WorkspaceID != ws || a.Source != "LOCAL" || a.Generation != 1 {
			t.Errorf("assignment %+v", a)
		}
		out = append(out, slugs[a.RoleID]+" on "+strings.Join(a.Scopes, ","))
	}
	slices.Sort(out)
	return out
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	out, err := workspace.Bootstrap(ctx, st, input("  default  "))
	must(t, err)

	all, err := st.ListWorkspaces(ctx)
	must(t, err)
	if len(all) != 1 {
		t.Fatalf("%d workspaces", len(all))
	}
	w := all[0]
	if w.ID != out.WorkspaceID || w.Name != "default" || w.Type != storage.WorkspaceStandard || w.CreatedBy != workspace.DefaultAdminEmail ||
		w.Generation != 1 || !w.CreatedAt.Equal(t0) || w.ParentID != "" {
		t.Fatalf("workspace %+v", w)
	}
	if _, err := ids.Parse(w.ID); err != nil || w.ID != ids.MustParse(w.ID) {
		t.Fatalf("workspace id %q is not canonical", w.ID)
	}
	if out.WorkspaceName != "default" || out.WorkspaceType != storage.WorkspaceStandard {
		t.Fatalf("created %+v", out)
	}

	u, err := st.GetUserByEmail(ctx, "admin@localhost")
	must(t, err)
	if u.ID != out.UserID {
		t.Fatalf("user %s, told %s", u.ID, out.UserID)
	}
	if ok, err := st.IsMember(ctx, w.ID, u.ID); err != nil || !ok {
		t.Fatalf("administrator is not a member: %v %v", ok, err)
	}

	got := roleScopes(t, st, w.ID, u.ID)
	want := []string{rbac.RolePlatformAdmin + " on grn:glp", rbac.RoleWorkspaceAdmin + " on grn:glp/workspaces/" + ids.Hex(w.ID)}
	if !slices.Equal(got, want) {
		t.Fatalf("assignments\n got %v\nwant %v", got, want)
	}

	c, err := st.GetCredential(ctx, out.ClientID)
	must(t, err)
	if c.OwnerID != u.ID || c.WorkspaceID != w.ID || c.Name != workspace.BootstrapCredentialName || c.Generation != 1 || c.TenantID != "" {
		t.Fatalf("credential %+v", c)
	}
	if !credential.Matches(c.SecretHash, out.ClientSecret) || len(out.ClientSecret) != 64 {
		t.Fatal("the secret handed out does not match the stored hash")
	}
	if strings.Contains(string(c.SecretHash), out.ClientSecret) {
		t.Fatal("the secret is stored in the clear")
	}
	if out.Issuer != issuerURL(w.ID) || out.TokenURL != issuerURL(w.ID)+"/token" {
		t.Fatalf("issuer %q token URL %q", out.Issuer, out.TokenURL)
	}

	// And the engine, loaded from this store, agrees.
	eng := rbac.NewEngine()
	must(t, changefeed.New(st, slog.New(slog.DiscardHandler), eng).Load(ctx))
	caller := &principal.Caller{Subject: principal.APIClient(c.ID), ClientID: c.ID, OwnerID: u.ID, WorkspaceID: w.ID}
	wsGRN := grn.MustParse("grn:glp/workspaces/" + ids.Hex(w.ID))
	for _, p := range []string{"glp.workspace.delete", "glp.identity.edit", "glp.authorization.view"} {
		if !eng.Allowed(caller, p, wsGRN) {
			t.Errorf("the administrator's credential may not %s", p)
		}
	}
	if !eng.Allowed(caller, "glp.resource-provider.edit", grn.Platform("")) {
		t.Error("the first administrator is not platform administrator")
	}
}

func TestBootstrapTwice(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	first, err := workspace.Bootstrap(ctx, st, input("default"))
	must(t, err)
	seq := latest(t, st)
	second, err := workspace.Bootstrap(ctx, st, input("again"))
	if !errors.Is(err, workspace.ErrNotEmpty) || second != nil {
		t.Fatalf("second bootstrap: %+v, %v", second, err)
	}
	if latest(t, st) != seq {
		t.Fatal("the refused bootstrap wrote to the change log")
	}
	all, err := st.ListWorkspaces(ctx)
	must(t, err)
	if len(all) != 1 || all[0].ID != first.WorkspaceID {
		t.Fatalf("workspaces %+v", all)
	}
	// Bootstrap refuses even an invalid input the same way (it never gets to validation).
	if _, err := workspace.Bootstrap(ctx, st, workspace.CreateInput{IssuerURL: issuerURL, Now: t0}); err == nil {
		t.Fatal("bootstrap of a non-empty store with an invalid input succeeded")
	}
}

// TestBootstrapConcurrent: several nodes starting at once on one database create one workspace.
func TestBootstrapConcurrent(t *testing.T) {
	ctx := context.Background()
	st, dir := newStore(t)
	stores := []storage.Store{st}
	for range 3 {
		other, err := sqlite.Open(ctx, dir)
		must(t, err)
		t.Cleanup(func() { other.Close() })
		stores = append(stores, other)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = workspace.Bootstrap(ctx, s, input("default"))
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, workspace.ErrNotEmpty):
			t.Errorf("bootstrap: %v", err)
		}
	}
	all, err := st.ListWorkspaces(ctx)
	must(t, err)
	if created != 1 || len(all) != 1 {
		t.Fatalf("%d bootstraps succeeded, %d workspaces", created, len(all))
	}
}

func TestCreateSecondWorkspaceReusesAdmin(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	first, err := workspace.Bootstrap(ctx, st, input("default"))
	must(t, err)
	in := input("second")
	in.Type = storage.WorkspaceMSP
	in.AdminEmail = " Admin@LocalHost " // the same address, spelled differently
	second, err := workspace.Create(ctx, st, in)
	must(t, err)
	if second.UserID != first.UserID {
		t.Fatalf("a second user %s was made for the same email (first %s)", second.UserID, first.UserID)
	}
	if second.WorkspaceID == first.WorkspaceID || second.ClientID == first.ClientID || second.ClientSecret == first.ClientSecret {
		t.Fatalf("second workspace shares identifiers with the first: %+v %+v", first, second)
	}
	w, err := st.GetWorkspace(ctx, second.WorkspaceID)
	must(t, err)
	if w.Type != storage.WorkspaceMSP || w.Name != "second" || w.CreatedBy != "admin@localhost" {
		t.Fatalf("workspace %+v", w)
	}
	if ok, err := st.IsMember(ctx, second.WorkspaceID, first.UserID); err != nil || !ok {
		t.Fatal("administrator is not a member of the second workspace")
	}
	got := roleScopes(t, st, second.WorkspaceID, first.UserID)
	if want := []string{rbac.RoleWorkspaceAdmin + " on grn:glp/workspaces/" + ids.Hex(second.WorkspaceID)}; !slices.Equal(got, want) {
		t.Fatalf("second workspace's assignments %v, want %v", got, want)
	}
	all, err := st.ListAssignments(ctx, "")
	must(t, err)
	platformAdmins := 0
	for _, a := range all {
		if a.RoleID == rbac.PredefinedRoleID(rbac.RolePlatformAdmin) {
			platformAdmins++
		}
	}
	if platformAdmins != 1 {
		t.Fatalf("%d platform administrator assignments, want 1", platformAdmins)
	}
	c, err := st.GetCredential(ctx, second.ClientID)
	must(t, err)
	if c.WorkspaceID != second.WorkspaceID || c.OwnerID != first.UserID || !credential.Matches(c.SecretHash, second.ClientSecret) {
		t.Fatalf("second credential %+v", c)
	}

	// A third workspace for a new administrator makes a new user, again without platform admin.
	in = input("third")
	in.AdminEmail = "ops@example.com"
	third, err := workspace.Create(ctx, st, in)
	must(t, err)
	if third.UserID == first.UserID {
		t.Fatal("a different email reused the first user")
	}
	if got := roleScopes(t, st, third.WorkspaceID, third.UserID); len(got) != 1 || !strings.HasPrefix(got[0], rbac.RoleWorkspaceAdmin+" ") {
		t.Fatalf("third workspace's assignments %v", got)
	}
}

func TestCreateRefusesInvalidInput(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	_, err := workspace.Bootstrap(ctx, st, input("default"))
	must(t, err)
	seq := latest(t, st)

	cases := map[string]workspace.CreateInput{
		"empty name":              {Name: ""},
		"blank name":              {Name: " \t\n "},
		"101-character name":      {Name: strings.Repeat("n", 101)},
		"101-rune name":           {Name: strings.Repeat("é", 101)},
		"NUL in name":             {Name: "a\x00b"},
		"newline in name":         {Name: "a\nb"},
		"escape in name":          {Name: "a\x1b[31mb"},
		"DEL in name":             {Name: "a\x7fb"},
		"C1 control in name":      {Name: "a\u0085b"},
		"invalid UTF-8 in name":   {Name: "a\xffb"},
		"tenant type":             {Name: "x", Type: storage.WorkspaceTenant},
		"unknown type":            {Name: "x", Type: "ENTERPRISE"},
		"lower-case type":         {Name: "x", Type: "msp"},
		"not an email":            {Name: "x", AdminEmail: "admin"},
		"email with display name": {Name: "x", AdminEmail: "Admin <admin@example.com>"},
		"email in brackets":       {Name: "x", AdminEmail: "<admin@example.com>"},
		"two emails":              {Name: "x", AdminEmail: "a@example.com, b@example.com"},
		"email with a comment":    {Name: "x", AdminEmail: "a@example.com (me)"},
		"email without local":     {Name: "x", AdminEmail: "@example.com"},
		"email with a space":      {Name: "x", AdminEmail: "a b@example.com"},
		"email with newline":      {Name: "x", AdminEmail: "a@example.com\nBcc: b@example.com"},
		"too long email":          {Name: "x", AdminEmail: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + ".com"},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			in.IssuerURL, in.Now = issuerURL, t0
			out, err := workspace.Create(ctx, st, in)
			if err == nil {
				t.Fatalf("accepted: %+v", out)
			}
			if out != nil {
				t.Fatalf("refused but returned %+v", out)
			}
			if latest(t, st) != seq {
				t.Fatal("a refused create wrote to the change log")
			}
		})
	}
	all, err := st.ListWorkspaces(ctx)
	must(t, err)
	if len(all) != 1 {
		t.Fatalf("%d workspaces after refused creates", len(all))
	}

	// The boundaries that are allowed.
	for _, in := range []workspace.CreateInput{
		{Name: strings.Repeat("n", 100)},
		{Name: strings.Repeat("é", 100)},
		{Name: "Ünïcödé 工作区", Type: storage.WorkspaceMSP, AdminEmail: "first.last+tag@sub.example.com"},
	} {
		in.IssuerURL, in.Now = issuerURL, t0
		if _, err := workspace.Create(ctx, st, in); err != nil {
			t.Errorf("%q refused: %v", in.Name, err)
		}
	}
}

// TestCreateIsAtomic: a create that fails part-way (here: the built-in roles are missing, so
// the administrator's assignment fails on its role reference after the workspace and the user
// were written) leaves nothing behind.
func TestCreateIsAtomic(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	st, err := sqlite.Open(ctx, dir)
	must(t, err)
	defer st.Close()
	seq := latest(t, st)
	if _, err := workspace.Bootstrap(ctx, st, input("default")); err == nil {
		t.Fatal("bootstrap without built-in roles succeeded")
	}
	if latest(t, st) != seq {
		t.Fatal("a failed bootstrap left changes behind")
	}
	all, err := st.ListWorkspaces(ctx)
	must(t, err)
	if len(all) != 0 {
		t.Fatalf("a failed bootstrap left %d workspaces", len(all))
	}
	if _, err := st.GetUserByEmail(ctx, workspace.DefaultAdminEmail); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a failed bootstrap left its user: %v", err)
	}
}
