-- +goose Up
-- Secret rotation with an overlap window (a keyhold extension): a rotation keeps the secret it
-- replaces as prev_secret_hash, which authenticates until prev_secret_expires_at. An empty
-- hash means none. secret_created_at is when the current secret was made ('' for secrets
-- made before this migration: the credential's created_at or last reset).
ALTER TABLE credentials ADD COLUMN prev_secret_hash       BYTEA NOT NULL DEFAULT ''::bytea;
ALTER TABLE credentials ADD COLUMN prev_secret_expires_at TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN secret_created_at      TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE credentials DROP COLUMN secret_created_at;
ALTER TABLE credentials DROP COLUMN prev_secret_expires_at;
ALTER TABLE credentials DROP COLUMN prev_secret_hash;
