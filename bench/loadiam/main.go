// Command loadiam bulk-loads keyhold's IAM benchmark data set (package iamload: by default
// 10,000 workspaces and 1,000,000 role assignments) into the SQLite store of a keyhold data
// directory, which keyhold must not be serving at the time: the load writes no change log
// entries, so a node picks the data up when it starts. It prints one JSON line of figures.
//
//	go run ./loadiam -data-dir /path/to/keyhold-data [-workspaces 10000]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/keyhold/keyhold/internal/iamload"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage/postgres"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

func main() {
	dataDir := flag.String("data-dir", "", "keyhold data directory (SQLite store)")
	database := flag.String("database", "", "PostgreSQL URL to load instead of a SQLite data directory")
	workspaces := flag.Int("workspaces", iamload.Default.Workspaces, "workspaces to load (100 assignments each)")
	perTx := flag.Int("per-tx", iamload.Default.WorkspacesPerTx, "workspaces per transaction")
	flag.Parse()
	if err := run(*dataDir, *database, *workspaces, *perTx); err != nil {
		fmt.Fprintln(os.Stderr, "loadiam:", err)
		os.Exit(1)
	}
}

func run(dataDir, database string, workspaces, perTx int) error {
	if (dataDir == "") == (database == "") || workspaces < 1 || perTx < 1 {
		return fmt.Errorf("one of -data-dir and -database is required; -workspaces and -per-tx must be positive")
	}
	ctx := context.Background()
	st, dialect, err := open(ctx, dataDir, database)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	if err := rbac.EnsureBuiltins(ctx, st, now); err != nil {
		return err
	}
	shape := iamload.Default
	shape.Workspaces, shape.WorkspacesPerTx = workspaces, perTx
	stats, err := iamload.Load(ctx, st, dialect, shape, now)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"workspaces": stats.Workspaces, "assignments": stats.Assignments,
		"users": stats.Users, "seconds": stats.Elapsed.Seconds()})
}

func open(ctx context.Context, dataDir, database string) (*sqlstore.Store, *sqlstore.Dialect, error) {
	if database != "" {
		st, err := postgres.Open(ctx, database)
		return st, postgres.Dialect(false), err
	}
	st, err := sqlite.Open(ctx, dataDir)
	return st, sqlite.Dialect(), err
}
