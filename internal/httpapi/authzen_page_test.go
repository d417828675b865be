package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzPageToken holds the page parser to its contract: whatever the token and limit, it
// answers a page request or a 400 naming page.token or page.limit, never a panic; and it
// accepts a token only for the query it was made for.
func FuzzPageToken(f *testing.F) {
	q := map[string]any{"subject": "user", "action": "view"}
	good := pageReq{digest: searchDigest("subject", q)}.nextToken("user:a")
	for _, seed := range []struct{ token, limit string }{
		{good, "2"}, {"", ""}, {"%%%", "1"}, {"eyJ2IjoxLCJxIjoiMDAwIiwiYSI6ImEifQ", "-1"}, {strings.Repeat("A", 3000), "1e3"},
		{"eyJ2IjoxfQ", "null"}, {"e30", "0"}, {good + "A", "1000"},
	} {
		f.Add(seed.token, seed.limit)
	}
	f.Fuzz(func(t *testing.T, token, limit string) {
		p := &azPage{Token: &token}
		if limit != "" {
			p.Limit = json.RawMessage(limit)
		}
		req, err := parsePage(p, "subject", q)
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, "page.token") && !strings.Contains(msg, "page.limit") {
				t.Fatalf("error names no page member: %v", err)
			}
			return
		}
		if req.limit < 1 || req.limit > maxPageLimit {
			t.Fatalf("limit %d", req.limit)
		}
		if token != "" && req.after == "" {
			t.Fatalf("token %q accepted without a position", token)
		}
		if _, err := parsePage(&azPage{Token: &token}, "resource", q); token != "" && err == nil {
			t.Fatalf("token %q accepted for another kind of search", token)
		}
	})
}

// TestPageOf checks paging over sorted keys: pages follow each other without gap or repeat.
func TestPageOf(t *testing.T) {
	keys := []string{"a", "b", "c", "d", "e"}
	p := pageReq{limit: 2, digest: "d"}
	var all []string
	for {
		got, next := pageOf(p, keys, func(k string) bool { return k != "c" })
		all = append(all, got...)
		if next == "" {
			break
		}
		p.after = decodeAfter(t, next)
	}
	if strings.Join(all, "") != "abde" {
		t.Fatalf("pages gave %v", all)
	}
}

func decodeAfter(t *testing.T, token string) string {
	t.Helper()
	var pt pageToken
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || json.Unmarshal(raw, &pt) != nil {
		t.Fatalf("token %q: %v", token, err)
	}
	return pt.After
}
