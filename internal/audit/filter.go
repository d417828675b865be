package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/storage"
)

// PlatformServiceOffer is the service offer id of every keyhold record (GreenLake's id for
// its platform's own audit logs); region "global".
const (
	PlatformServiceOffer     = "00000000-0000-0000-0000-000000000000"
	PlatformServiceOfferName = "HPE GreenLake Platform"
	PlatformRegion           = "global"
)

// Filter limits.
const (
	MaxFilterLength     = 2048
	MaxFilterConditions = 32
	maxInItems          = 20
	maxServiceOffers    = 5
)

// FilterError says what is wrong with a filter; Pos is a byte offset in it.
type FilterError struct {
	Pos    int
	Reason string
}

func (e *FilterError) Error() string { return fmt.Sprintf("filter at byte %d: %s", e.Pos, e.Reason) }

// filterProp is one property of the audit-log filter: its column (or a constant predicate
// decided in Go, for properties every keyhold record shares) and its operators.
type filterProp struct {
	column string
	ops    string // space-separated: eq in lt ge contains
	value  func(string) (any, error)
	// fixed, when set, decides a comparison without SQL (serviceOffer/id, region, hasDetails).
	fixed func(op string, vals []string) bool
}

var workspaceTypes = map[string]string{"STANDALONE": storage.WorkspaceStandard, "TENANT": storage.WorkspaceTenant, "MSP": storage.WorkspaceMSP}

var filterProps = map[string]filterProp{
	"createdAt":      {column: "r.at", ops: "lt ge", value: parseFilterTime},
	"category":       {column: "r.category", ops: "eq in"},
	"description":    {column: "r.description", ops: "eq contains"},
	"ipAddress":      {column: "r.source_addr", ops: "eq contains"},
	"username":       {column: "r.username", ops: "eq contains"},
	"workspace/name": {column: "COALESCE(w.name, '')", ops: "eq contains"},
	"workspace/type": {column: "COALESCE(w.type, '')", ops: "eq", value: func(v string) (any, error) {
		t, ok := workspaceTypes[v]
		if !ok {
			return nil, fmt.Errorf("workspace/type must be STANDALONE, TENANT or MSP")
		}
		return t, nil
	}},
	"serviceOffer/id": {ops: "eq in", fixed: func(_ string, vals []string) bool {
		for _, v := range vals {
			if strings.EqualFold(v, PlatformServiceOffer) {
				return true
			}
		}
		return false
	}},
	"region":     {ops: "eq", fixed: func(_ string, vals []string) bool { return vals[0] == PlatformRegion }},
	"hasDetails": {ops: "eq", fixed: func(_ string, vals []string) bool { return vals[0] == "true" }},
}

func parseFilterTime(v string) (any, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return nil, fmt.Errorf("createdAt needs an RFC 3339 time such as 2024-02-16T07:54:55.0Z")
}

// CompileFilter compiles the audit-log filter language (the published document's: conditions
// joined by `and`; `key eq 'v'`, `key in ('a', 'b')`, `contains(key, 'v')`, `createdAt lt|ge
// 'time'`) into a predicate over audit_records r joined with workspaces w. The SQL holds only
// fixed column names, operators and placeholders; every value is bound. contains matches
// case-insensitively. An empty filter is no predicate.
func CompileFilter(input string) (storage.Predicate, error) {
	if len(input) > MaxFilterLength {
		return storage.Predicate{}, &FilterError{Pos: MaxFilterLength, Reason: fmt.Sprintf("longer than %d bytes", MaxFilterLength)}
	}
	p := &filterParser{in: input}
	var parts []string
	var args []any
	for n := 0; ; n++ {
		p.space()
		if n == 0 && p.pos == len(p.in) {
			return storage.Predicate{}, nil
		}
		if n >= MaxFilterConditions {
			return storage.Predicate{}, p.fail("more than %d conditions", MaxFilterConditions)
		}
		sql, a, err := p.condition()
		if err != nil {
			return storage.Predicate{}, err
		}
		parts, args = append(parts, sql), append(args, a...)
		p.space()
		if p.pos == len(p.in) {
			break
		}
		if !p.word("and") {
			return storage.Predicate{}, p.fail("expected `and` or the end of the filter")
		}
	}
	return storage.Predicate{SQL: strings.Join(parts, " AND "), Args: args}, nil
}

type filterParser struct {
	in  string
	pos int
}

func (p *filterParser) fail(format string, a ...any) *FilterError {
	return &FilterError{Pos: p.pos, Reason: fmt.Sprintf(format, a...)}
}

func (p *filterParser) space() {
	for p.pos < len(p.in) && (p.in[p.pos] == ' ' || p.in[p.pos] == '\t') {
		p.pos++
	}
}

// word consumes a keyword (case-insensitive) followed by a space, '(' or the end.
func (p *filterParser) word(w string) bool {
	end := p.pos + len(w)
	if end > len(p.in) || !strings.EqualFold(p.in[p.pos:end], w) {
		return false
	}
	if end < len(p.in) && p.in[end] != ' ' && p.in[end] != '\t' && p.in[end] != '(' {
		return false
	}
	p.pos = end
	return true
}

func (p *filterParser) punct(c byte) bool {
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *filterParser) name() string {
	p.space()
	start := p.pos
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '_' {
			p.pos++
			continue
		}
		break
	}
	return p.in[start:p.pos]
}

