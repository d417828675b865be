-- +goose Up
-- SCIM (RFC 7643) attributes beyond the profile of 00005. A user's display_name and
-- country_code are its SCIM displayName and GreenLake countryCode; source is who manages
-- its lifecycle ('Local': keyhold's own API, 'SCIM': an identity provider through SCIM).
-- A user group gains the identity provider's externalId and the same source.
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN country_code TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN source       TEXT NOT NULL DEFAULT 'Local';
ALTER TABLE user_groups ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE user_groups ADD COLUMN source      TEXT NOT NULL DEFAULT 'Local';
CREATE INDEX user_groups_external_id ON user_groups (workspace_id, external_id);

-- +goose Down
DROP INDEX user_groups_external_id;
ALTER TABLE user_groups DROP COLUMN source;
ALTER TABLE user_groups DROP COLUMN external_id;
ALTER TABLE users DROP COLUMN source;
ALTER TABLE users DROP COLUMN country_code;
ALTER TABLE users DROP COLUMN display_name;
