package identity_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/keyhold/keyhold/internal/heapstat"
	"github.com/keyhold/keyhold/internal/iamload"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
)

// BenchmarkDirectoryFind loads the users of the IAM data set (iamload: 35 per workspace,
// 350,000 for the default 10,000 workspaces; KEYHOLD_BENCH_WORKSPACES asks for another
// number) into a Directory the way a node starts, reports the directory's live heap, its heap
// objects and what a forced GC costs with it live, then measures Find by id. Run it with
//
//	KEYHOLD_BENCH_WORKSPACES=3000 go test ./internal/identity -run '^$' -bench DirectoryFind -benchmem
func BenchmarkDirectoryFind(b *testing.B) {
	once.Do(func() { benchDir = loadDirectory(b) })
	if benchDir.d == nil {
		b.Skip("loading failed")
	}
	d, shape := benchDir.d, benchDir.shape
	keys := make([]string, 1024)
	wss := make([]string, len(keys))
	for i := range keys {
		w := (i * 7919) % shape.Workspaces
		keys[i], wss[i] = iamload.ID(iamload.KindUser, w, i%shape.Users), iamload.ID(iamload.KindWorkspace, w, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(keys)
		if _, res := d.Find(keys[k], wss[k]); res != identity.Found {
			b.Fatalf("Find(%s, %s) = %d", keys[k], wss[k], res)
		}
	}
}

// The directory of BenchmarkDirectoryFind, loaded once for all its rounds.
var (
	once     sync.Once
	benchDir struct {
		d     *identity.Directory
		shape iamload.Shape
	}
)

func loadDirectory(b *testing.B) (r struct {
	d     *identity.Directory
	shape iamload.Shape
}) {
	shape, err := iamload.ShapeFromEnv()
	must(b, err)
	ctx := context.Background()
	st, err := sqlite.OpenFile(ctx, filepath.Join(b.TempDir(), "k.db"))
	must(b, err)
	defer st.Close()
	must(b, rbac.EnsureBuiltins(ctx, st, t0))
	stats, err := iamload.Load(ctx, st, sqlite.Dialect(), shape, t0)
	must(b, err)
	heap0, objects0 := heapstat.Live()
	d := identity.NewDirectory()
	must(b, d.Load(ctx, st))
	heap1, objects1 := heapstat.Live()
	b.Logf("%d users: directory heap %.0f MiB (%.0f bytes per user) in %d objects; a full GC with it live takes %v",
		stats.Users, float64(heap1-heap0)/(1<<20), float64(heap1-heap0)/float64(stats.Users), objects1-objects0, heapstat.GCTime())
	r.d, r.shape = d, shape
	return r
}

// BenchmarkProfileProperties measures what a decision that reaches a condition now pays to
// see the user's properties (the directory used to keep them made, one map per user).
func BenchmarkProfileProperties(b *testing.B) {
	for _, attrs := range []string{"", `{"department":"science","level":3}`} {
		name := "no attributes"
		if attrs != "" {
			name = "two attributes"
		}
		b.Run(name, func(b *testing.B) {
			s, err := sqlite.OpenFile(context.Background(), filepath.Join(b.TempDir(), "k.db"))
			must(b, err)
			defer s.Close()
			ws := addWorkspace(b, s)
			u := addUser(b, s, "rick@the-citadel.com", ws)
			u.Attributes, u.FirstName, u.LastName = attrs, "Rick", "Sanchez"
			must(b, s.UpdateUser(context.Background(), u, 0))
			d := identity.NewDirectory()
			must(b, d.Load(context.Background(), s))
			p, ok := d.Get(u.ID)
			if !ok {
				b.Fatal("not loaded")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if len(p.Properties()) < 6 {
					b.Fatal("properties missing")
				}
			}
		})
	}
}
