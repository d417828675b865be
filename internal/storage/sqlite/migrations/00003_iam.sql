-- +goose Up
-- Resource providers and the resource types they declare. Permissions keep their provider
-- as text (00001); the management API checks that providers and types exist.
CREATE TABLE resource_providers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    generation  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE resource_types (
    provider     TEXT NOT NULL REFERENCES resource_providers (id),
    name         TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description  TEXT NOT NULL,
    generation   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (provider, name)
);

CREATE INDEX permission_resource_types_type ON permission_resource_types (resource_type);
CREATE INDEX role_permissions_permission ON role_permissions (permission);
-- Custom role names are unique in their workspace.
CREATE UNIQUE INDEX roles_custom_name ON roles (workspace_id, name) WHERE workspace_id IS NOT NULL;
CREATE INDEX role_assignments_workspace ON role_assignments (workspace_id, created_at, id);
CREATE INDEX role_assignments_role ON role_assignments (role_id);
CREATE INDEX assignment_scopes_scope ON assignment_scopes (scope);
CREATE INDEX workspace_members_user ON workspace_members (user_id);

-- Scope groups of a workspace and their scopes.
CREATE TABLE scope_groups (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    generation   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE scope_group_scopes (
    id          TEXT PRIMARY KEY,
    group_id    TEXT NOT NULL REFERENCES scope_groups (id) ON DELETE CASCADE,
    grn         TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (group_id, grn)
);

-- User groups of a workspace and their members.
CREATE TABLE user_groups (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    generation   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE user_group_members (
    group_id   TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX user_group_members_user ON user_group_members (user_id);

-- +goose Down
DROP TABLE user_group_members;
DROP TABLE user_groups;
DROP TABLE scope_group_scopes;
DROP TABLE scope_groups;
DROP INDEX workspace_members_user;
DROP INDEX assignment_scopes_scope;
DROP INDEX role_assignments_role;
DROP INDEX role_assignments_workspace;
DROP INDEX roles_custom_name;
DROP INDEX role_permissions_permission;
DROP INDEX permission_resource_types_type;
DROP TABLE resource_types;
DROP TABLE resource_providers;
