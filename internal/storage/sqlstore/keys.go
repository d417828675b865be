package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

const keyCols = `kid, algorithm, private_key, created_at, retire_at`

// CreateSigningKey inserts a signing key.
func (s *Store) CreateSigningKey(ctx context.Context, k *storage.SigningKey) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO signing_keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?)`,
			k.KID, k.Algorithm, k.PrivateKey, k.CreatedAt, k.RetireAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindSigningKey, k.KID)
	})
}

// ListSigningKeys reads every key, newest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	rows, err := s.query(ctx, `SELECT `+keyCols+` FROM signing_keys ORDER BY created_at DESC, kid`)
	return collect(rows, err, func(r *sql.Rows) (storage.SigningKey, error) {
		var k storage.SigningKey
		err := r.Scan(&k.KID, &k.Algorithm, &k.PrivateKey, timeField{&k.CreatedAt}, timeField{&k.RetireAt})
		return k, err
	})
}

// RetireSigningKeys schedules the retirement of every active key but keep.
func (s *Store) RetireSigningKeys(ctx context.Context, keep string, retireAt time.Time) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `UPDATE signing_keys SET retire_at = ? WHERE retire_at = '' AND kid <> ?`, retireAt, keep); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindSigningKey, "*")
	})
}

// DeleteRetiredKeys removes keys past their retirement.
func (s *Store) DeleteRetiredKeys(ctx context.Context, now time.Time) error {
	return s.write(ctx, func(s *Store) error {
		res, err := s.exec(ctx, `DELETE FROM signing_keys WHERE retire_at <> '' AND retire_at <= ?`, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.logChange(ctx, storage.KindSigningKey, "*")
	})
}
