package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

const credentialCols = `id, workspace_id, tenant_id, provision_id, provision_uri, owner_id, name, secret_hash, generation, created_at, updated_at, secret_created_at, prev_secret_hash, prev_secret_expires_at, jwks, jwks_uri, tls_subject_dn, tls_thumbprints, token_ttl_seconds, token_audiences, token_scopes`

func scanCredential(r interface{ Scan(...any) error }) (storage.Credential, error) {
	var c storage.Credential
	var ttl int64
	var auds string
	err := r.Scan(&c.ID, &c.WorkspaceID, nullable{&c.TenantID}, nullable{&c.ProvisionID}, &c.ProvisionURI, &c.OwnerID, &c.Name,
		&c.SecretHash, &c.Generation, timeField{&c.CreatedAt}, timeField{&c.UpdatedAt}, timeField{&c.SecretCreatedAt},
		&c.PrevSecretHash, timeField{&c.PrevSecretExpiresAt}, &c.JWKS, &c.JWKSURI, &c.TLSSubjectDN, spaceList{&c.TLSThumbprints}, &ttl, &auds, spaceList{&c.TokenScopes})
	c.TokenTTL = time.Duration(ttl) * time.Second
	if err == nil && auds != "" {
		err = json.Unmarshal([]byte(auds), &c.TokenAudiences)
	}
	if len(c.PrevSecretHash) == 0 {
		c.PrevSecretHash, c.PrevSecretExpiresAt = nil, time.Time{}
	}
	return c, err
}

// CreateCredential inserts a credential, enforcing name uniqueness and the per-owner limit in
// the same transaction. Write transactions are serialised (see Dialect.LockChanges), so
// concurrent creates for one owner cannot both pass the count.
func (s *Store) CreateCredential(ctx context.Context, c *storage.Credential, maxPerOwner int) error {
	return s.write(ctx, func(s *Store) error {
		var owner string
		if err := s.queryRow(ctx, `SELECT id FROM users WHERE id = ?`, c.OwnerID).Scan(&owner); err != nil {
			return s.translate(err)
		}
		var n int
		if err := s.queryRow(ctx, `SELECT COUNT(*) FROM credentials WHERE workspace_id = ? AND owner_id = ?`,
			c.WorkspaceID, c.OwnerID).Scan(&n); err != nil {
			return err
		}
		var dup int
		if err := s.queryRow(ctx, `SELECT COUNT(*) FROM credentials WHERE workspace_id = ? AND owner_id = ? AND name = ?`,
			c.WorkspaceID, c.OwnerID, c.Name).Scan(&dup); err != nil {
			return err
		}
		if dup > 0 {
			return storage.ErrConflict
		}
		if maxPerOwner > 0 && n >= maxPerOwner {
			return storage.ErrLimit
		}
		if _, err := s.exec(ctx, `INSERT INTO credentials (`+credentialCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.WorkspaceID, nullIfEmpty(c.TenantID), nullIfEmpty(c.ProvisionID), c.ProvisionURI, c.OwnerID, c.Name,
			c.SecretHash, c.Generation, c.CreatedAt, c.UpdatedAt, c.SecretCreatedAt, c.PrevSecretHash, c.PrevSecretExpiresAt, c.JWKS, c.JWKSURI,
			c.TLSSubjectDN, strings.Join(c.TLSThumbprints, " "), int64(c.TokenTTL/time.Second), audiencesJSON(c.TokenAudiences), strings.Join(c.TokenScopes, " ")); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindCredential, c.ID)
	})
}

