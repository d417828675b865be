package odata_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/odata"
)

// GreenLake's documents write time filters without a zone, e.g. the MSP tenants list's own
// example createdAt gt '2020-09-21T14:19:09.769747'. keyhold serves every time in UTC, so a
// zone-less time is read as UTC; every other form keeps its strict RFC 3339 reading.
var zonelessSchema = odata.NewSchema(
	odata.Property{Name: "createdAt", Column: "created_at", Kind: odata.Time,
		Ops: []odata.Op{odata.Eq, odata.Ne, odata.Gt, odata.Ge, odata.Lt, odata.Le}},
	odata.Property{Name: "name", Column: "name", Kind: odata.String, Ops: []odata.Op{odata.Eq}},
)

func TestZonelessTimeIsUTC(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	for _, tc := range []struct {
		filter string
		want   time.Time
	}{
		{"createdAt gt '2020-09-21T14:19:09.769747'", utc("2020-09-21T14:19:09.769747Z")},
		{"createdAt gt 2020-09-21T14:19:09.769747", utc("2020-09-21T14:19:09.769747Z")},
		{"createdAt ge '2020-09-21T14:19:09'", utc("2020-09-21T14:19:09Z")},
		{"createdAt lt 2020-09-21T14:19:09.5", utc("2020-09-21T14:19:09.5Z")},
		{"createdAt eq '2020-09-21T14:19:09.123456789'", utc("2020-09-21T14:19:09.123456789Z")},
		// The zoned forms are unchanged: an offset is applied, Z is UTC.
		{"createdAt gt '2020-09-21T16:19:09.769747+02:00'", utc("2020-09-21T14:19:09.769747Z")},
		{"createdAt gt 2020-09-21T14:19:09.769747Z", utc("2020-09-21T14:19:09.769747Z")},
	} {
		p, err := zonelessSchema.Compile(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if len(p.Args) != 1 {
			t.Errorf("%s: args %v", tc.filter, p.Args)
			continue
		}
		got, ok := p.Args[0].(time.Time)
		if !ok || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("%s: bound %#v, want %v in UTC", tc.filter, p.Args[0], tc.want)
		}
		if !strings.Contains(p.SQL, "created_at") || strings.Contains(p.SQL, "2020") {
			t.Errorf("%s: SQL %q", tc.filter, p.SQL)
		}
	}
}

// The zone-less reading is exactly that: a date and a time to the second, nothing looser.
func TestZonelessTimeStaysStrict(t *testing.T) {
	for _, filter := range []string{
		"createdAt gt '2020-09-21'",                    // a date alone
		"createdAt gt '2020-09-21T14:19'",              // no seconds
		"createdAt gt '2020-09-21 14:19:09'",           // space instead of T
		"createdAt gt '2020-09-21T25:19:09'",           // hour out of range
		"createdAt gt '2020-02-30T14:19:09'",           // no such day
		"createdAt gt '2020-09-21T14:19:09.'",          // empty fraction
		"createdAt gt '2020-09-21T14:19:09.769747 '",   // trailing space
		"createdAt gt '2020-09-21T14:19:09.769747UTC'", // a zone name
		"createdAt gt '2020-09-21T14:19:09+0200'",      // offset without colon
		"createdAt gt 2020-09-21",                      // unquoted date: a bad literal
		"createdAt gt 2020-09-21T14:19",                // unquoted, no seconds
		"name eq 2020-09-21T14:19:09",                  // a time where a string is expected
	} {
		if p, err := zonelessSchema.Compile(filter); err == nil {
			t.Errorf("%s: accepted as %q %v", filter, p.SQL, p.Args)
		}
	}
}

// Match (the in-memory evaluator) reads zone-less times as the compiler binds them.
func TestZonelessTimeMatch(t *testing.T) {
	e, err := odata.Parse("createdAt gt '2020-09-21T14:19:09.769747'")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2020-09-21T14:19:09.769747Z", false},
		{"2020-09-21T14:19:09.769748Z", true},
		{"2020-09-21T15:19:09.769746+01:00", false}, // the same instant minus 1µs
		{"2020-09-21T15:19:09.769748+01:00", true},
	} {
		at, err := time.Parse(time.RFC3339Nano, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		got, err := zonelessSchema.Match(e, func(string) any { return at })
		if err != nil || got != tc.want {
			t.Errorf("createdAt %s: match %v (%v), want %v", tc.at, got, err, tc.want)
		}
	}
	// The compiled argument and the one Match compares with are the same instant.
	p, _ := zonelessSchema.CompileExpr(e)
	if want := []any{time.Date(2020, 9, 21, 14, 19, 9, 769747000, time.UTC)}; !reflect.DeepEqual(p.Args, want) {
		t.Errorf("args %v, want %v", p.Args, want)
	}
}
