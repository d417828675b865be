package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/keyhold/keyhold/internal/storage"
)

const providerCols = `id, name, description, generation, created_at, updated_at`

func scanProvider(r interface{ Scan(...any) error }) (storage.ResourceProvider, error) {
	var p storage.ResourceProvider
	err := r.Scan(&p.ID, &p.Name, &p.Description, &p.Generation, timeField{&p.CreatedAt}, timeField{&p.UpdatedAt})
	return p, err
}

// CreateProvider inserts a resource provider.
func (s *Store) CreateProvider(ctx context.Context, p *storage.ResourceProvider) error {
	return s.write(ctx, func(s *Store) error {
		if _, err := s.exec(ctx, `INSERT INTO resource_providers (`+providerCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.Description, p.Generation, p.CreatedAt, p.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindProvider, p.ID)
	})
}

// UpdateProvider replaces a provider's name and description.
func (s *Store) UpdateProvider(ctx context.Context, p *storage.ResourceProvider) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `UPDATE resource_providers SET name = ?, description = ?, generation = generation + 1,
			updated_at = ? WHERE id = ?`, p.Name, p.Description, p.UpdatedAt, p.ID)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindProvider, p.ID)
	})
}

// GetProvider reads one provider.
func (s *Store) GetProvider(ctx context.Context, id string) (*storage.ResourceProvider, error) {
	p, err := scanProvider(s.queryRow(ctx, `SELECT `+providerCols+` FROM resource_providers WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	return &p, nil
}

// ListProviders reads every provider by id.
func (s *Store) ListProviders(ctx context.Context) ([]storage.ResourceProvider, error) {
	rows, err := s.query(ctx, `SELECT `+providerCols+` FROM resource_providers ORDER BY id`)
	return collect(rows, err, func(r *sql.Rows) (storage.ResourceProvider, error) { return scanProvider(r) })
}

// DeleteProvider removes a provider that no longer declares anything.
func (s *Store) DeleteProvider(ctx context.Context, id string) error {
	return s.write(ctx, func(s *Store) error {
		used, err := s.exists(ctx, `SELECT 1 FROM resource_types WHERE provider = ? UNION ALL SELECT 1 FROM permissions WHERE provider = ?`, id, id)
		if err != nil {
			return err
		}
		if used {
			return storage.ErrInUse
		}
		if err := mustAffect(s.exec(ctx, `DELETE FROM resource_providers WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindProvider, id)
	})
}

const resourceTypeCols = `provider, name, display_name, description, generation, created_at, updated_at`

func scanResourceType(r interface{ Scan(...any) error }) (storage.ResourceType, error) {
	var t storage.ResourceType
	err := r.Scan(&t.Provider, &t.Name, &t.DisplayName, &t.Description, &t.Generation, timeField{&t.CreatedAt}, timeField{&t.UpdatedAt})
	return t, err
}

// CreateResourceType inserts a resource type of an existing provider.
func (s *Store) CreateResourceType(ctx context.Context, t *storage.ResourceType) error {
	return s.write(ctx, func(s *Store) error {
		if ok, err := s.exists(ctx, `SELECT 1 FROM resource_providers WHERE id = ?`, t.Provider); err != nil || !ok {
			return notFoundUnless(err)
		}
		if _, err := s.exec(ctx, `INSERT INTO resource_types (`+resourceTypeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.Provider, t.Name, t.DisplayName, t.Description, t.Generation, t.CreatedAt, t.UpdatedAt); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindResourceType, t.Provider+"/"+t.Name)
	})
}

// UpdateResourceType replaces a type's display name and description.
func (s *Store) UpdateResourceType(ctx context.Context, t *storage.ResourceType) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `UPDATE resource_types SET display_name = ?, description = ?,
			generation = generation + 1, updated_at = ? WHERE provider = ? AND name = ?`,
			t.DisplayName, t.Description, t.UpdatedAt, t.Provider, t.Name)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindResourceType, t.Provider+"/"+t.Name)
	})
}

// GetResourceType reads one resource type.
func (s *Store) GetResourceType(ctx context.Context, provider, name string) (*storage.ResourceType, error) {
	t, err := scanResourceType(s.queryRow(ctx, `SELECT `+resourceTypeCols+` FROM resource_types WHERE provider = ? AND name = ?`,
		provider, name))
	if err != nil {
		return nil, s.translate(err)
	}
	return &t, nil
}

// ListResourceTypes reads a provider's types (every type when provider is ""), by key.
func (s *Store) ListResourceTypes(ctx context.Context, provider string) ([]storage.ResourceType, error) {
	q, args := `SELECT `+resourceTypeCols+` FROM resource_types`, []any{}
	if provider != "" {
		q, args = q+` WHERE provider = ?`, append(args, provider)
	}
	rows, err := s.query(ctx, q+` ORDER BY provider, name`, args...)
	return collect(rows, err, func(r *sql.Rows) (storage.ResourceType, error) { return scanResourceType(r) })
}

// DeleteResourceType removes a type no permission applies to.
func (s *Store) DeleteResourceType(ctx context.Context, provider, name string) error {
	return s.write(ctx, func(s *Store) error {
		key := provider + "/" + name
		used, err := s.exists(ctx, `SELECT 1 FROM permission_resource_types WHERE resource_type = ?`, key)
		if err != nil {
			return err
		}
		if used {
			return storage.ErrInUse
		}
		if err := mustAffect(s.exec(ctx, `DELETE FROM resource_types WHERE provider = ? AND name = ?`, provider, name)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindResourceType, key)
	})
}

// exists reports whether query returns at least one row.
func (s *Store) exists(ctx context.Context, query string, args ...any) (bool, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}

// notFoundUnless returns err, or ErrNotFound when err is nil (a lookup found nothing).
func notFoundUnless(err error) error {
	if err != nil {
		return err
	}
	return storage.ErrNotFound
}

// placeholders returns "?, ?, ..." for n values (n > 0).
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// anySlice converts strings to bound arguments.
func anySlice(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}
