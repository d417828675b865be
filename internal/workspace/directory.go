package workspace

import (
	"context"
	"errors"
	"sync"

	"github.com/keyhold/keyhold/internal/storage"
)

// Directory is the in-memory view of every workspace, fed by the change log.
type Directory struct {
	mu sync.RWMutex
	ws map[string]storage.Workspace
}

// NewDirectory returns an empty directory; the change feed loads it.
func NewDirectory() *Directory { return &Directory{ws: map[string]storage.Workspace{}} }

// Get returns a workspace by canonical id.
func (d *Directory) Get(id string) (storage.Workspace, bool) {
	d.mu.RLock()
	w, ok := d.ws[id]
	d.mu.RUnlock()
	return w, ok
}

// Kinds implements changefeed.Handler.
func (d *Directory) Kinds() []string { return []string{storage.KindWorkspace} }

// Load implements changefeed.Handler.
func (d *Directory) Load(ctx context.Context, s storage.Store) error {
	all, err := s.ListWorkspaces(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]storage.Workspace, len(all))
	for _, w := range all {
		m[w.ID] = w
	}
	d.mu.Lock()
	d.ws = m
	d.mu.Unlock()
	return nil
}

// Apply implements changefeed.Handler.
func (d *Directory) Apply(ctx context.Context, s storage.Store, c storage.Change) error {
	w, err := s.GetWorkspace(ctx, c.Key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		delete(d.ws, c.Key)
	} else {
		d.ws[c.Key] = *w
	}
	return nil
}
