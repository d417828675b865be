-- +goose Up
-- Per-credential token settings (a keyhold extension): token_ttl_seconds, when not 0, is the
-- lifetime of the credential's tokens (the server's --token-ttl still caps it);
-- token_audiences is a JSON array of the resource URIs (RFC 8707) its tokens may be issued
-- for, '' for none.
ALTER TABLE credentials ADD COLUMN token_ttl_seconds INTEGER NOT NULL DEFAULT 0 CHECK (token_ttl_seconds >= 0);
ALTER TABLE credentials ADD COLUMN token_audiences   TEXT    NOT NULL DEFAULT '' CHECK (length(token_audiences) <= 16384);

-- +goose Down
ALTER TABLE credentials DROP COLUMN token_audiences;
ALTER TABLE credentials DROP COLUMN token_ttl_seconds;
