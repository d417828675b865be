package credential

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		secret, hash := NewSecret()
		if len(secret) != 64 || strings.ToLower(secret) != secret {
			t.Fatalf("secret %q: want 64 lower-case hex digits", secret)
		}
		raw, err := hex.DecodeString(secret)
		if err != nil || len(raw) != 32 {
			t.Fatalf("secret %q is not 32 bytes of hex: %v", secret, err)
		}
		if seen[secret] {
			t.Fatalf("secret %q repeated", secret)
		}
		seen[secret] = true
		if len(hash) != 32 || string(hash) == string(raw) || strings.Contains(string(hash), secret) {
			t.Fatalf("hash %x of %q is not a 32-byte digest", hash, secret)
		}
		if string(Hash(secret)) != string(hash) {
			t.Fatal("NewSecret's hash differs from Hash(secret)")
		}
	}
}

func TestMatches(t *testing.T) {
	secret, hash := NewSecret()
	other, _ := NewSecret()
	cases := []struct {
		name      string
		hash      []byte
		presented string
		want      bool
	}{
		{"the secret", hash, secret, true},
		{"another secret", hash, other, false},
		{"empty", hash, "", false},
		{"upper case", hash, strings.ToUpper(secret), false},
		{"one character short", hash, secret[:63], false},
		{"one character more", hash, secret + "0", false},
		{"surrounding space", hash, " " + secret + " ", false},
		{"the hash itself", hash, string(hash), false},
		{"the hash in hex", hash, hex.EncodeToString(hash), false},
		{"nil stored hash", nil, secret, false},
		{"empty stored hash", []byte{}, "", false},
		{"short stored hash", hash[:16], secret, false},
		{"zero stored hash", make([]byte, 32), secret, false},
	}
	for _, c := range cases {
		if got := Matches(c.hash, c.presented); got != c.want {
			t.Errorf("%s: Matches = %v, want %v", c.name, got, c.want)
		}
	}
}

var t0 = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

type indexEnv struct {
	store         *sqlstore.Store
	ws, tenant, u string
	id, secret    string
	index         *Index
	ctx           context.Context
}