// GetCredential reads one credential.
func (s *Store) GetCredential(ctx context.Context, id string) (*storage.Credential, error) {
	c, err := scanCredential(s.queryRow(ctx, `SELECT `+credentialCols+` FROM credentials WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	return &c, nil
}

// ListCredentials reads credentials matching q, oldest first.
func (s *Store) ListCredentials(ctx context.Context, q storage.CredentialQuery) ([]storage.Credential, error) {
	var where []string
	var args []any
	if q.WorkspaceID != "" {
		where, args = append(where, "workspace_id = ?"), append(args, q.WorkspaceID)
	}
	if q.OwnerID != "" {
		where, args = append(where, "owner_id = ?"), append(args, q.OwnerID)
	}
	if q.Filter.SQL != "" {
		where, args = append(where, "("+q.Filter.SQL+")"), append(args, q.Filter.Args...)
	}
	query := `SELECT ` + credentialCols + ` FROM credentials`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.query(ctx, query+" ORDER BY created_at, id", args...)
	return collect(rows, err, func(r *sql.Rows) (storage.Credential, error) { return scanCredential(r) })
}

// ResetCredential stores a new secret hash, forgets the previous secret and increments the
// generation.
func (s *Store) ResetCredential(ctx context.Context, id string, secretHash []byte, at time.Time) (*storage.Credential, error) {
	return s.updateCredential(ctx, id, func(s *Store) error {
		return mustAffect(s.exec(ctx, `UPDATE credentials SET secret_hash = ?, generation = generation + 1, updated_at = ?,
			secret_created_at = ?, prev_secret_hash = ?, prev_secret_expires_at = ? WHERE id = ?`,
			secretHash, at, at, []byte{}, time.Time{}, id))
	})
}

// EndCredentialTokens moves a credential to its next generation, secrets kept.
func (s *Store) EndCredentialTokens(ctx context.Context, id string, at time.Time) (*storage.Credential, error) {
	return s.updateCredential(ctx, id, func(s *Store) error {
		return mustAffect(s.exec(ctx, `UPDATE credentials SET generation = generation + 1, updated_at = ? WHERE id = ?`, at, id))
	})
}

// RotateCredentialSecret keeps the current secret as the previous one until prevExpires and
// stores the new one; the generation stays.
func (s *Store) RotateCredentialSecret(ctx context.Context, id string, secretHash []byte, at, prevExpires time.Time) (*storage.Credential, error) {
	return s.updateCredential(ctx, id, func(s *Store) error {
		cur, err := s.GetCredential(ctx, id)
		if err != nil {
			return err
		}
		if len(cur.PrevSecretHash) > 0 && cur.PrevSecretExpiresAt.After(at) {
			return storage.ErrConflict
		}
		return mustAffect(s.exec(ctx, `UPDATE credentials SET prev_secret_hash = secret_hash, prev_secret_expires_at = ?,
			secret_hash = ?, secret_created_at = ?, updated_at = ? WHERE id = ?`, prevExpires, secretHash, at, at, id))
	})
}

// RetirePreviousSecret forgets a previous secret that is still valid at at.
func (s *Store) RetirePreviousSecret(ctx context.Context, id string, at time.Time) (*storage.Credential, error) {
	return s.updateCredential(ctx, id, func(s *Store) error {
		cur, err := s.GetCredential(ctx, id)
		if err != nil {
			return err
		}
		if len(cur.PrevSecretHash) == 0 || !cur.PrevSecretExpiresAt.After(at) {
			return storage.ErrNotFound
		}
		return mustAffect(s.exec(ctx, `UPDATE credentials SET prev_secret_hash = ?, prev_secret_expires_at = ?, updated_at = ? WHERE id = ?`,
			[]byte{}, time.Time{}, at, id))
	})
}

// SetCredentialKeys replaces a credential's private_key_jwt keys.
func (s *Store) SetCredentialKeys(ctx context.Context, id, jwks, jwksURI string, at time.Time) (*storage.Credential, error) {
	return s.updateCredential(ctx, id, func(s *Store) error {
		return mustAffect(s.exec(ctx, `UPDATE credentials SET jwks = ?, jwks_uri = ?, updated_at = ? WHERE id = ?`,
			jwks, jwksURI, at, id))
	})
}

// SetCredentialTLS replaces a credential's TLS client authentication settings.
func (s *Store) SetCredentialTLS(ctx context.Context, id, subjectDN string, thumbprints []string, at time.Time) (*storage.Credential, error) {
	return s.updateCredential(ctx, id, func(s *Store) error {
		return mustAffect(s.exec(ctx, `UPDATE credentials SET tls_subject_dn = ?, tls_thumbprints = ?, updated_at = ? WHERE id = ?`,
			subjectDN, strings.Join(thumbprints, " "), at, id))
	})
}

// spaceList scans a space-separated column into a list ("" is none).
type spaceList struct{ l *[]string }

func (s spaceList) Scan(src any) error {
	var v string
	switch x := src.(type) {
	case string:
		v = x
	case []byte:
		v = string(x)
	case nil:
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as a list", src)
	}
	*s.l = strings.Fields(v)
	return nil
}

// SetCredentialTokenSettings replaces a credential's token lifetime, audiences and scopes.
func (s *Store) SetCredentialTokenSettings(ctx context.Context, id string, ttl time.Duration, audiences, scopes []string, at time.Time) (*storage.Credential, error) {
	return s.updateCredential(ctx, id, func(s *Store) error {
		return mustAffect(s.exec(ctx, `UPDATE credentials SET token_ttl_seconds = ?, token_audiences = ?, token_scopes = ?, updated_at = ? WHERE id = ?`,
			int64(ttl/time.Second), audiencesJSON(audiences), strings.Join(scopes, " "), at, id))
	})
}

// audiencesJSON is how token_audiences stores a list: a JSON array, "" for none.
func audiencesJSON(a []string) string {
	if len(a) == 0 {
		return ""
	}
	b, _ := json.Marshal(a) // strings always encode
	return string(b)
}

// updateCredential runs change in a write transaction, logs the credential's change and
// returns the credential as it then is.
func (s *Store) updateCredential(ctx context.Context, id string, change func(*Store) error) (*storage.Credential, error) {
	var out *storage.Credential
	err := s.write(ctx, func(s *Store) error {
		if err := change(s); err != nil {
			return err
		}
		c, err := s.GetCredential(ctx, id)
		if err != nil {
			return err
		}
		out = c
		return s.logChange(ctx, storage.KindCredential, id)
	})
	return out, err
}

// DeleteCredential removes a credential.
func (s *Store) DeleteCredential(ctx context.Context, id string) error {
	return s.write(ctx, func(s *Store) error {
		if err := mustAffect(s.exec(ctx, `DELETE FROM credentials WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.logChange(ctx, storage.KindCredential, id)
	})
}
