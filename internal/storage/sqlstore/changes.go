package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// compactBatch bounds the rows one compaction statement deletes, so that compacting a long
// neglected log never holds a write lock (SQLite's database lock, PostgreSQL's row locks) for
// long.
const compactBatch = 10000

// ChangesSince reads change log entries after a sequence number.
func (s *Store) ChangesSince(ctx context.Context, after int64, limit int) ([]storage.Change, error) {
	rows, err := s.query(ctx, `SELECT seq, kind, key FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	return collect(rows, err, func(r *sql.Rows) (storage.Change, error) {
		var c storage.Change
		err := r.Scan(&c.Seq, &c.Kind, &c.Key)
		return c, err
	})
}

// LatestSeq reads the highest sequence number handed out. It reads the counter rather than the
// log, which compaction shortens.
func (s *Store) LatestSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.queryRow(ctx, `SELECT seq FROM change_counter WHERE id = 1`).Scan(&seq)
	return seq, s.translate(err)
}

// OldestSeq reads the lowest sequence number still in the log (0 when it is empty).
func (s *Store) OldestSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	err := s.queryRow(ctx, `SELECT MIN(seq) FROM changes`).Scan(&seq)
	return seq.Int64, s.translate(err)
}

// CompactChanges deletes the log's prefix written before cutoff (see storage.ChangeLog). The
// boundary is a sequence number, found once: the first entry written at or after cutoff, or
// the newest entry when every entry is older. Everything below it goes, in batches, each its
// own statement. Entry times come from the clocks of the nodes that wrote them, which may
// disagree; cutting by sequence number keeps the log a contiguous suffix all the same.
func (s *Store) CompactChanges(ctx context.Context, cutoff time.Time) (int64, error) {
	var bound sql.NullInt64
	err := s.queryRow(ctx, `SELECT COALESCE((SELECT MIN(seq) FROM changes WHERE at >= ?), (SELECT MAX(seq) FROM changes))`,
		cutoff).Scan(&bound)
	if err != nil || !bound.Valid {
		return 0, s.translate(err)
	}
	var deleted int64
	for {
		oldest, err := s.OldestSeq(ctx)
		if err != nil {
			return deleted, err
		}
		if oldest >= bound.Int64 {
			return deleted, nil
		}
		res, err := s.exec(ctx, `DELETE FROM changes WHERE seq < ?`, min(bound.Int64, oldest+compactBatch))
		if err != nil {
			return deleted, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return deleted, err
		}
		deleted += n
	}
}
