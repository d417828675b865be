package sqlstore

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/storage"
)

// Group commit of client assertion and DPoP proof jtis.
//
// Every private_key_jwt assertion and every DPoP proof at the token endpoint records its jti
// once, durably, before a token is issued, so that a replay is refused on every node. One
// transaction per jti costs one commit (with SQLite, one fsync) per token, one at a time. So
// each Store has one committer goroutine: it takes the uses waiting at that moment (up to
// jtiMaxBatch), records them in ONE transaction whose statements report each row's own
// outcome, commits, and only then answers each caller. While it commits, the next uses queue
// up and form the next batch: under load a commit carries many jtis, idle it carries one.
//
// Replay protection and durability are those of one transaction per jti:
//   - No caller is answered before the commit that recorded its jti returned; a failed
//     transaction (or an unknown commit outcome) answers every caller of the batch with the
//     error, and the token endpoint refuses them all (503).
//   - The primary key (client_id, jti) decides, in the database, never state of this node:
//     a jti recorded by another node's commit conflicts here as well.
//   - Two uses of one (client, jti) in one batch: the first is recorded (or conflicts with a
//     stored row), every other one is ErrConflict.
//   - A caller whose context ends before the committer took its use gets ctx.Err() and the
//     jti is not recorded. Once taken, the use may be recorded even though its caller is
//     gone. Both are safe: a jti that was refused or never answered issued no token, and a
//     recorded one can only refuse a later use of the same jti, which is what a replay is.
//
// A row that expired is taken over by a new use (the jti may be used again after it expired,
// as before). One statement compares the stored expiry with the earliest `now` of its batch,
// so a row is taken over only when it expired at every caller's now: never sooner than a
// caller alone would take it over, at most a few milliseconds later.

// jtiMaxBatch bounds the uses one transaction records.
const jtiMaxBatch = 256

// jtiTxTimeout bounds a batch's transaction when the store has no SetTxTimeout bound, so that
// an unreachable database never holds the committer (and every caller queued behind it)
// forever. Callers' own contexts bound their waits in any case.
const jtiTxTimeout = 10 * time.Second

// assertionPruneEvery: about one use in this many also deletes the expired rows, which keeps
// the table to about the assertions of the last few minutes without a job of its own.
const assertionPruneEvery = 256

// ErrClosed is the cause of the error UseAssertionID returns once Close has begun (wrapped in
// apperr.StorageUnavailable: the token endpoint answers 503).
var ErrClosed = errors.New("the store is closed")

// A jti use's state: waiting in the queue, taken into a batch by the committer, or abandoned
// by its caller (whose context ended first). The one CompareAndSwap that leaves jtiWaiting
// decides whether the use is recorded.
const (
	jtiWaiting int32 = iota
	jtiTaken
	jtiAbandoned
)

type jtiUse struct {
	clientID, jti string
	expires, now  time.Time
	state         atomic.Int32
	done          chan error // buffered: the committer never blocks on a caller
}

type jtiKey struct{ clientID, jti string }

// jtiCommitter is a store's queue of jti uses and its committer goroutine.
type jtiCommitter struct {
	// mu is held shared while a caller sends on queue and exclusively by close, so that no
	// send can happen on a closed queue.
	mu      sync.RWMutex
	closed  bool
	start   sync.Once // starts the committer at the first use
	started bool      // set by start, read by close
	queue   chan *jtiUse
	stopped chan struct{} // closed when the committer has returned
	uses    uint64        // uses taken so far (committer goroutine only): when to prune
}

func newJTICommitter() *jtiCommitter {
	// Room for two batches: one committing, the next forming.
	return &jtiCommitter{queue: make(chan *jtiUse, 2*jtiMaxBatch), stopped: make(chan struct{})}
}

