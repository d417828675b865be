package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/storage"
)

// timeFormat is fixed-width so that text order is time order on every engine.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// maxTxAttempts bounds retries of a transaction that failed with a serialization error.
const maxTxAttempts = 5

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store implements storage.Store over database/sql.
type Store struct {
	db   *sql.DB
	q    querier
	tx   *sql.Tx // set inside WithTx
	d    *Dialect
	inTx bool
	// txs is the open transaction's state (inside WithTx): the changes it logged, for its
	// audit record.
	txs   *txState
	stmts *stmtCache
	// txTimeout, when set, bounds every transaction that WithTx runs (see SetTxTimeout).
	txTimeout time.Duration
	// jtis is the group committer of UseAssertionID (jtis.go), shared by the store's copies.
	jtis *jtiCommitter
}

// SetTxTimeout bounds every transaction WithTx runs, retries included, to d (unless the
// caller's context ends sooner), so that a write never waits on an unreachable database for
// longer: it then fails with storage.ErrUnavailable. Zero: no bound but the caller's. Call it
// before the store is shared.
func (s *Store) SetTxTimeout(d time.Duration) { s.txTimeout = d }

var _ storage.Store = (*Store)(nil)

// ErrNoStore is returned by the backends' open functions, when asked not to create a store,
// for a location that holds none (a missing SQLite file, a database without keyhold's tables).
var ErrNoStore = errors.New("no keyhold store there")

// New wraps an open database. Call Migrate before use.
func New(db *sql.DB, d *Dialect) *Store {
	return &Store{db: db, q: db, d: d, stmts: &stmtCache{m: map[string]*sql.Stmt{}}, jtis: newJTICommitter()}
}

// ErrNewerStore is returned by Migrate (and so by the backends' open functions) for a store
// that a newer keyhold has migrated: this binary would ignore what the newer schema records
// (a credential's scopes or required client certificate, say) and so grant more than the
// store says. Run that version or a newer one; going back is not supported.
var ErrNewerStore = errors.New("the store was migrated by a newer keyhold")

// Migrate applies the dialect's embedded migrations that are not applied yet. Migration
// numbers are reserved per change in progress, so one may land after a higher one a store
// has already applied: such a missing lower one is applied too, rather than refused. A store
// that has applied a migration beyond this binary's last is refused (ErrNewerStore).
func (s *Store) Migrate(ctx context.Context, opts ...goose.ProviderOption) error {
	opts = append([]goose.ProviderOption{goose.WithAllowOutofOrder(true)}, opts...)
	p, err := goose.NewProvider(goose.Dialect(s.d.Goose), s.db, s.d.Migrations, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	applied, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if known := lastSource(p); applied > known {
		return fmt.Errorf("%w (schema version %d; this binary knows versions up to %d): run that version or a newer one",
			ErrNewerStore, applied, known)
	}
	return nil
}

// lastSource is the highest migration version p knows (0 with none).
func lastSource(p *goose.Provider) int64 {
	src := p.ListSources()
	if len(src) == 0 {
		return 0
	}
	return src[len(src)-1].Version
}

// DB exposes the underlying pool to the backend that opened it.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database, after the jti uses already queued are recorded and answered
// (later ones fail with ErrClosed).
func (s *Store) Close() error {
	s.jtis.close()
	s.stmts.close()
	return s.db.Close()
}

// WithTx runs fn in a transaction, retrying it on serialization failures.
func (s *Store) WithTx(ctx context.Context, fn func(storage.Store) error) error {
	if s.inTx {
		return fn(s)
	}
	if s.txTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.txTimeout)
		defer cancel()
	}
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		err = s.runTx(ctx, fn)
		if err == nil || s.d.IsRetryable == nil || !s.d.IsRetryable(err) {
			return err
		}
	}
	return err
}

