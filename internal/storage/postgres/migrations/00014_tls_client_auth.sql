-- +goose Up
-- Mutual-TLS client authentication (RFC 8705; a keyhold extension). tls_subject_dn: the
-- subject DN a CA-issued client certificate must carry (tls_client_auth); tls_thumbprints:
-- the base64url SHA-256 thumbprints of the self-signed certificates the client may present
-- (self_signed_tls_client_auth), separated by spaces. '' means none.
ALTER TABLE credentials ADD COLUMN tls_subject_dn  TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN tls_thumbprints TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE credentials DROP COLUMN tls_thumbprints;
ALTER TABLE credentials DROP COLUMN tls_subject_dn;
