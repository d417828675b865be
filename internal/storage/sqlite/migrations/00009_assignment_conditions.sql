-- +goose Up
-- A role assignment's condition (a CEL expression, '' for none): the assignment grants only
-- when it holds. The text is bounded here as a last line behind the domain's own limit. The
-- duplicate key scope_key also carries a digest of the condition (see sqlstore), so that the
-- same role on the same scopes may be assigned under different conditions.
ALTER TABLE role_assignments ADD COLUMN condition_expr TEXT NOT NULL DEFAULT '' CHECK (length(condition_expr) <= 2048);

-- +goose Down
ALTER TABLE role_assignments DROP COLUMN condition_expr;
