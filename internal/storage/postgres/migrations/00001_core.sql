-- +goose Up
CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    parent_id   TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    created_by  TEXT NOT NULL DEFAULT '',
    generation BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX workspaces_parent ON workspaces (parent_id);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    generation BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    tenant_id    TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    provision_id TEXT,
    owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,
    generation BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (workspace_id, owner_id, name)
);
CREATE INDEX credentials_owner ON credentials (owner_id);
CREATE INDEX credentials_tenant ON credentials (tenant_id);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    created_at  TEXT NOT NULL,
    retire_at   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE permissions (
    name            TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    description     TEXT NOT NULL,
    release_stage   TEXT NOT NULL,
    custom_role_use TEXT NOT NULL,
    fixed_scope     BOOLEAN NOT NULL,
    generation BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE permission_resource_types (
    permission    TEXT NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    PRIMARY KEY (permission, resource_type)
);

CREATE TABLE roles (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    slug          TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    release_stage TEXT NOT NULL,
    generation BIGINT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX roles_predefined_slug ON roles (slug) WHERE workspace_id IS NULL;

CREATE TABLE role_permissions (
    role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT NOT NULL REFERENCES permissions (name),
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE role_assignments (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    role_id      TEXT NOT NULL REFERENCES roles (id),
    source       TEXT NOT NULL,
    scope_key    TEXT NOT NULL,
    generation BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (workspace_id, subject, role_id, scope_key)
);
CREATE INDEX role_assignments_subject ON role_assignments (subject);

CREATE TABLE assignment_scopes (
    assignment_id TEXT NOT NULL REFERENCES role_assignments (id) ON DELETE CASCADE,
    scope         TEXT NOT NULL,
    PRIMARY KEY (assignment_id, scope)
);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);

-- The change log. seq comes from change_counter, whose single row every write transaction
-- locks first: sequence numbers are then assigned in commit order on every engine, so a reader
-- that has applied seq N never misses a later commit with a smaller number.
CREATE TABLE changes (
    seq  BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    at   TEXT NOT NULL
);

CREATE TABLE change_counter (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO change_counter (id, seq) VALUES (1, 0);

-- +goose Down
DROP TABLE change_counter;
DROP TABLE changes;
DROP TABLE revoked_tokens;
DROP TABLE assignment_scopes;
DROP TABLE role_assignments;
DROP TABLE role_permissions;
DROP TABLE roles;
DROP TABLE permission_resource_types;
DROP TABLE permissions;
DROP TABLE signing_keys;
DROP TABLE credentials;
DROP TABLE workspace_members;
DROP TABLE users;
DROP TABLE workspaces;
