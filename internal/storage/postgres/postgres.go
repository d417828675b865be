package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
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
		Name:          "postgres",
		Goose:         "postgres",
		Migrations:    sub,
		Numbered:      true,
		LockChanges:   `SELECT seq FROM change_counter WHERE id = 1 FOR UPDATE`,
		ForUpdate:     " FOR UPDATE",
		IsUnique:      func(err error) bool { return sqlState(err) == "23505" },
		IsRetryable:   func(err error) bool { s := sqlState(err); return s == "40001" || s == "40P01" },
		IsUnavailable: isUnavailable,
		// The server answered the COMMIT (a PgError: a serialization failure, say) or the
		// client never sent it: a definite failure. Anything else broke the connection
		// with the COMMIT in flight.
		CommitUnknown: func(err error) bool {
			var pe *pgconn.PgError
			return !errors.As(err, &pe) && !errors.Is(err, sql.ErrTxDone) && !errors.Is(err, context.Canceled)
		},
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

// isUnavailable reports the errors of a database that cannot serve now: the connection cannot
// be made or broke, the server is shutting down or starting, has no connection slot left, or
// is a standby that cannot write (a failover in progress, or a connection string that reached
// the old primary after its demotion).
func isUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case pe.Code == "53300", pe.Code == "25006": // too many connections, read-only transaction
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	// SafeToRetry: pgx knows the statement was never sent (its connection was closed under
	// it, "conn closed").
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ConnectTimeout bounds one connection attempt (to each host of a multi-host URL) when the
// URL sets no connect_timeout: an unreachable server then fails requests in bounded time
// instead of after the operating system's TCP timeout.
const ConnectTimeout = 5 * time.Second

// Open connects to url (postgres://...), detects CockroachDB, and applies migrations.
func Open(ctx context.Context, url string) (*sqlstore.Store, error) {
	st, _, err := OpenMode(ctx, url, true)
	return st, err
}

// OpenMode is Open that, when create is false, refuses a database without keyhold's tables
// (sqlstore.ErrNoStore) instead of creating them; created reports whether this call found
// the database without them (and so created the store).
func OpenMode(ctx context.Context, url string, create bool) (st *sqlstore.Store, created bool, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, false, fmt.Errorf("--database: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = ConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
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
	// Connections are replaced now and then, so that after a failover (or a DNS change) the
	// pool ends up on the server the URL now designates even if no connection ever broke.
	db.SetConnMaxLifetime(30 * time.Minute)
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
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = ConnectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
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
