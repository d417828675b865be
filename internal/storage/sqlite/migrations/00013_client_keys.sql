-- +goose Up
-- private_key_jwt client authentication (RFC 7523; a keyhold extension): a credential may
-- register public keys, inline (jwks, a JSON Web Key Set) or by URL (jwks_uri); '' means
-- none. client_assertion_jtis remembers the jti of every assertion used until it expires, so
-- that an assertion replayed on any node is refused; expired rows are deleted as new ones come.
ALTER TABLE credentials ADD COLUMN jwks     TEXT NOT NULL DEFAULT '' CHECK (length(jwks) <= 32768);
ALTER TABLE credentials ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
CREATE TABLE client_assertion_jtis (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jtis_expiry ON client_assertion_jtis (expires_at);

-- +goose Down
DROP TABLE client_assertion_jtis;
ALTER TABLE credentials DROP COLUMN jwks_uri;
ALTER TABLE credentials DROP COLUMN jwks;
