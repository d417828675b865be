package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
	"github.com/keyhold/keyhold/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := Open(context.Background(), pgtest.Database(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storagetest.Options{})
}

// TestConcurrentMigrations starts several stores on one empty database at once: the table
// lock lets exactly one migrate and the others find the schema in place.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.Database(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := Open(context.Background(), url)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestAssertionIDsAcrossNodes: two stores on one database (two keyhold nodes), each with its
// own committer, use the same jtis at once: each jti is recorded by exactly one of them (the
// primary key decides, not either node's state).
func TestAssertionIDsAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	var nodes [2]storage.Store
	for i := range nodes {
		s, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		nodes[i] = s
	}
	now := time.Now().UTC()
	const n = 100
	var wg sync.WaitGroup
	var wins [n]atomic.Int32
	for node := range nodes {
		for i := range n {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					switch err := nodes[node].UseAssertionID(ctx, "client", fmt.Sprintf("jti-%d", i), now.Add(time.Minute), now); {
					case err == nil:
						wins[i].Add(1)
					case !errors.Is(err, storage.ErrConflict):
						t.Errorf("node %d, jti-%d: %v", node, i, err)
					}
				}()
			}
		}
	}
	wg.Wait()
	for i := range wins {
		if w := wins[i].Load(); w != 1 {
			t.Fatalf("jti-%d was accepted %d times across two nodes, want once", i, w)
		}
	}
}

// TestRefusesNewerSchema: a database a newer keyhold migrated is refused (storagetest).
func TestRefusesNewerSchema(t *testing.T) {
	url := pgtest.Database(t)
	storagetest.RefusesNewerSchema(t, func() (*sqlstore.Store, error) { return Open(context.Background(), url) },
		func(query string) error {
			cfg, err := pgx.ParseConfig(url)
			if err != nil {
				return err
			}
			db := stdlib.OpenDB(*cfg)
			defer db.Close()
			_, err = db.Exec(query)
			return err
		})
}
