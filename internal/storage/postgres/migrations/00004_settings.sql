-- +goose Up
-- Settings the running service records for the operator commands, such as the public base
-- URL (issuers printed by `keyhold workspace create` must be the server's).
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
