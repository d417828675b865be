-- +goose Up
-- A user's preferences (PUT /identity/v1/users/{id}): the session idle timeout in seconds and
-- the preferred language; 0 and '' mean "not set" (the API serves its defaults).
-- A credential's provision reference as the client gave it (its API version, v1 or v1beta1,
-- and its id's spelling), served back unchanged; '' for none, or for credentials made before
-- this column (served in the canonical /v1/ form).
ALTER TABLE users ADD COLUMN idle_timeout INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN language     TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN provision_uri TEXT NOT NULL DEFAULT '' CHECK (length(provision_uri) <= 200);

-- +goose Down
ALTER TABLE credentials DROP COLUMN provision_uri;
ALTER TABLE users DROP COLUMN language;
ALTER TABLE users DROP COLUMN idle_timeout;
