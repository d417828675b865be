package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// RevokeToken records a revoked token id; revoking twice is a no-op.
func (s *Store) RevokeToken(ctx context.Context, t storage.RevokedToken) error {
	return s.write(ctx, func(s *Store) error {
		res, err := s.exec(ctx, `INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING`,
			t.JTI, t.ExpiresAt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.logChange(ctx, storage.KindRevocation, t.JTI)
	})
}

// GetRevokedToken reads one revocation.
func (s *Store) GetRevokedToken(ctx context.Context, jti string) (*storage.RevokedToken, error) {
	var t storage.RevokedToken
	err := s.queryRow(ctx, `SELECT jti, expires_at FROM revoked_tokens WHERE jti = ?`, jti).
		Scan(&t.JTI, timeField{&t.ExpiresAt})
	if err != nil {
		return nil, s.translate(err)
	}
	return &t, nil
}

// ListRevokedTokens reads the revocations still relevant at now.
func (s *Store) ListRevokedTokens(ctx context.Context, now time.Time) ([]storage.RevokedToken, error) {
	rows, err := s.query(ctx, `SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > ?`, now)
	return collect(rows, err, func(r *sql.Rows) (storage.RevokedToken, error) {
		var t storage.RevokedToken
		err := r.Scan(&t.JTI, timeField{&t.ExpiresAt})
		return t, err
	})
}

// DeleteExpiredRevocations forgets revocations of tokens that have expired anyway.
func (s *Store) DeleteExpiredRevocations(ctx context.Context, now time.Time) error {
	_, err := s.exec(ctx, `DELETE FROM revoked_tokens WHERE expires_at <= ?`, now)
	return err
}
