package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/keyhold/keyhold/internal/storage/postgres"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

// OpenStore opens the PostgreSQL store at database when it is set, and the embedded SQLite
// store in dataDir otherwise. Migrations run before it returns.
func OpenStore(ctx context.Context, database, dataDir string) (*sqlstore.Store, error) {
	if database == "" {
		return sqlite.Open(ctx, dataDir)
	}
	if !strings.HasPrefix(database, "postgres://") && !strings.HasPrefix(database, "postgresql://") {
		return nil, fmt.Errorf("--database: expected a postgres:// or postgresql:// URL")
	}
	return postgres.Open(ctx, database)
}
