package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the prepared-statement cache: the store's own queries are a few dozen
// texts, and filtered lists add one text per filter shape, which clients choose. Past the
// bound, queries run unprepared, as before the cache filled.
const maxCachedStmts = 512

// stmtCache keeps one prepared statement per query text, so that a read does not pay for
// parsing and planning its SQL every time (with SQLite that is a third of a point read).
// database/sql re-prepares a statement on each pooled connection as needed.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmt returns the prepared statement for query, bound to the store's transaction when it has
// one; ok is false when the query should run unprepared. Statements are only prepared outside
// transactions: preparing needs a pooled connection, and a transaction waiting for one while
// holding its own could wait on writers queued behind it.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, bool) {
	c := s.stmts
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	switch {
	case ok && s.tx != nil:
		return s.tx.StmtContext(ctx, st), true
	case ok:
		return st, true
	case s.tx != nil || full:
		return nil, false
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, false
	}
	c.mu.Lock()
	if prior, raced := c.m[query]; raced {
		st.Close()
		st = prior
	} else {
		c.m[query] = st
	}
	c.mu.Unlock()
	return st, true
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}