func (s *Store) runTx(ctx context.Context, fn func(storage.Store) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.translate(err)
	}
	state := &txState{actor: storage.AuditFrom(ctx)}
	if state.actor != nil {
		state.wantKind = state.actor.TargetKind
	}
	inner := &Store{db: s.db, q: tx, tx: tx, d: s.d, inTx: true, txs: state, stmts: s.stmts, jtis: s.jtis}
	if s.d.LockChanges != "" {
		// Take the change log's lock before anything else, so that writers queue in one order
		// and never deadlock on it while holding other rows.
		if _, err := inner.exec(ctx, s.d.LockChanges); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	err = fn(inner)
	if err == nil {
		// The write's audit record commits with it, or neither does.
		err = inner.appendActorRecord(ctx, state)
	}
	if err != nil {
		_ = tx.Rollback()
		// fn may return a driver error that no exec translated (a Scan of a row, say): a
		// connection lost mid-transaction must still be a 503, never a 500.
		return s.translate(err)
	}
	if ctx.Err() != nil {
		// Out of time before the commit was sent: database/sql rolls back; nothing was written.
		_ = tx.Rollback()
		return s.translate(ctx.Err())
	}
	if err := tx.Commit(); err != nil {
		if s.d.CommitUnknown != nil && s.d.CommitUnknown(err) {
			return apperr.OutcomeUnknown(err)
		}
		return s.translate(err)
	}
	if state.record != nil {
		state.actor.MarkRecorded(state.record)
	}
	return nil
}

// write runs fn in a transaction unless one is already open, so that a record and its change
// log entry are committed together.
func (s *Store) write(ctx context.Context, fn func(*Store) error) error {
	return s.WithTx(ctx, func(st storage.Store) error { return fn(st.(*Store)) })
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q := s.d.Rebind(query)
	if st, ok := s.stmt(ctx, q); ok {
		res, err := st.ExecContext(ctx, encodeArgs(args)...)
		return res, s.translate(err)
	}
	res, err := s.q.ExecContext(ctx, q, encodeArgs(args)...)
	return res, s.translate(err)
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q := s.d.Rebind(query)
	if st, ok := s.stmt(ctx, q); ok {
		rows, err := st.QueryContext(ctx, encodeArgs(args)...)
		return rows, s.translate(err)
	}
	rows, err := s.q.QueryContext(ctx, q, encodeArgs(args)...)
	return rows, s.translate(err)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	q := s.d.Rebind(query)
	if st, ok := s.stmt(ctx, q); ok {
		return st.QueryRowContext(ctx, encodeArgs(args)...)
	}
	return s.q.QueryRowContext(ctx, q, encodeArgs(args)...)
}

// mustAffect turns "no row changed" into ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// translate maps driver errors to storage sentinels and a store that cannot serve to
// apperr.StorageUnavailable; other errors pass through.
func (s *Store) translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return storage.ErrNotFound
	case s.d.IsUnique != nil && s.d.IsUnique(err):
		return fmt.Errorf("%w: %v", storage.ErrConflict, err)
	case apperr.Is(err, apperr.Unavailable):
		return err
	case errors.Is(err, context.DeadlineExceeded), s.d.IsUnavailable != nil && s.d.IsUnavailable(err):
		return apperr.StorageUnavailable(err)
	}
	return err
}

// logChange appends to the change log; it must run inside the write's transaction. The
// sequence number comes from the counter row, which stays locked until commit, so numbers are
// handed out in commit order.
func (s *Store) logChange(ctx context.Context, kind, key string) error {
	var seq int64
	if err := s.queryRow(ctx, `UPDATE change_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq`).Scan(&seq); err != nil {
		return s.translate(err)
	}
	if _, err := s.exec(ctx, `INSERT INTO changes (seq, kind, key, at) VALUES (?, ?, ?, ?)`,
		seq, kind, key, time.Now().UTC()); err != nil {
		return err
	}
	s.txs.noteChange(kind, key)
	if s.d.Notify != "" {
		_, err := s.exec(ctx, s.d.Notify)
		return err
	}
	return nil
}

func encodeArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = formatTime(v)
		case []byte:
			if v == nil {
				args[i] = []byte{}
			}
		}
	}
	return args
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// timeField scans a stored time; the empty string is the zero time.
type timeField struct{ t *time.Time }

func (f timeField) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
		*f.t = time.Time{}
		return nil
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as time", src)
	}
	if s == "" {
		*f.t = time.Time{}
		return nil
	}
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return fmt.Errorf("sqlstore: bad stored time %q: %w", s, err)
	}
	*f.t = t
	return nil
}

// nullable stores "" as NULL (for optional references) and reads NULL back as "".
type nullable struct{ s *string }

func (n nullable) Scan(src any) error {
	var ns sql.NullString
	if err := ns.Scan(src); err != nil {
		return err
	}
	*n.s = ns.String
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
