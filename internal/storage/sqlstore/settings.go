package sqlstore

import (
	"context"
	"time"
)

// PutSetting creates or replaces a setting.
func (s *Store) PutSetting(ctx context.Context, name, value string, now time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, name, value, now)
	return err
}

// GetSetting returns a setting's value, or storage.ErrNotFound (translated from no rows).
func (s *Store) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	if err := s.queryRow(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v); err != nil {
		return "", s.translate(err)
	}
	return v, nil
}
