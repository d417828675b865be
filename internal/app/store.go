package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/keyhold/keyhold/internal/storage/postgres"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

// OpenStore opens the PostgreSQL store at database when it is set, and the embedded SQLite
// store in dataDir otherwise, creating it when there is none. Migrations run before it
// returns. Only serve creates stores; every other command uses OpenExistingStore.
func OpenStore(ctx context.Context, database, dataDir string) (*sqlstore.Store, error) {
	st, _, err := openStore(ctx, database, dataDir, true)
	return st, err
}

// OpenExistingStore is OpenStore that refuses, naming the location and the flag, a location
// that holds no store (a mistyped --data-dir, an empty database) instead of creating one.
func OpenExistingStore(ctx context.Context, database, dataDir string) (*sqlstore.Store, error) {
	st, _, err := openStore(ctx, database, dataDir, false)
	return st, err
}

// openStore opens or (with create) creates the store; created reports a new store.
func openStore(ctx context.Context, database, dataDir string, create bool) (st *sqlstore.Store, created bool, err error) {
	if database == "" {
		st, created, err = sqlite.OpenMode(ctx, dataDir, create)
		if errors.Is(err, sqlstore.ErrNoStore) {
			return nil, false, fmt.Errorf("no keyhold store in %s (--data-dir, KEYHOLD_DATA_DIR): check the path; only `keyhold serve` creates a store",
				absPath(dataDir))
		}
		if errors.Is(err, sqlstore.ErrNewerStore) {
			return nil, false, fmt.Errorf("the store in %s: %w", absPath(dataDir), err)
		}
		return st, created, err
	}
	if !strings.HasPrefix(database, "postgres://") && !strings.HasPrefix(database, "postgresql://") {
		return nil, false, fmt.Errorf("--database: expected a postgres:// or postgresql:// URL")
	}
	st, created, err = postgres.OpenMode(ctx, database, create)
	if errors.Is(err, sqlstore.ErrNoStore) {
		return nil, false, fmt.Errorf("the database %s holds no keyhold store (--database, KEYHOLD_DATABASE): check the URL; only `keyhold serve` creates a store",
			redactURL(database))
	}
	if errors.Is(err, sqlstore.ErrNewerStore) {
		return nil, false, fmt.Errorf("the database %s: %w", redactURL(database), err)
	}
	return st, created, err
}

// storeLocation names the store for logs: the SQLite directory, or the database URL
// without its password.
func storeLocation(database, dataDir string) string {
	if database == "" {
		return absPath(dataDir)
	}
	return redactURL(database)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// redactURL hides the password of a database URL; an unparsable URL is not shown at all,
// since where its password starts is unknown.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(the URL given)"
	}
	return u.Redacted()
}
