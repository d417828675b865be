-- +goose Up
-- The workspace whose SCIM provisioning controls a user's profile and active state ('' when
-- none does: the user is managed through keyhold's own API). Users are global and may be
-- members of several workspaces; only the controlling workspace may rename or deactivate
-- one, so that one workspace's identity provider can never disable a user for another.
ALTER TABLE users ADD COLUMN source_workspace TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN source_workspace;