// literal reads a single-quoted string (” is one quote).
func (p *filterParser) literal() (string, error) {
	p.space()
	if p.pos >= len(p.in) || p.in[p.pos] != '\'' {
		return "", p.fail("expected a quoted value")
	}
	p.pos++
	var b strings.Builder
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		p.pos++
		if c != '\'' {
			b.WriteByte(c)
			continue
		}
		if p.pos < len(p.in) && p.in[p.pos] == '\'' {
			b.WriteByte('\'')
			p.pos++
			continue
		}
		return b.String(), nil
	}
	return "", p.fail("unterminated quoted value")
}

func (p *filterParser) condition() (string, []any, error) {
	start := p.pos
	if p.word("contains") {
		if !p.punct('(') {
			return "", nil, p.fail("expected ( after contains")
		}
		key := p.name()
		if !p.punct(',') {
			return "", nil, p.fail("expected , after the property")
		}
		v, err := p.literal()
		if err != nil {
			return "", nil, err
		}
		if !p.punct(')') {
			return "", nil, p.fail("expected ) to close contains")
		}
		return p.compile(start, key, "contains", []string{v})
	}
	key := p.name()
	if key == "" {
		return "", nil, p.fail("expected a property name")
	}
	p.space()
	opStart := p.pos
	op := strings.ToLower(p.name())
	switch op {
	case "eq", "lt", "ge":
		v, err := p.literal()
		if err != nil {
			return "", nil, err
		}
		return p.compile(start, key, op, []string{v})
	case "in":
		if !p.punct('(') {
			return "", nil, p.fail("expected ( after in")
		}
		var vals []string
		for {
			v, err := p.literal()
			if err != nil {
				return "", nil, err
			}
			if vals = append(vals, v); len(vals) > maxInItems {
				return "", nil, p.fail("more than %d values in a list", maxInItems)
			}
			if p.punct(')') {
				break
			}
			if !p.punct(',') {
				return "", nil, p.fail("expected , or ) in the list")
			}
		}
		return p.compile(start, key, op, vals)
	}
	p.pos = opStart
	return "", nil, p.fail("expected eq, in, lt or ge after %q", truncate(key))
}

func (p *filterParser) compile(at int, key, op string, vals []string) (string, []any, error) {
	prop, ok := filterProps[key]
	if !ok {
		return "", nil, &FilterError{Pos: at, Reason: fmt.Sprintf("%q is not a filter property (createdAt, category, description, ipAddress, username, workspace/name, workspace/type, serviceOffer/id, region, hasDetails)", truncate(key))}
	}
	if !strings.Contains(" "+prop.ops+" ", " "+op+" ") {
		return "", nil, &FilterError{Pos: at, Reason: fmt.Sprintf("%s does not support %s (it supports %s)", key, op, prop.ops)}
	}
	if key == "serviceOffer/id" && len(vals) > maxServiceOffers {
		return "", nil, &FilterError{Pos: at, Reason: fmt.Sprintf("at most %d serviceOffer/id values", maxServiceOffers)}
	}
	if prop.fixed != nil {
		if prop.fixed(op, vals) {
			return "1 = 1", nil, nil
		}
		return "1 = 0", nil, nil
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
		if prop.value != nil {
			x, err := prop.value(v)
			if err != nil {
				return "", nil, &FilterError{Pos: at, Reason: err.Error()}
			}
			args[i] = x
		}
	}
	switch op {
	case "eq":
		return "(" + prop.column + " = ?)", args, nil
	case "lt":
		return "(" + prop.column + " < ?)", args, nil
	case "ge":
		return "(" + prop.column + " >= ?)", args, nil
	case "contains":
		return "(LOWER(" + prop.column + ") LIKE ? ESCAPE '!')", []any{"%" + likeEscape(strings.ToLower(vals[0])) + "%"}, nil
	}
	return "(" + prop.column + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + "))", args, nil
}

func likeEscape(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(s)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// sortable maps the sort parameter's properties to columns.
var sortable = map[string]string{"createdAt": "r.at", "category": "r.category", "username": "r.username",
	"ipAddress": "r.source_addr", "description": "r.description"}

// CompileSort compiles the sort parameter ("createdAt", "category asc", "createdAt desc,
// username"): properties as in sortable, descending unless asc is given (the document's
// default). "" sorts newest first.
func CompileSort(input string) (string, error) {
	if strings.TrimSpace(input) == "" {
		return "", nil
	}
	var out []string
	for _, part := range strings.Split(input, ",") {
		f := strings.Fields(part)
		if len(f) == 0 || len(f) > 2 || len(out) >= 3 {
			return "", fmt.Errorf("sort takes up to 3 properties, each optionally followed by asc or desc")
		}
		col, ok := sortable[f[0]]
		if !ok {
			return "", fmt.Errorf("cannot sort by %q (createdAt, category, username, ipAddress, description)", truncate(f[0]))
		}
		dir := "DESC"
		if len(f) == 2 {
			switch strings.ToLower(f[1]) {
			case "asc":
				dir = "ASC"
			case "desc":
			default:
				return "", fmt.Errorf("sort direction %q: asc or desc", truncate(f[1]))
			}
		}
		out = append(out, col+" "+dir)
	}
	return strings.Join(out, ", "), nil
}