func newIndexEnv(t testing.TB) *indexEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &indexEnv{store: st, ws: ids.New(), tenant: ids.New(), u: ids.New(), id: ids.New(), index: NewIndex(), ctx: ctx}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(st.CreateWorkspace(ctx, &storage.Workspace{ID: e.ws, Name: "msp", Type: storage.WorkspaceMSP, Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	check(st.CreateWorkspace(ctx, &storage.Workspace{ID: e.tenant, Name: "tenant", Type: storage.WorkspaceTenant, ParentID: e.ws,
		Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	check(st.CreateUser(ctx, &storage.User{ID: e.u, Email: "u@example.com", Generation: 1, CreatedAt: t0, UpdatedAt: t0}))
	var hash []byte
	e.secret, hash = NewSecret()
	check(st.CreateCredential(ctx, &storage.Credential{ID: e.id, WorkspaceID: e.ws, OwnerID: e.u, Name: "one",
		SecretHash: hash, Generation: 1, CreatedAt: t0, UpdatedAt: t0}, DefaultMaxPerOwner))
	check(e.index.Load(ctx, st))
	return e
}

func (e *indexEnv) apply(t *testing.T, id string) {
	t.Helper()
	if err := e.index.Apply(e.ctx, e.store, storage.Change{Kind: storage.KindCredential, Key: id}); err != nil {
		t.Fatal(err)
	}
}

func TestIndexAuthenticate(t *testing.T) {
	e := newIndexEnv(t)
	got, ok := e.index.Authenticate(e.id, e.secret)
	if !ok {
		t.Fatal("the right secret does not authenticate")
	}
	want := Entry{ID: e.id, WorkspaceID: e.ws, TokenWorkspaceID: e.ws, OwnerID: e.u, Generation: 1, hash: Hash(e.secret)}
	if got.ID != want.ID || got.WorkspaceID != want.WorkspaceID || got.TokenWorkspaceID != want.TokenWorkspaceID ||
		got.OwnerID != want.OwnerID || got.Generation != want.Generation || got.ProvisionID != "" {
		t.Fatalf("entry %+v", got)
	}
	other, _ := NewSecret()
	for name, c := range map[string][2]string{
		"wrong secret":            {e.id, other},
		"empty secret":            {e.id, ""},
		"unknown id":              {ids.New(), e.secret},
		"unknown id, no secret":   {ids.New(), ""},
		"empty id":                {"", e.secret},
		"id in another spelling":  {ids.Hex(e.id), e.secret},
		"secret as the client id": {e.secret, e.secret},
	} {
		if got, ok := e.index.Authenticate(c[0], c[1]); ok || got.ID != "" || got.hash != nil {
			t.Errorf("%s: authenticated %+v", name, got)
		}
	}
	// Get hands out copies: changing one does not change the index.
	g, _ := e.index.Get(e.id)
	g.Generation, g.OwnerID = 99, "x"
	if again, _ := e.index.Get(e.id); again.Generation != 1 || again.OwnerID != e.u {
		t.Fatal("Get returned a reference into the index")
	}
}

func TestIndexApplyAndLoad(t *testing.T) {
	e := newIndexEnv(t)
	ctx := e.ctx

	// create -> present
	id2 := ids.New()
	secret2, hash2 := NewSecret()
	if err := e.store.CreateCredential(ctx, &storage.Credential{ID: id2, WorkspaceID: e.ws, TenantID: e.tenant, ProvisionID: "p-1",
		OwnerID: e.u, Name: "tenant", SecretHash: hash2, Generation: 1, CreatedAt: t0, UpdatedAt: t0}, DefaultMaxPerOwner); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.index.Get(id2); ok {
		t.Fatal("present before its change was applied")
	}
	e.apply(t, id2)
	got, ok := e.index.Authenticate(id2, secret2)
	if !ok || got.WorkspaceID != e.ws || got.TokenWorkspaceID != e.tenant || got.ProvisionID != "p-1" {
		t.Fatalf("tenant credential after create: %+v, %v", got, ok)
	}

	// reset -> new generation and secret
	secret3, hash3 := NewSecret()
	if _, err := e.store.ResetCredential(ctx, id2, hash3, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.apply(t, id2)
	if _, ok := e.index.Authenticate(id2, secret2); ok {
		t.Fatal("old secret still works after reset")
	}
	if got, ok := e.index.Authenticate(id2, secret3); !ok || got.Generation != 2 {
		t.Fatalf("after reset: %+v, %v", got, ok)
	}

	// delete -> absent; applying the same change again is harmless
	if err := e.store.DeleteCredential(ctx, id2); err != nil {
		t.Fatal(err)
	}
	e.apply(t, id2)
	e.apply(t, id2)
	if _, ok := e.index.Get(id2); ok {
		t.Fatal("present after delete")
	}
	if _, ok := e.index.Authenticate(id2, secret3); ok {
		t.Fatal("deleted credential authenticates")
	}
	// The other credential is untouched.
	if _, ok := e.index.Authenticate(e.id, e.secret); !ok {
		t.Fatal("first credential lost")
	}
	// A change for a credential that never existed leaves the index alone.
	e.apply(t, ids.New())

	// Load replaces the whole view: what was deleted behind the index's back disappears.
	if err := e.store.DeleteCredential(ctx, e.id); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.index.Get(e.id); !ok {
		t.Fatal("precondition: still in the index before Load")
	}
	if err := e.index.Load(ctx, e.store); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.index.Get(e.id); ok {
		t.Fatal("present after Load of a store without it")
	}
	if kinds := e.index.Kinds(); len(kinds) != 2 || kinds[0] != storage.KindCredential || kinds[1] != storage.KindUser {
		t.Fatalf("Kinds = %v", kinds)
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	e := newIndexEnv(b)
	// A realistic index: many credentials besides the one presented.
	for range 10_000 {
		_, h := NewSecret()
		e.index.entries[ids.New()] = &Entry{Generation: 1, hash: h}
	}
	other, _ := NewSecret()
	unknown := ids.New()
	for _, c := range []struct {
		name, id, secret string
		ok               bool
	}{
		{"match", e.id, e.secret, true},
		{"wrong-secret", e.id, other, false},
		{"unknown-id", unknown, e.secret, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := e.index.Authenticate(c.id, c.secret); ok != c.ok {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}

// Why tells the failure reasons apart, whether the index learnt of the reset and the delete
// from the change log (Apply) or from a reload (Load).
func TestIndexWhy(t *testing.T) {
	for _, viaLoad := range []bool{false, true} {
		e := newIndexEnv(t)
		learn := func(id string) {
			if viaLoad {
				if err := e.index.Load(e.ctx, e.store); err != nil {
					t.Fatal(err)
				}
				return
			}
			e.apply(t, id)
		}
		other, _ := NewSecret()
		if got := e.index.Why(e.id, e.secret); got != "" {
			t.Errorf("load %v: the right secret: %q", viaLoad, got)
		}
		if got := e.index.Why(e.id, other); got != FailWrongSecret {
			t.Errorf("load %v: a wrong secret: %q", viaLoad, got)
		}
		if got := e.index.Why(ids.New(), e.secret); got != FailUnknown {
			t.Errorf("load %v: an unknown id: %q", viaLoad, got)
		}
		newSecret, hash := NewSecret()
		if _, err := e.store.ResetCredential(e.ctx, e.id, hash, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		learn(e.id)
		if got := e.index.Why(e.id, e.secret); got != FailOldSecret {
			t.Errorf("load %v: the secret before the reset: %q", viaLoad, got)
		}
		if got := e.index.Why(e.id, newSecret); got != "" {
			t.Errorf("load %v: the new secret: %q", viaLoad, got)
		}
		if err := e.store.DeleteCredential(e.ctx, e.id); err != nil {
			t.Fatal(err)
		}
		learn(e.id)
		if got := e.index.Why(e.id, newSecret); got != FailDeleted {
			t.Errorf("load %v: a deleted credential: %q", viaLoad, got)
		}
	}
}

// A rotated-out secret authenticates until its deadline, by the index's clock, and Why says
// which secret failed.
func TestIndexRotation(t *testing.T) {
	e := newIndexEnv(t)
	clock := t0
	e.index.WithClock(func() time.Time { return clock })
	newSecret, hash := NewSecret()
	deadline := t0.Add(time.Hour)
	if _, err := e.store.RotateCredentialSecret(e.ctx, e.id, hash, t0, deadline); err != nil {
		t.Fatal(err)
	}
	e.apply(t, e.id)
	other, _ := NewSecret()
	for _, c := range []struct {
		at     time.Time
		secret string
		ok     bool
		why    string
	}{
		{t0, e.secret, true, ""},
		{t0, newSecret, true, ""},
		{t0, other, false, FailWrongSecret},
		{deadline.Add(-time.Nanosecond), e.secret, true, ""},
		{deadline, e.secret, false, FailExpiredPrev},
		{deadline, newSecret, true, ""},
		{deadline, other, false, FailWrongSecret},
	} {
		clock = c.at
		if got, ok := e.index.Authenticate(e.id, c.secret); ok != c.ok || (ok && got.ID != e.id) {
			t.Errorf("at %v: Authenticate = %v, want %v", c.at.Sub(t0), ok, c.ok)
		}
		if got := e.index.Why(e.id, c.secret); got != c.why {
			t.Errorf("at %v: Why = %q, want %q", c.at.Sub(t0), got, c.why)
		}
	}
	// Retiring forgets the previous secret at once.
	clock = t0
	if _, err := e.store.RetirePreviousSecret(e.ctx, e.id, t0); err != nil {
		t.Fatal(err)
	}
	e.apply(t, e.id)
	if _, ok := e.index.Authenticate(e.id, e.secret); ok {
		t.Error("a retired secret authenticates")
	}
	if _, ok := e.index.Authenticate(e.id, newSecret); !ok {
		t.Error("the current secret stopped working when the previous one was retired")
	}
}

func TestMatchesEither(t *testing.T) {
	a, ha := NewSecret()
	b, hb := NewSecret()
	for _, c := range []struct {
		secret    string
		cur, prev bool
	}{{a, true, false}, {b, false, true}, {"x", false, false}, {"", false, false}} {
		if cur, prev := MatchesEither(ha, hb, c.secret); cur != c.cur || prev != c.prev {
			t.Errorf("MatchesEither(%q) = %v, %v", c.secret, cur, prev)
		}
	}
}

// BenchmarkAuthenticateRotating is Authenticate for a credential in the middle of a rotation
// (both secrets compared), next to BenchmarkAuthenticate.
func BenchmarkAuthenticateRotating(b *testing.B) {
	e := newIndexEnv(b)
	newSecret, hash := NewSecret()
	if _, err := e.store.RotateCredentialSecret(e.ctx, e.id, hash, t0, t0.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	if err := e.index.Apply(e.ctx, e.store, storage.Change{Kind: storage.KindCredential, Key: e.id}); err != nil {
		b.Fatal(err)
	}
	e.index.WithClock(func() time.Time { return t0 })
	for _, c := range []struct{ name, secret string }{{"current", newSecret}, {"previous", e.secret}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := e.index.Authenticate(e.id, c.secret); !ok {
					b.Fatal("refused")
				}
			}
		})
	}
}

// TestIndexOwnerInactive: a user's deactivation and reactivation reach the credentials it
// owns through the user's change, a credential appearing for an inactive owner carries it,
// and a reload keeps it.
func TestIndexOwnerInactive(t *testing.T) {
	e := newIndexEnv(t)
	ctx := e.ctx
	setActive := func(active bool) {
		t.Helper()
		u, err := e.store.GetUser(ctx, e.u)
		if err != nil {
			t.Fatal(err)
		}
		u.Inactive = !active
		if err := e.store.UpdateUser(ctx, u, 0); err != nil {
			t.Fatal(err)
		}
		if err := e.index.Apply(ctx, e.store, storage.Change{Kind: storage.KindUser, Key: e.u}); err != nil {
			t.Fatal(err)
		}
	}
	inactive := func(id string) bool {
		t.Helper()
		got, ok := e.index.Get(id)
		if !ok {
			t.Fatalf("credential %s unknown", id)
		}
		return got.OwnerInactive
	}
	if inactive(e.id) {
		t.Fatal("an active owner's credential reads inactive")
	}
	setActive(false)
	if !inactive(e.id) {
		t.Fatal("deactivation did not reach the owner's credential")
	}
	if _, ok := e.index.Authenticate(e.id, e.secret); !ok {
		t.Fatal("Authenticate must still match the secret: the token service refuses on OwnerInactive")
	}
	id2 := ids.New()
	_, hash := NewSecret()
	if err := e.store.CreateCredential(ctx, &storage.Credential{ID: id2, WorkspaceID: e.ws, OwnerID: e.u, Name: "two",
		SecretHash: hash, Generation: 1, CreatedAt: t0, UpdatedAt: t0}, DefaultMaxPerOwner); err != nil {
		t.Fatal(err)
	}
	e.apply(t, id2)
	if !inactive(id2) {
		t.Fatal("a credential made for an inactive owner reads active")
	}
	fresh := NewIndex()
	if err := fresh.Load(ctx, e.store); err != nil {
		t.Fatal(err)
	}
	if got, _ := fresh.Get(e.id); !got.OwnerInactive {
		t.Fatal("Load lost the owner's deactivation")
	}
	setActive(true)
	if inactive(e.id) || inactive(id2) {
		t.Fatal("reactivation did not reach the owner's credentials")
	}
	// A user change for a user owning nothing is applied without effect.
	if err := e.index.Apply(ctx, e.store, storage.Change{Kind: storage.KindUser, Key: ids.New()}); err != nil {
		t.Fatal(err)
	}
}
