package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
)

// Paging of the AuthZEN search APIs (AuthZEN 1.0 §8.2). Every search sorts its results by a
// key (a principal, a GRN, a permission name); a page is the results after a key. The token
// names that key and a digest of the query it belongs to, so that
//
//   - pages are stable: results that exist throughout are returned once, in order, whatever
//     is added or removed between pages, and any node of a cluster continues any token;
//   - a token used with another query (another subject, action, resource, context or limit:
//     the specification asks for identical requests) is refused with 400, as is anything
//     that is not a token keyhold made.
//
// The token is not encrypted: it holds the last key of the page, which the caller has just
// received, and forging one can only move the start of a page the caller may read anyway.
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
	maxTokenLen      = 2048
	pageTokenVersion = 1
)

// azPage is the page member of a search request: its token and limit as sent (other members
// are ignored).
type azPage struct {
	Token *string
	Limit json.RawMessage
}

// decodePage reads the page member of a search request as sent (nil: absent); a member given
// twice is refused.
func decodePage(raw []byte) (*azPage, error) {
	obj, err := objectValue(raw, field("page"))
	if obj == nil || err != nil {
		return nil, err
	}
	p := &azPage{}
	it := members(obj, field("page"))
	for {
		key, v, ok, err := it.next()
		if err != nil || !ok {
			return p, err
		}
		switch string(key) {
		case "token":
			if isNull(v) {
				continue
			}
			s, err := stringValue(v, field("page").with("token"))
			if err != nil {
				return nil, err
			}
			p.Token = &s
		case "limit":
			p.Limit = json.RawMessage(v)
		}
	}
}

// pageToken is the decoded token: version, query digest, last key returned.
type pageToken struct {
	V     int    `json:"v"`
	Query string `json:"q"`
	After string `json:"a"`
}

// pageReq is a validated page request.
type pageReq struct {
	limit  int
	after  string
	digest string
}

// searchDigest identifies a search: its kind and its query (everything of the request but
// the page token: the caller passes what it read, with the page's limit).
func searchDigest(kind string, query any) string {
	raw, _ := json.Marshal(query) // maps and structs of JSON values always marshal
	sum := sha256.Sum256(append([]byte(kind+"\x00"), raw...))
	return hex.EncodeToString(sum[:12])
}

// parsePage validates page (nil: absent) against the digest of the query, which includes
// the page's limit.
func parsePage(p *azPage, kind string, query any) (pageReq, error) {
	var token string
	var limit json.RawMessage
	if p != nil {
		limit = p.Limit
		if p.Token != nil {
			token = *p.Token
		}
	}
	req := pageReq{limit: defaultPageLimit, digest: searchDigest(kind, [2]any{query, limit})}
	if p != nil && p.Limit != nil {
		var n int64
		err := json.Unmarshal(p.Limit, &n) // a JSON integer: not a string, a fraction or null
		if err != nil || string(p.Limit) == "null" || n < 0 || n > maxPageLimit {
			return req, apperr.Field("page.limit", "must be an integer from 0 to %d (0: keyhold's default, %d)", maxPageLimit, defaultPageLimit)
		}
		if n > 0 {
			req.limit = int(n)
		}
	}
	if token == "" {
		return req, nil
	}
	bad := apperr.Field("page.token", "is not a next_token keyhold returned for this query (the request must repeat the first page's members)")
	if len(token) > maxTokenLen {
		return req, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return req, bad
	}
	var t pageToken
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || t.V != pageTokenVersion || t.Query != req.digest || t.After == "" {
		return req, bad
	}
	req.after = t.After
	return req, nil
}

// nextToken is the token of the page after key.
func (p pageReq) nextToken(key string) string {
	raw, _ := json.Marshal(pageToken{V: pageTokenVersion, Query: p.digest, After: key})
	return base64.RawURLEncoding.EncodeToString(raw)
}

// scanBudget bounds the candidates one page confirms: a page may come back shorter than its
// limit (with a next_token) rather than confirm candidates without end.
func (p pageReq) scanBudget() int { return max(1000, 10*p.limit) }

// pageOf walks sorted keys after p.after, keeping those ok accepts, until the page is full or
// the scan budget is spent. It returns the kept keys and the next token ("" at the end).
func pageOf(p pageReq, keys []string, ok func(string) bool) ([]string, string) {
	start := 0
	if p.after != "" {
		// first key > after (keys are sorted and unique)
		lo, hi := 0, len(keys)
		for lo < hi {
			m := (lo + hi) / 2
			if keys[m] <= p.after {
				lo = m + 1
			} else {
				hi = m
			}
		}
		start = lo
	}
	var out []string
	budget := p.scanBudget()
	for i := start; i < len(keys); i++ {
		if len(out) == p.limit || budget == 0 {
			return out, p.nextToken(keys[i-1])
		}
		budget--
		if ok(keys[i]) {
			out = append(out, keys[i])
		}
	}
	return out, ""
}
