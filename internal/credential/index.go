package credential

import (
	"context"
	"errors"
	"sync"

	"github.com/keyhold/keyhold/internal/storage"
)

// Entry is what the hot paths need to know about a credential.
type Entry struct {
	ID string
	// WorkspaceID is where the credential is managed; TokenWorkspaceID is the workspace its
	// tokens are scoped to (the tenant for an MSP's tenant credential).
	WorkspaceID      string
	TokenWorkspaceID string
	OwnerID          string
	ProvisionID      string
	Generation       int64
	hash             []byte
}

// Index is the in-memory view of every credential, fed by the change log.
type Index struct {
	mu      sync.RWMutex
	entries map[string]*Entry
}

// NewIndex returns an empty index; the change feed loads it.
func NewIndex() *Index { return &Index{entries: map[string]*Entry{}} }

func entryOf(c *storage.Credential) *Entry {
	e := &Entry{ID: c.ID, WorkspaceID: c.WorkspaceID, TokenWorkspaceID: c.WorkspaceID, OwnerID: c.OwnerID,
		ProvisionID: c.ProvisionID, Generation: c.Generation, hash: c.SecretHash}
	if c.TenantID != "" {
		e.TokenWorkspaceID = c.TenantID
	}
	return e
}

// Get returns the credential with id.
func (x *Index) Get(id string) (Entry, bool) {
	x.mu.RLock()
	e, ok := x.entries[id]
	x.mu.RUnlock()
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Authenticate returns the credential when secret is its current secret. An unknown id costs
// the same hash comparison as a wrong secret.
func (x *Index) Authenticate(id, secret string) (Entry, bool) {
	e, ok := x.Get(id)
	hash := e.hash
	if !ok {
		hash = make([]byte, 32)
	}
	if !Matches(hash, secret) || !ok {
		return Entry{}, false
	}
	return e, true
}

// Kinds implements changefeed.Handler.
func (x *Index) Kinds() []string { return []string{storage.KindCredential} }

// Load implements changefeed.Handler.
func (x *Index) Load(ctx context.Context, s storage.Store) error {
	all, err := s.ListCredentials(ctx, storage.CredentialQuery{})
	if err != nil {
		return err
	}
	m := make(map[string]*Entry, len(all))
	for i := range all {
		m[all[i].ID] = entryOf(&all[i])
	}
	x.mu.Lock()
	x.entries = m
	x.mu.Unlock()
	return nil
}

// Apply implements changefeed.Handler.
func (x *Index) Apply(ctx context.Context, s storage.Store, c storage.Change) error {
	cred, err := s.GetCredential(ctx, c.Key)
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case errors.Is(err, storage.ErrNotFound):
		delete(x.entries, c.Key)
	case err != nil:
		return err
	default:
		x.entries[c.Key] = entryOf(cred)
	}
	return nil
}
