package sqlstore

import (
	"context"
	"strings"

	"github.com/keyhold/keyhold/internal/storage"
)

// userColsOfU is userCols qualified by the alias u, derived so that it follows userCols.
var userColsOfU = "u." + strings.ReplaceAll(userCols, ", ", ", u.")

// withPrefix scans one leading column into *first and the rest with the wrapped scanner's
// destinations, so that scanUser reads a joined row.
type withPrefix struct {
	r     interface{ Scan(...any) error }
	first *string
}

func (p withPrefix) Scan(dest ...any) error {
	return p.r.Scan(append([]any{p.first}, dest...)...)
}

// EachMember streams every membership with its user; see storage.MemberWalker.
func (s *Store) EachMember(ctx context.Context, fn func(string, *storage.User) error) error {
	rows, err := s.query(ctx, `SELECT m.workspace_id, `+userColsOfU+`
		FROM workspace_members m JOIN users u ON u.id = m.user_id ORDER BY u.id, m.workspace_id`)
	if err != nil {
		return s.translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var ws string
		u, err := scanUser(withPrefix{r: rows, first: &ws})
		if err != nil {
			return s.translate(err)
		}
		if err := fn(ws, &u); err != nil {
			return err
		}
	}
	return s.translate(rows.Err())
}