// UseAssertionID records (clientID, jti) unless a row for it has not expired at now; an
// expired row is taken over. It returns once the record is committed (see the group commit
// above); inside a transaction it is recorded, and committed, with that transaction.
func (s *Store) UseAssertionID(ctx context.Context, clientID, jti string, expires, now time.Time) error {
	u := &jtiUse{clientID: clientID, jti: jti, expires: expires, now: now, done: make(chan error, 1)}
	if s.inTx {
		errs, err := s.recordJTIs(ctx, []*jtiUse{u})
		if err != nil {
			return err
		}
		return errs[0]
	}
	return s.jtis.use(ctx, s, u)
}

func (c *jtiCommitter) use(ctx context.Context, s *Store, u *jtiUse) error {
	if err := ctx.Err(); err != nil {
		return s.translate(err)
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return apperr.StorageUnavailable(ErrClosed)
	}
	c.start.Do(func() { c.started = true; go c.run(s) })
	select {
	case c.queue <- u:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return s.translate(ctx.Err())
	}
	select {
	case err := <-u.done:
		return err
	case <-ctx.Done():
		if u.state.CompareAndSwap(jtiWaiting, jtiAbandoned) {
			return s.translate(ctx.Err()) // never recorded
		}
		// Taken: it may be recorded. Its answer, if already there, is the truer one.
		select {
		case err := <-u.done:
			return err
		default:
			return s.translate(ctx.Err())
		}
	}
}

// close stops taking uses, lets the committer record and answer those already queued, and
// waits for it to return. It is idempotent.
func (c *jtiCommitter) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.stopped
		return
	}
	c.closed = true
	close(c.queue)
	if !c.started {
		close(c.stopped)
	}
	c.mu.Unlock()
	<-c.stopped
}

// run is the committer: it returns when the queue is closed and drained.
func (c *jtiCommitter) run(s *Store) {
	defer close(c.stopped)
	batch := make([]*jtiUse, 0, jtiMaxBatch)
	for u := range c.queue {
		batch = append(batch[:0], u)
	fill:
		for len(batch) < jtiMaxBatch {
			select {
			case u, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, u)
			default:
				break fill
			}
		}
		c.commit(s, batch)
	}
}

// commit records one batch in one transaction and answers its callers after the commit.
func (c *jtiCommitter) commit(s *Store, batch []*jtiUse) {
	live := batch[:0]
	for _, u := range batch {
		if u.state.CompareAndSwap(jtiWaiting, jtiTaken) {
			live = append(live, u)
		}
	}
	if len(live) == 0 {
		return
	}
	timeout := s.txTimeout
	if timeout <= 0 {
		timeout = jtiTxTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	errs, err := s.recordJTIsTx(ctx, live)
	for i, u := range live {
		if err != nil {
			u.done <- err
		} else {
			u.done <- errs[i]
		}
	}
	prev := c.uses
	c.uses += uint64(len(live))
	if err == nil && prev/assertionPruneEvery != c.uses/assertionPruneEvery {
		// After the answers, in its own statement: a failure leaves expired rows for the next
		// prune and refuses no one.
		_, _ = s.exec(ctx, `DELETE FROM client_assertion_jtis WHERE expires_at <= ?`, earliestNow(live))
	}
}

// recordJTIsTx runs recordJTIs in a transaction of its own, retried on serialization
// failures and deadlocks (nothing was written then). It does not take the change log's lock:
// jtis are no change other nodes follow.
func (s *Store) recordJTIsTx(ctx context.Context, uses []*jtiUse) ([]error, error) {
	s.prepareJTIStatements(ctx, len(uses))
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		var errs []error
		errs, err = s.recordJTIsOnce(ctx, uses)
		if err == nil {
			return errs, nil
		}
		if s.d.IsRetryable == nil || !s.d.IsRetryable(err) {
			break
		}
	}
	return nil, err
}

func (s *Store) recordJTIsOnce(ctx context.Context, uses []*jtiUse) ([]error, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.translate(err)
	}
	inner := &Store{db: s.db, q: tx, tx: tx, d: s.d, inTx: true, stmts: s.stmts, jtis: s.jtis}
	errs, err := inner.recordJTIs(ctx, uses)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = tx.Rollback()
		return nil, s.translate(err)
	}
	if err := tx.Commit(); err != nil {
		if s.d.CommitUnknown != nil && s.d.CommitUnknown(err) {
			return nil, apperr.OutcomeUnknown(err)
		}
		return nil, s.translate(err)
	}
	return errs, nil
}

