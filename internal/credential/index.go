package credential

import (
	"bytes"
	"context"
	"errors"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/keyhold/keyhold/internal/clientauth"
	"github.com/keyhold/keyhold/internal/scope"
	"sync"
	"time"

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
	// OwnerInactive: the owner is deactivated (SCIM active false); the credential must
	// neither obtain tokens nor have its tokens honoured while it is set.
	OwnerInactive bool
	hash          []byte
	// prevHash, when set, is the secret a rotation replaced; it authenticates until
	// prevExpires.
	prevHash    []byte
	prevExpires time.Time
	// Keys (inline) or KeysURI (fetched) verify the credential's private_key_jwt assertions;
	// both empty: the credential authenticates with its secret only.
	Keys    *jose.JSONWebKeySet
	KeysURI string
	// TLSSubjectDN and TLSThumbprints authenticate the client by its TLS certificate
	// (RFC 8705): a CA-issued certificate with that subject, or one of these self-signed ones.
	TLSSubjectDN   string
	TLSThumbprints []string
	// TokenTTL (0: the server's) and Audiences (RFC 8707 resources its tokens may be issued
	// for) are the credential's token settings; Audiences is shared, never modified.
	TokenTTL  time.Duration
	Audiences []string
	// Scopes, when not nil, are the OAuth scopes its tokens may carry (and carry when they ask
	// for none), parsed once here. ScopesUnreadable: stored scopes that no longer parse (they
	// are validated when set); the credential then gets no token, rather than an unrestricted one.
	Scopes           *scope.Set
	ScopesUnreadable bool
}

// Index is the in-memory view of every credential, fed by the change log.
type Index struct {
	mu      sync.RWMutex
	entries map[string]*Entry
	// owned maps a user id to the ids of the credentials it owns (for AuthZEN's subject
	// search: an API client acts with its owner's assignments).
	owned map[string]map[string]struct{}
	// For Why only, never read on success: the hash of each credential's secret before its
	// last reset seen by this node, and the ids of credentials deleted since it started
	// (bounded by maxGone).
	prev map[string][]byte
	gone map[string]struct{}
	// now is the clock previous secrets expire by (time.Now; tests replace it).
	now func() time.Time
}

// maxGone bounds the deleted ids an index remembers for Why; past it, it starts again.
const maxGone = 100_000

// Why an authentication failed (Why's answers), for logs and metrics.
const (
	FailUnknown     = "unknown_client" // no such credential, as far as this node knows
	FailDeleted     = "deleted"        // deleted since this node started
	FailWrongSecret = "wrong_secret"   // the credential exists; the secret is not its
	FailOldSecret   = "reset_secret"   // the secret the credential had before its last reset
	FailExpiredPrev = "expired_secret" // a rotated-out secret whose overlap window has ended
)

// NewIndex returns an empty index; the change feed loads it.
func NewIndex() *Index {
	return &Index{entries: map[string]*Entry{}, owned: map[string]map[string]struct{}{}, prev: map[string][]byte{},
		gone: map[string]struct{}{}, now: time.Now}
}

// WithClock makes the index expire rotated-out secrets by now instead of time.Now (the node's
// configured clock); it returns x.
func (x *Index) WithClock(now func() time.Time) *Index {
	x.now = now
	return x
}

// OwnedBy lists the ids of the credentials that user owns.
func (x *Index) OwnedBy(user string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]string, 0, len(x.owned[user]))
	for id := range x.owned[user] {
		out = append(out, id)
	}
	return out
}

// setOwner moves credential id from old's owner to next's (nil: none), under x.mu.
func (x *Index) setOwner(id string, old, next *Entry) {
	if old != nil && old.OwnerID != "" {
		delete(x.owned[old.OwnerID], id)
		if len(x.owned[old.OwnerID]) == 0 {
			delete(x.owned, old.OwnerID)
		}
	}
	if next != nil && next.OwnerID != "" {
		set := x.owned[next.OwnerID]
		if set == nil {
			set = map[string]struct{}{}
			x.owned[next.OwnerID] = set
		}
		set[id] = struct{}{}
	}
}

