package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Channel is the LISTEN/NOTIFY channel on which commits announce change log entries.
const Channel = "keyhold_changes"

// Dialect is PostgreSQL's sqlstore dialect; notify adds the LISTEN/NOTIFY fast path.
func Dialect(notify bool) *sqlstore.Dialect {
	sub, _ := fs.Sub(migrations, "migrations")
	d := &sqlstore.Dialect{
		Name:        "postgres",
		Goose:       "postgres",
		Migrations:  sub,
		Numbered:    true,
		LockChanges: `SELECT seq FROM change_counter WHERE id = 1 FOR UPDATE`,
		IsUnique:    func(err error) bool { return sqlState(err) == "23505" },
		IsRetryable: func(err error) bool { s := sqlState(err); return s == "40001" || s == "40P01" },
	}
	if notify {
		d.Notify = `SELECT pg_notify('` + Channel + `', '')`
	}
	return d
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// Open connects to url (postgres://...), detects CockroachDB, and applies migrations.
func Open(ctx context.Context, url string) (*sqlstore.Store, error) {
	st, _, err := OpenMode(ctx, url, true)
	return st, err
}

// OpenMode is Open that, when create is false, refuses a database without keyhold's tables
// (sqlstore.ErrNoStore) instead of creating them; created reports whether this call found
// the database without them (and so created the store).
func OpenMode(ctx context.Context, url string, create bool) (st *sqlstore.Store, created bool, err error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, false, err
	}
	if st, created, err = open(ctx, db, create); err != nil {
		db.Close()
		return nil, false, err
	}
	return st, created, nil
}

func open(ctx context.Context, db *sql.DB, create bool) (*sqlstore.Store, bool, error) {
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		return nil, false, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	var version string
	if err := db.QueryRowContext(ctx, `SELECT version()`).Scan(&version); err != nil {
		return nil, false, err
	}
	// The change counter is the first migration's; a database without it holds no store.
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('change_counter') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, false, err
	}
	if !exists && !create {
		return nil, false, sqlstore.ErrNoStore
	}
	st := sqlstore.New(db, Dialect(!strings.Contains(version, "CockroachDB")))
	locker, err := lock.NewPostgresTableLocker(lock.WithTableName("keyhold_migration_lock"),
		lock.WithTableLockTimeout(500*time.Millisecond, 600))
	if err != nil {
		return nil, false, err
	}
	if err := st.Migrate(ctx, goose.WithLocker(locker)); err != nil {
		return nil, false, err
	}
	return st, !exists, nil
}

// Listen wakes the change feed whenever a commit on any node announces a change, until ctx
// ends. It reconnects after failures; while it is down the feed still polls.
func Listen(ctx context.Context, url string, wake chan<- struct{}, log *slog.Logger) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, wake)
		if ctx.Err() != nil {
			return
		}
		log.Warn("LISTEN connection lost; polling continues meanwhile", "error", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func listenOnce(ctx context.Context, url string, wake chan<- struct{}) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		select {
		case wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}
