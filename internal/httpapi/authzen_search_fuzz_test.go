package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
)

// decodeSearchRequest runs a body through what the subject and resource search handlers do
// before they resolve and decide: readOpenBody, decodeMembers, then the search's parser.
func decodeSearchRequest(data []byte) (subjectSearch, error, resourceSearch, error, error) {
	r := httptest.NewRequest(http.MethodPost, authzenSearchSubject, bytes.NewReader(data))
	r.Header.Set("Content-Type", "application/json")
	raw, err := readOpenBody(httptest.NewRecorder(), r)
	if err != nil {
		return subjectSearch{}, nil, resourceSearch{}, nil, err
	}
	body, err := decodeMembers(raw, field("body"))
	if err != nil {
		return subjectSearch{}, nil, resourceSearch{}, nil, err
	}
	s, serr := parseSubjectSearch(&body, pdp{})
	rs, rerr := parseResourceSearch(&body, pdp{})
	return s, serr, rs, rerr, nil
}

// searchCases are search bodies and whether the subject search (subjectOK) and the resource
// search (resourceOK) accept them. Inputs the fuzzer found interesting are kept here.
var searchCases = []struct {
	name                  string
	body                  string
	subjectOK, resourceOK bool
}{
	{"the scenario's subject search", `{"resource":{"type":"record","id":"101"},"action":{"name":"view"},"subject":{"type":"user"}}`, true, false},
	{"the scenario's resource search", `{"subject":{"type":"user","id":"alice"},"action":{"name":"view"},"resource":{"type":"record"}}`, false, true},
	{"both", `{"subject":{"type":"identity","id":"alice"},"action":{"name":"view"},"resource":{"type":"svc/record","id":"1"}}`, true, true},
	{"a token subject type", `{"subject":{"type":"token","id":"x"},"action":{"name":"view"},"resource":{"type":"record","id":"1"}}`, false, true},
	{"unknown members everywhere", `{"x":1,"subject":{"type":"user","id":"a","y":[]},"action":{"name":"v","z":{}},
		"resource":{"type":"record","id":"1","w":null},"context":{"q":1},"page":{"limit":2,"v":true}}`, true, true},
	{"a bad resource type", `{"subject":{"type":"user","id":"a"},"action":{"name":"v"},"resource":{"type":"a/b/c","id":"1"}}`, true, false},
	{"a resource type with a space", `{"subject":{"type":"user","id":"a"},"action":{"name":"v"},"resource":{"type":"re cord"}}`, false, false},
	{"no action", `{"subject":{"type":"user","id":"a"},"resource":{"type":"record","id":"1"}}`, false, false},
	{"a page token that is not a string", `{"subject":{"type":"user","id":"a"},"action":{"name":"v"},"resource":{"type":"record","id":"1"},"page":{"token":7}}`, false, false},
	{"a page limit out of range", `{"subject":{"type":"user","id":"a"},"action":{"name":"v"},"resource":{"type":"record","id":"1"},"page":{"limit":5000}}`, false, false},
	{"a duplicate page member", `{"subject":{"type":"user","id":"a"},"action":{"name":"v"},"resource":{"type":"record","id":"1"},"page":{"limit":1,"limit":2}}`, false, false},
	{"page null", `{"subject":{"type":"user","id":"a"},"action":{"name":"v"},"resource":{"type":"record","id":"1"},"page":null}`, true, true},
	{"a subject type in another case", `{"subject":{"Type":"user","id":"a"},"action":{"name":"v"},"resource":{"type":"record","id":"1"}}`, false, false},
	{"a bad GRN", `{"subject":{"type":"user"},"action":{"name":"v"},"resource":{"type":"record","id":"grn:glp/x/.."}}`, false, false},
}

func TestDecodeSearchRequests(t *testing.T) {
	for _, tc := range searchCases {
		t.Run(tc.name, func(t *testing.T) {
			_, serr, _, rerr, err := decodeSearchRequest([]byte(tc.body))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if (serr == nil) != tc.subjectOK || (rerr == nil) != tc.resourceOK {
				t.Fatalf("subject search: %v, resource search: %v", serr, rerr)
			}
			for _, e := range []error{serr, rerr} {
				if e != nil {
					checkClientError(t, []byte(tc.body), e)
				}
			}
		})
	}
}

// FuzzDecodeSearchRequest checks that no body makes the search parsers panic or fail with
// anything but a client error, and that what they accept is well-formed.
func FuzzDecodeSearchRequest(f *testing.F) {
	for _, c := range searchCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, serr, rs, rerr, err := decodeSearchRequest(data)
		if err != nil {
			checkClientError(t, data, err)
			return
		}
		if serr != nil {
			checkClientError(t, data, serr)
		} else if s.kind == "" || s.kind == subjectTypeToken || s.asked == "" || s.q.action == "" || s.q.resType == "" || s.q.resID == "" ||
			s.page.limit < 1 || s.page.limit > maxPageLimit {
			t.Fatalf("%q: subject search %+v", data, s)
		}
		if rerr != nil {
			checkClientError(t, data, rerr)
		} else if rs.q.subjectType == "" || rs.q.subjectID == "" || rs.q.action == "" || rs.rtype == "" || strings.Count(rs.rtype, "/") > 1 {
			t.Fatalf("%q: resource search %+v", data, rs)
		}
	})
}

// TestSearchAnswers checks the names searches answer with: resource ids read back through
// the GRN encoding (any id, except those an evaluation would read as a GRN or the wildcard),
// GRNs for what is not a (type, id) resource, short action names for the resource's type.
func TestSearchAnswers(t *testing.T) {
	ws, _ := grn.Workspace("", "0192f3a4-5b6c-7d8e-9fab-00000000000a")
	base := ws.String() + "/regions/default/providers/sad/record/"
	for _, id := range []string{"101", "disk/a b", "a_b", ".", "..", "beth@the-smiths.com", "/todos/{todoId}", "é"} {
		if got := resourceAnswer(base+grn.EscapeID(id), ws, "sad", "record"); got != id {
			t.Errorf("%q came back as %q", id, got)
		}
	}
	for _, text := range []string{
		base + "*", base + grn.EscapeID("grn:glp"), // read back as a wildcard or a GRN
		base + "1/nics/2", ws.String() + "/regions/eu/providers/sad/record/1", ws.String() + "/regions/default/providers/other/record/1",
		ws.String() + "/regions/default/providers/sad/file/1", "grn:glp/workspaces/0192f3a45b6c7d8e9fab00000000000b/regions/default/providers/sad/record/1",
	} {
		if got := resourceAnswer(text, ws, "sad", "record"); got != text {
			t.Errorf("%s came back as %q", text, got)
		}
	}
	for _, c := range []struct {
		perm, want string
		short      bool
	}{
		{"sad.record.view", "view", true}, {"sad.record.view", "sad.record.view", false},
		{"sad.file.view", "sad.file.view", true}, {"other.record.view", "other.record.view", true},
	} {
		if got := actionAnswer(c.perm, "sad", "record", c.short); got != c.want {
			t.Errorf("%s (short %v): %s, want %s", c.perm, c.short, got, c.want)
		}
	}
}
