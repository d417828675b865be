package token

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// Revoked is the in-memory set of revoked token ids that have not expired yet.
type Revoked struct {
	now func() time.Time

	mu   sync.RWMutex
	jtis map[string]time.Time
}

// NewRevoked returns an empty set; the change feed loads it.
func NewRevoked(now func() time.Time) *Revoked {
	return &Revoked{now: now, jtis: map[string]time.Time{}}
}

// Has reports whether a token id is revoked.
func (r *Revoked) Has(jti string) bool {
	r.mu.RLock()
	_, ok := r.jtis[jti]
	r.mu.RUnlock()
	return ok
}

// Prune forgets revocations of tokens that have expired anyway.
func (r *Revoked) Prune() {
	now := r.now()
	r.mu.Lock()
	for k, exp := range r.jtis {
		if !exp.After(now) {
			delete(r.jtis, k)
		}
	}
	r.mu.Unlock()
}

// Add records a revocation this node has just committed, before the change feed brings it.
func (r *Revoked) Add(jti string, expiresAt time.Time) {
	r.mu.Lock()
	r.jtis[jti] = expiresAt
	r.mu.Unlock()
}

// Kinds implements changefeed.Handler.
func (r *Revoked) Kinds() []string { return []string{storage.KindRevocation} }

// Load implements changefeed.Handler.
func (r *Revoked) Load(ctx context.Context, s storage.Store) error {
	list, err := s.ListRevokedTokens(ctx, r.now())
	if err != nil {
		return err
	}
	m := make(map[string]time.Time, len(list))
	for _, t := range list {
		m[t.JTI] = t.ExpiresAt
	}
	r.mu.Lock()
	r.jtis = m
	r.mu.Unlock()
	return nil
}

// Apply implements changefeed.Handler.
func (r *Revoked) Apply(ctx context.Context, s storage.Store, c storage.Change) error {
	t, err := s.GetRevokedToken(ctx, c.Key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // expired and deleted since: nothing to remember
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.jtis[t.JTI] = t.ExpiresAt
	r.mu.Unlock()
	return nil
}
