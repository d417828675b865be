-- +goose Up
-- The OAuth scopes a credential's tokens may carry (a keyhold extension of its token
-- settings): permission names and <provider>.<resource-type>.* wildcards, separated by single
-- spaces, '' for none (the credential's tokens are then unrestricted by scope, as before).
ALTER TABLE credentials ADD COLUMN token_scopes TEXT NOT NULL DEFAULT '' CHECK (length(token_scopes) <= 8192);

-- +goose Down
ALTER TABLE credentials DROP COLUMN token_scopes;