func entryOf(c *storage.Credential) *Entry {
	e := &Entry{ID: c.ID, WorkspaceID: c.WorkspaceID, TokenWorkspaceID: c.WorkspaceID, OwnerID: c.OwnerID,
		ProvisionID: c.ProvisionID, Generation: c.Generation, hash: c.SecretHash}
	if len(c.PrevSecretHash) > 0 {
		e.prevHash, e.prevExpires = c.PrevSecretHash, c.PrevSecretExpiresAt
	}
	if c.JWKS != "" {
		// Validated when registered; a set that no longer parses verifies nothing.
		e.Keys, _ = clientauth.ParseKeySet([]byte(c.JWKS))
	}
	e.KeysURI = c.JWKSURI
	e.TLSSubjectDN, e.TLSThumbprints = c.TLSSubjectDN, c.TLSThumbprints
	e.TokenTTL, e.Audiences = c.TokenTTL, c.TokenAudiences
	if len(c.TokenScopes) > 0 {
		var err error
		e.Scopes, err = scope.FromItems(c.TokenScopes)
		e.ScopesUnreadable = err != nil
	}
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

// Authenticate returns the credential when secret is its current secret, or the secret a
// rotation replaced while its overlap window lasts. An unknown id costs the same hash
// comparison as a wrong secret; a credential in the middle of a rotation costs one more
// constant-time comparison, whichever secret is presented.
func (x *Index) Authenticate(id, secret string) (Entry, bool) {
	e, ok := x.Get(id)
	hash := e.hash
	if !ok {
		hash = make([]byte, 32)
	}
	var match bool
	if e.prevHash == nil {
		match = Matches(hash, secret)
	} else {
		cur, prev := MatchesEither(hash, e.prevHash, secret)
		match = cur || (prev && x.now().Before(e.prevExpires))
	}
	if !match || !ok {
		return Entry{}, false
	}
	return e, true
}

// Why tells why Authenticate refused id and secret: one of the Fail* reasons, or "" when
// the pair authenticates now. It is for the failure path only (it costs two hash
// comparisons, whatever the answer) and never reveals anything to the client.
func (x *Index) Why(id, secret string) string {
	x.mu.RLock()
	e, ok := x.entries[id]
	prev := x.prev[id]
	_, gone := x.gone[id]
	x.mu.RUnlock()
	cur := make([]byte, 32)
	if ok {
		cur = e.hash
	}
	if prev == nil {
		prev = make([]byte, 32)
	}
	matchesCur, matchesPrev := Matches(cur, secret), Matches(prev, secret)
	rotated := ok && e.prevHash != nil && Matches(e.prevHash, secret)
	switch {
	case ok && matchesCur, rotated && x.now().Before(e.prevExpires):
		return ""
	case rotated:
		return FailExpiredPrev
	case ok && matchesPrev:
		return FailOldSecret
	case ok:
		return FailWrongSecret
	case gone:
		return FailDeleted
	}
	return FailUnknown
}

// replaced notes, under x.mu, what Why needs to know when id's entry becomes next (nil:
// deleted).
func (x *Index) replaced(id string, old, next *Entry) {
	switch {
	case next == nil:
		delete(x.prev, id)
		if old != nil {
			if len(x.gone) >= maxGone {
				clear(x.gone)
			}
			x.gone[id] = struct{}{}
		}
	case old != nil && !bytes.Equal(old.hash, next.hash):
		x.prev[id] = old.hash
	}
}

// Kinds implements changefeed.Handler: credentials, and users for their active state.
func (x *Index) Kinds() []string { return []string{storage.KindCredential, storage.KindUser} }

// Load implements changefeed.Handler.
func (x *Index) Load(ctx context.Context, s storage.Store) error {
	all, err := s.ListCredentials(ctx, storage.CredentialQuery{})
	if err != nil {
		return err
	}
	off, err := s.InactiveUsers(ctx)
	if err != nil {
		return err
	}
	inactive := make(map[string]struct{}, len(off))
	for _, u := range off {
		inactive[u] = struct{}{}
	}
	m := make(map[string]*Entry, len(all))
	for i := range all {
		e := entryOf(&all[i])
		_, e.OwnerInactive = inactive[e.OwnerID]
		m[all[i].ID] = e
	}
	owned := map[string]map[string]struct{}{}
	x.mu.Lock()
	for id, old := range x.entries {
		x.replaced(id, old, m[id])
	}
	x.entries, x.owned = m, owned
	for id, e := range m {
		x.setOwner(id, nil, e)
	}
	x.mu.Unlock()
	return nil
}

// Apply implements changefeed.Handler.
func (x *Index) Apply(ctx context.Context, s storage.Store, c storage.Change) error {
	if c.Kind == storage.KindUser {
		return x.applyUser(ctx, s, c.Key)
	}
	cred, err := s.GetCredential(ctx, c.Key)
	inactive := false
	if err == nil && cred.OwnerID != "" {
		owner, uerr := s.GetUser(ctx, cred.OwnerID)
		switch {
		case uerr == nil:
			inactive = owner.Inactive
		case !errors.Is(uerr, storage.ErrNotFound):
			return uerr
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case errors.Is(err, storage.ErrNotFound):
		x.replaced(c.Key, x.entries[c.Key], nil)
		x.setOwner(c.Key, x.entries[c.Key], nil)
		delete(x.entries, c.Key)
	case err != nil:
		return err
	default:
		next := entryOf(cred)
		next.OwnerInactive = inactive
		x.replaced(c.Key, x.entries[c.Key], next)
		x.setOwner(c.Key, x.entries[c.Key], next)
		x.entries[c.Key] = next
	}
	return nil
}

// applyUser follows a user's active state onto the credentials it owns. A user owning no
// credential is not read: its state is read when a credential of its appears.
func (x *Index) applyUser(ctx context.Context, s storage.Store, id string) error {
	x.mu.RLock()
	n := len(x.owned[id])
	x.mu.RUnlock()
	inactive := false
	if n > 0 {
		u, err := s.GetUser(ctx, id)
		switch {
		case err == nil:
			inactive = u.Inactive
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for cid := range x.owned[id] {
		if e := x.entries[cid]; e != nil && e.OwnerInactive != inactive {
			next := *e // entries are replaced, never changed in place
			next.OwnerInactive = inactive
			x.entries[cid] = &next
		}
	}
	return nil
}
