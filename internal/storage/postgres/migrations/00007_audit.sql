-- +goose Up
-- The audit log: one hash chain per workspace (chain = the workspace id; '' is the platform
-- chain). seq numbers a chain's records from 1 without gaps; hash = SHA-256 over the record's
-- canonical encoding and prev_hash (storage.AuditHash). Records are appended in the
-- transaction of the write they describe.
CREATE TABLE audit_records (
    id            TEXT PRIMARY KEY,
    chain         TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    at            TEXT NOT NULL,
    category      TEXT NOT NULL,
    action        TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    principal     TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    username      TEXT NOT NULL,
    source_addr   TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    target_kind   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    target_grn    TEXT NOT NULL,
    description   TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_records_chain_at ON audit_records (chain, at);
CREATE INDEX audit_records_at ON audit_records (at);

-- Each chain's head (its last record) and its anchor: the last record retention pruned, from
-- which the remaining records still verify. Appends lock the head row: it orders the chain.
CREATE TABLE audit_heads (
    chain       TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    anchor_seq  BIGINT NOT NULL,
    anchor_hash TEXT NOT NULL
);

-- +goose Down
DROP TABLE audit_heads;
DROP TABLE audit_records;