// recordJTIs upserts uses in the store's transaction and returns each use's outcome: nil
// (recorded) or storage.ErrConflict. The error is the statement's: none of the outcomes holds
// then.
func (s *Store) recordJTIs(ctx context.Context, uses []*jtiUse) ([]error, error) {
	out := make([]error, len(uses))
	first := make(map[jtiKey]bool, len(uses))
	rows := make([]*jtiUse, 0, len(uses))
	for i, u := range uses {
		k := jtiKey{u.clientID, u.jti}
		if first[k] {
			out[i] = storage.ErrConflict // the same jti earlier in this batch
			continue
		}
		first[k] = true
		rows = append(rows, u)
	}
	// Key order: transactions of several nodes lock rows in one order and cannot deadlock on
	// each other (and PostgreSQL refuses a statement that would upsert one key twice).
	slices.SortFunc(rows, func(a, b *jtiUse) int {
		return cmp.Or(strings.Compare(a.clientID, b.clientID), strings.Compare(a.jti, b.jti))
	})
	now := earliestNow(uses)
	recorded := make(map[jtiKey]bool, len(rows))
	for len(rows) > 0 {
		n := jtiChunk(len(rows))
		args := make([]any, 0, 3*n+1)
		for _, u := range rows[:n] {
			args = append(args, u.clientID, u.jti, u.expires)
		}
		args = append(args, now)
		res, err := s.query(ctx, jtiInsertSQL[n], args...)
		if err != nil {
			return nil, err
		}
		for res.Next() {
			var k jtiKey
			if err := res.Scan(&k.clientID, &k.jti); err != nil {
				res.Close()
				return nil, err
			}
			recorded[k] = true
		}
		err = res.Err()
		if cerr := res.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, s.translate(err)
		}
		rows = rows[n:]
	}
	for i, u := range uses {
		if out[i] == nil && !recorded[jtiKey{u.clientID, u.jti}] {
			out[i] = storage.ErrConflict
		}
	}
	return out, nil
}

// jtiChunk is the number of rows the next statement takes out of n: the largest power of
// two not above n (and jtiMaxBatch). Statements thus come in a few shapes only (9), which
// the prepared-statement caches (the store's, the driver's) keep.
func jtiChunk(n int) int {
	c := 1
	for c*2 <= n && c*2 <= jtiMaxBatch {
		c *= 2
	}
	return c
}

// jtiInsertSQL[n] records n uses (n a power of two up to jtiMaxBatch); its last parameter is
// the batch's now. RETURNING lists the rows inserted or taken over; a row whose stored jti has
// not expired is left as it is and not returned.
var jtiInsertSQL = func() map[int]string {
	m := map[int]string{}
	for n := 1; n <= jtiMaxBatch; n *= 2 {
		var b strings.Builder
		b.WriteString(`INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?)")
		}
		b.WriteString(` ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE client_assertion_jtis.expires_at <= ? RETURNING client_id, jti`)
		m[n] = b.String()
	}
	return m
}()

// prepareJTIStatements prepares, outside any transaction, the statements a batch of n uses
// needs (see stmtCache.stmt: statements are not prepared inside transactions).
func (s *Store) prepareJTIStatements(ctx context.Context, n int) {
	for n > 0 {
		c := jtiChunk(n)
		s.stmt(ctx, s.d.Rebind(jtiInsertSQL[c]))
		n -= c
	}
}

// earliestNow is the earliest now of uses: an expired row is taken over only when it expired
// at every caller's now.
func earliestNow(uses []*jtiUse) time.Time {
	now := uses[0].now
	for _, u := range uses[1:] {
		if u.now.Before(now) {
			now = u.now
		}
	}
	return now
}
