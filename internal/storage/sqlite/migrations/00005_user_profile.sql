-- +goose Up
-- A user's profile (identity API, SCIM) and the attributes access conditions read.
-- external_id is the identifier an identity provider keeps for the user; it is indexed for
-- lookups but not unique: several providers may name different users alike, so uniqueness
-- is a rule of whoever provisions (SCIM), not of the platform. attributes is a JSON object
-- (text, bounded by the CHECK as a last line behind the domain's own limit). last_login is
-- written in batches off the token path, without a change-log entry; '' means never.
ALTER TABLE users ADD COLUMN first_name  TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name   TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN active      BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN attributes  TEXT NOT NULL DEFAULT '{}' CHECK (length(attributes) <= 16384);
ALTER TABLE users ADD COLUMN last_login  TEXT NOT NULL DEFAULT '';
CREATE INDEX users_external_id ON users (external_id);

-- +goose Down
DROP INDEX users_external_id;
ALTER TABLE users DROP COLUMN last_login;
ALTER TABLE users DROP COLUMN attributes;
ALTER TABLE users DROP COLUMN active;
ALTER TABLE users DROP COLUMN external_id;
ALTER TABLE users DROP COLUMN last_name;
ALTER TABLE users DROP COLUMN first_name;
