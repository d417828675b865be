package sqlstore

import (
	"context"
	"database/sql"

	"github.com/keyhold/keyhold/internal/storage"
)

// ChangesSince reads change log entries after a sequence number.
func (s *Store) ChangesSince(ctx context.Context, after int64, limit int) ([]storage.Change, error) {
	rows, err := s.query(ctx, `SELECT seq, kind, key FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	return collect(rows, err, func(r *sql.Rows) (storage.Change, error) {
		var c storage.Change
		err := r.Scan(&c.Seq, &c.Kind, &c.Key)
		return c, err
	})
}

// LatestSeq reads the highest sequence number written.
func (s *Store) LatestSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	err := s.queryRow(ctx, `SELECT MAX(seq) FROM changes`).Scan(&seq)
	return seq.Int64, s.translate(err)
}
