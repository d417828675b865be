package postgres

import (
	"context"
	"testing"

	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
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
