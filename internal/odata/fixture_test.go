package odata

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	u1 = "0192f3a4-5b6c-7d8e-9fab-cdef01234567"
	u2 = "0192f3a4-5b6c-7d8e-9fab-cdef01234568"
	u3 = "0192f3a4-5b6c-7d8e-9fab-cdef01234569"
)

const scopeMember = "EXISTS (SELECT 1 FROM credential_scopes s WHERE s.credential_id = c.id AND s.scope = ?)"

var (
	ordering = []Op{Eq, Ne, Gt, Ge, Lt, Le}
	allOps   = []Op{Eq, Ne, Gt, Ge, Lt, Le, In}
)

// testSchema is the example endpoint used by the tests, the fuzz targets and the benchmark.
var testSchema = NewSchema(
	Property{Name: "tenantId", Column: "c.tenant_id", Kind: UUID, Ops: []Op{Eq, Ne, In}},
	Property{Name: "credentialName", Column: "c.name", Kind: String, Ops: allOps},
	Property{Name: "description", Column: "c.description", Kind: String, Ops: []Op{Eq, Ne}},
	Property{Name: "count", Column: "c.use_count", Kind: Number, Ops: allOps},
	Property{Name: "score", Column: "c.score", Kind: Number, Ops: ordering},
	Property{Name: "enabled", Column: "c.enabled", Kind: Bool, Ops: []Op{Eq, Ne}},
	Property{Name: "createdAt", Column: "c.created_at", Kind: Time, Ops: ordering},
	Property{Name: "associatedTenant/resourceUri", Column: "c.assoc_uri", Kind: String, Ops: []Op{Eq, Ne, In}},
	Property{Name: "scopes", Kind: StringArray, Ops: []Op{Has}, ArrayMember: scopeMember},
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

type row map[string]any

// testRows are keyed by "r1".."r5"; nil values are SQL NULLs.
var testRows = map[string]row{
	"r1": {"tenantId": u1, "credentialName": "alpha", "description": nil, "count": 1, "score": 0.5,
		"enabled": true, "createdAt": ts("2024-01-01T00:00:00Z"), "associatedTenant/resourceUri": "/tenants/1",
		"scopes": []string{"read", "write"}},
	"r2": {"tenantId": u2, "credentialName": "beta", "description": "O'Brien", "count": int64(2), "score": 1.5,
		"enabled": false, "createdAt": ts("2024-02-01T00:00:00Z"), "associatedTenant/resourceUri": "/tenants/2",
		"scopes": []string{"read"}},
	"r3": {"tenantId": u1, "credentialName": "gamma", "description": "", "count": int32(3), "score": float32(2.5),
		"enabled": true, "createdAt": ts("2024-03-01T12:00:00Z"), "associatedTenant/resourceUri": nil,
		"scopes": nil},
	"r4": {"tenantId": u3, "credentialName": "delta", "description": "x", "count": 10, "score": -1.0,
		"enabled": false, "createdAt": ts("2023-12-31T23:00:00Z"), "associatedTenant/resourceUri": "/tenants/1",
		"scopes": []string{"admin"}},
	"r5": {"tenantId": u2, "credentialName": "O'Brien", "description": nil, "count": 0, "score": 0,
		"enabled": true, "createdAt": ts("2024-01-02T01:04:05Z"), "associatedTenant/resourceUri": "/tenants/3",
		"scopes": []string{}},
}

// matching returns the sorted keys of the test rows the expression selects in memory.
func matching(e Expr) ([]string, error) {
	var keys []string
	for key, r := range testRows {
		ok, err := testSchema.Match(e, func(p string) any { return r[p] })
		if err != nil {
			return nil, err
		}
		if ok {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

var sqlWords = map[string]bool{"(": true, ")": true, ",": true, "?": true, "AND": true, "OR": true, "NOT": true,
	"IN": true, "IS": true, "NULL": true, "=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true, "COLUMN": true}

// checkSQL verifies that sql is made only of the schema's columns and array templates, fixed
// keywords, operators, punctuation and placeholders, and that it has one ? per argument.
func checkSQL(s *Schema, sql string, nargs int) error {
	for _, p := range s.Properties { // templates first: they contain column-like text
		if p.ArrayMember != "" {
			sql = strings.ReplaceAll(sql, p.ArrayMember, " ? ")
		}
	}
	for _, p := range s.Properties {
		if p.Column != "" {
			sql = strings.ReplaceAll(sql, p.Column, " COLUMN ")
		}
	}
	placeholders := 0
	for _, tok := range sqlTokens(sql) {
		if !sqlWords[tok] {
			return fmt.Errorf("SQL contains non-whitelisted token %q", tok)
		}
		if tok == "?" {
			placeholders++
		}
	}
	if placeholders != nargs {
		return fmt.Errorf("SQL has %d placeholders but %d args", placeholders, nargs)
	}
	return nil
}

// sqlTokens splits on spaces, emitting punctuation singly and runs of <>= or other bytes.
func sqlTokens(sql string) []string {
	var toks []string
	for i := 0; i < len(sql); {
		c := sql[i]
		j := i + 1
		switch {
		case c == ' ':
			i++
			continue
		case strings.IndexByte("(),?", c) >= 0:
		case strings.IndexByte("<>=", c) >= 0:
			for j < len(sql) && strings.IndexByte("<>=", sql[j]) >= 0 {
				j++
			}
		default:
			for j < len(sql) && strings.IndexByte(" (),?<>=", sql[j]) < 0 {
				j++
			}
		}
		toks = append(toks, sql[i:j])
		i = j
	}
	return toks
}
