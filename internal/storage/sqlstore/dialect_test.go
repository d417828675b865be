package sqlstore

import "testing"

func TestRebind(t *testing.T) {
	pg := &Dialect{Numbered: true}
	lite := &Dialect{}
	q := "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
	if got := pg.Rebind(q); got != "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)" {
		t.Errorf("postgres rebind = %q", got)
	}
	if got := lite.Rebind(q); got != q {
		t.Errorf("sqlite rebind changed the query: %q", got)
	}
}
