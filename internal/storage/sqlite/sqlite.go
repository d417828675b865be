package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "keyhold.db"

// Dialect is SQLite's sqlstore dialect.
func Dialect() *sqlstore.Dialect {
	sub, _ := fs.Sub(migrations, "migrations")
	return &sqlstore.Dialect{
		Name:          "sqlite",
		Goose:         "sqlite3",
		Migrations:    sub,
		IsUnique:      isUnique,
		IsRetryable:   isBusy,
		IsUnavailable: isUnavailable,
	}
}

// Open opens (creating if needed) the store in dataDir and applies migrations.
func Open(ctx context.Context, dataDir string) (*sqlstore.Store, error) {
	st, _, err := OpenMode(ctx, dataDir, true)
	return st, err
}

// OpenMode opens the store in dataDir and applies migrations. When create is false and
// dataDir holds no store, it returns sqlstore.ErrNoStore and creates nothing (no directory,
// no file); created reports whether this call made a new store.
func OpenMode(ctx context.Context, dataDir string, create bool) (st *sqlstore.Store, created bool, err error) {
	path := filepath.Join(dataDir, FileName)
	switch _, err := os.Stat(path); {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && create:
		created = true
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, sqlstore.ErrNoStore
	default:
		return nil, false, fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(dataDir, DirMode); err != nil {
		return nil, false, fmt.Errorf("data directory: %w", err)
	}
	if _, err := Tighten(dataDir); err != nil {
		return nil, false, fmt.Errorf("data directory: %w", err)
	}
	if created {
		if err := createPrivate(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, false, fmt.Errorf("data directory: %w", err)
		}
	}
	st, err = OpenFile(ctx, path)
	return st, created, err
}

// OpenFile opens the store in one database file and applies migrations.
func OpenFile(ctx context.Context, path string) (*sqlstore.Store, error) {
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	st := sqlstore.New(db, Dialect())
	if err := st.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return st, nil
}

func dsn(path string) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// The path is part of a URI: characters that would end or escape it are percent-encoded.
	return "file:" + uriPath.Replace(path) + "?" + q.Encode()
}

var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

func code(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := code(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isBusy(err error) bool {
	c := code(err) & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// isUnavailable reports the failures of the disk under the store: SQLITE_FULL (no space
// left for the database, its journal or WAL) and SQLITE_IOERR with its extended codes (a
// failed read, write or fsync). SQLite rolls the statement or transaction back; the store
// is intact, and the write may succeed once the disk has room again.
func isUnavailable(err error) bool {
	c := code(err) & 0xff
	return c == sqlite3.SQLITE_FULL || c == sqlite3.SQLITE_IOERR
}

// Backup writes a consistent copy of the live database to path (which must not exist) with
// VACUUM INTO: it reads one snapshot while writers go on, and the copy is a complete,
// compacted database file. The copy holds what the store holds (signing keys, secret
// hashes): it is created 0600, before anything is written to it.
func Backup(ctx context.Context, db *sql.DB, path string) error {
	if err := createPrivate(path); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("backup: %s already exists", path)
	} else if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO writes into an empty file; it keeps the file's mode.
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return err
	}
	return os.Chmod(path, FileMode)
}
