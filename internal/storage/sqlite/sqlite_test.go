package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
	"github.com/keyhold/keyhold/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "data"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storagetest.Options{})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	w := &storage.Workspace{ID: "0192f3a4-5b6c-7d8e-9fab-cdef01234567", Name: "kept", Type: storage.WorkspaceStandard, Generation: 1}
	if err := s.CreateWorkspace(ctx, w); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, dir) // migrations run again and must be a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.GetWorkspace(ctx, w.ID); err != nil || got.Name != "kept" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

// TestOddDataDirectory opens a store in a directory whose name holds URI delimiters.
func TestOddDataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%20d")
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatalf("the database is not where it was asked to be: %v", err)
	}
}

// TestRefusesNewerSchema: a store a newer keyhold migrated is refused (storagetest).
func TestRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	storagetest.RefusesNewerSchema(t, func() (*sqlstore.Store, error) { return Open(context.Background(), dir) },
		func(query string) error {
			db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName)))
			if err != nil {
				return err
			}
			defer db.Close()
			_, err = db.Exec(query)
			return err
		})
}
