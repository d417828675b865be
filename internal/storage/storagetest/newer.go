package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

// RefusesNewerSchema checks that a backend refuses a store a newer keyhold has migrated.
// open opens (creating the first time) the same store each time it is called; exec runs one
// statement on that database directly, without keyhold. A newer binary's migration, recorded
// as goose records it, makes the next open fail with sqlstore.ErrNewerStore; the refusal
// changes nothing, and once the record is gone the store opens with its data.
func RefusesNewerSchema(t *testing.T, open func() (*sqlstore.Store, error), exec func(query string) error) {
	t.Helper()
	ctx := context.Background()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	w := &storage.Workspace{ID: "0192f3a4-5b6c-7d8e-9fab-cdef01234567", Name: "kept", Type: storage.WorkspaceStandard, Generation: 1}
	mustNil(t, s.CreateWorkspace(ctx, w))
	s.Close()
	mustNil(t, exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`))
	if s, err := open(); !errors.Is(err, sqlstore.ErrNewerStore) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("a store migrated to version 99999 opened: %v", err)
	}
	mustNil(t, exec(`DELETE FROM goose_db_version WHERE version_id = 99999`))
	s, err = open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.GetWorkspace(ctx, w.ID); err != nil || got.Name != "kept" {
		t.Fatalf("after the refusal: %+v, %v", got, err)
	}
}
