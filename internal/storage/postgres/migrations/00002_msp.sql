-- +goose Up
-- Tenant details kept on the workspace row (GreenLake's NBContactTenant fields).
ALTER TABLE workspaces ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN phone_number TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN inventory_ownership TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN address TEXT NOT NULL DEFAULT '';

-- Tenant groups of an MSP (/workspaces/v1beta1/groups).
CREATE TABLE tenant_groups (
    id          TEXT PRIMARY KEY,
    msp_id      TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    generation BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (msp_id, name)
);

CREATE TABLE tenant_group_members (
    id           TEXT PRIMARY KEY,
    group_id     TEXT NOT NULL REFERENCES tenant_groups (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    generation BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (group_id, workspace_id)
);
CREATE INDEX tenant_group_members_workspace ON tenant_group_members (workspace_id);

-- Service-manager provisions of a workspace (/service-catalog/v1/service-manager-provisions).
CREATE TABLE provisions (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    service_manager_id TEXT NOT NULL,
    region             TEXT NOT NULL,
    status             TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    generation BIGINT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (workspace_id, service_manager_id, region)
);

-- +goose Down
DROP TABLE provisions;
DROP TABLE tenant_group_members;
DROP TABLE tenant_groups;
ALTER TABLE workspaces DROP COLUMN address;
ALTER TABLE workspaces DROP COLUMN inventory_ownership;
ALTER TABLE workspaces DROP COLUMN phone_number;
ALTER TABLE workspaces DROP COLUMN email;
ALTER TABLE workspaces DROP COLUMN description;
