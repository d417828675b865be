package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
)

// decodeDecisionRequest runs a body of POST /access/v1/evaluations through what the
// handler does before it resolves, authorizes and decides: readOpenBody, decodeMembers,
// then planEvaluations.
func decodeDecisionRequest(data []byte) (evaluationPlan, error) {
	r := httptest.NewRequest(http.MethodPost, authzenEvaluations, bytes.NewReader(data))
	r.Header.Set("Content-Type", "application/json")
	raw, err := readOpenBody(httptest.NewRecorder(), r)
	if err != nil {
		return evaluationPlan{}, err
	}
	body, err := decodeMembers(raw, field("body"))
	if err != nil {
		return evaluationPlan{}, err
	}
	return planEvaluations(&body)
}

const wsHex = "0192f3a45b6c7d8e9fab00000000000a"

// authzenCases are decision request bodies with what keyhold makes of them: ok, the whole
// request refused (reqErr), or one evaluation refused (itemErr, by index). Inputs the fuzzer
// found interesting are kept here.
var authzenCases = []struct {
	name    string
	body    string
	reqErr  bool
	itemErr map[int]bool
}{
	{"single", `{"subject":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},"action":{"name":"svc.servers.view"},
		"resource":{"type":"svc/servers","id":"grn:glp/workspaces/` + wsHex + `/regions/default/providers/svc/servers/1"}}`, false, nil},
	{"batch with defaults", `{"subject":{"type":"user-group","id":"00000000000040008000000000000001"},"action":{"name":"a.b.c"},
		"evaluations":[{"resource":{"type":"t","id":"grn:glp"}},{"resource":{"type":"t","id":"x","properties":{"grn":"grn:glp/workspaces/` + wsHex + `"}}}]}`, false, nil},
	{"token subject and explain", `{"subject":{"type":"token","id":"eyJ"},"action":{"name":"a"},"resource":{"type":"t","id":"grn:glp"},
		"context":{"explain":true,"time":"now"}}`, false, nil},
	{"semantic", `{"options":{"evaluations_semantic":"deny_on_first_deny","other":1},"evaluations":[{"subject":{"type":"api-client",
		"id":"00000000-0000-4000-8000-000000000001"},"action":{"name":"a"},"resource":{"type":"t","id":"grn:glp"}}]}`, false, nil},
	{"item without subject", `{"action":{"name":"a"},"evaluations":[{"resource":{"type":"t","id":"grn:glp"}}]}`, false, map[int]bool{0: true}},
	{"item with a bad GRN", `{"subject":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},"action":{"name":"a"},
		"evaluations":[{"resource":{"type":"t","id":"grn:glp/x/../y"}},{"resource":{"type":"t","id":"grn:glp"}}]}`, false, map[int]bool{0: true}},
	{"properties.grn not a string", `{"evaluations":[{"subject":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},
		"action":{"name":"a"},"resource":{"type":"t","id":"x","properties":{"grn":{"a":1}}}}]}`, false, map[int]bool{0: true}},
	{"the PEP's context is its own", `{"options":{},"evaluations":[{"subject":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},
		"action":{"name":"a"},"resource":{"type":"t","id":"grn:glp"},"context":{"explain":1}}]}`, false, nil},
	{"an empty batch is one evaluation", `{"options":{},"evaluations":[],"subject":{"type":"user","id":"rick@the-citadel.com"},
		"action":{"name":"can_read_todos"},"resource":{"type":"todo","id":"todo-1"}}`, false, nil},
	{"an empty batch without defaults", `{"options":{},"evaluations":[]}`, false, map[int]bool{0: true}},
	{"an unknown semantic", `{"options":{"evaluations_semantic":"all"},"evaluations":[{}]}`, true, nil},
	{"evaluations not an array", `{"evaluations":{}}`, true, nil},
	{"an unknown member is ignored", `{"subjects":[],"subject":{"type":"identity","id":"x","identity":"y"},"action":{"name":"a","x":1},
		"resource":{"type":"todo","id":"1","ownerID":"z"},"x":{"y":1}}`, false, nil},
	{"only unknown members", `{"subjects":[]}`, false, map[int]bool{0: true}},
	{"a member in another case is another member", `{"Subject":{"type":"user","id":"x"}}`, false, map[int]bool{0: true}},
	{"a nested member in another case", `{"subject":{"type":"user","id":"x"},"resource":{"Type":"t","id":"grn:glp"}}`, false, map[int]bool{0: true}},
	{"a member in another case inside a batch", `{"evaluations":[{"resource":{"type":"t","id":"grn:glp"}},{"Resource":{"type":"t","id":"grn:glp"}}]}`, false, map[int]bool{0: true, 1: true}},
	{"a nested member in another case inside a batch", `{"evaluations":[{"resource":{"TYPE":"t","id":"grn:glp"}}]}`, false, map[int]bool{0: true}},
	{"a duplicate member", `{"subject":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},"action":{"name":"a"},"action":{"name":"b"},
		"resource":{"type":"t","id":"grn:glp"}}`, true, nil},
	{"a duplicate member inside a batch", `{"evaluations":[{"action":{"name":"a","name":"b"}}]}`, false, map[int]bool{0: true}},
	{"properties not an object are ignored", `{"subject":{"type":"user","id":"x","properties":[]},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}`, false, nil},
	{"null evaluation", `{"evaluations":[null]}`, false, map[int]bool{0: true}},
	{"a subject scope", `{"subject":{"type":"user","id":"x","properties":{"scope":"a.b.c d.e.*"}},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}`, false, nil},
	{"an empty or null subject scope", `{"action":{"name":"a"},"resource":{"type":"t","id":"1"},"evaluations":[{"subject":{"type":"user","id":"x","properties":{"scope":""}}},{"subject":{"type":"user","id":"x","properties":{"scope":null}}}]}`, false, nil},
	{"a malformed subject scope", `{"subject":{"type":"user","id":"x","properties":{"scope":"openid"}},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}`, false, map[int]bool{0: true}},
	{"a subject scope not a string", `{"subject":{"type":"user","id":"x","properties":{"scope":["a.b.c"]}},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}`, false, map[int]bool{0: true}},
	{"a subject scope with a double space", `{"evaluations":[{"subject":{"type":"user","id":"x","properties":{"scope":"a.b.c  d.e.f"}}}]}`, false, map[int]bool{0: true}},
	{"trailing data", `{} {}`, true, nil},
	{"not an object", `"grn:glp"`, true, nil},
	{"invalid UTF-8", "{\"subject\":{\"type\":\"user\",\"id\":\"\xff\"}}", true, nil},
	{"deep nesting in context", `{"context":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200) + `}`, false, map[int]bool{0: true}},
	{"a subject id over the limit", `{"subject":{"type":"user","id":"` + strings.Repeat("a", 513) + `"},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}`, false, map[int]bool{0: true}},
	{"an unknown subject type", `{"subject":{"type":"robot","id":"x"},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}`, false, map[int]bool{0: true}},
	{"a subject id that is not a string", `{"subject":{"type":"user","id":7},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}`, false, map[int]bool{0: true}},
	{"a GRN with a NUL byte", `{"subject":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},"action":{"name":"a"},
		"resource":{"type":"t","id":"grn:glp\u0000"}}`, false, map[int]bool{0: true}},
	// Found by FuzzDecodeDecisionRequest.
	{"fuzz: a known member in mixed case", `{"suBjeCt":{},"0000":""}`, false, map[int]bool{0: true}},
	{"fuzz: an unknown member in an evaluation", `{"options":{},"evaluations":[{"":{},"x":{"":1}}]}`, false, map[int]bool{0: true}},
	{"fuzz: unknown members nested deep", `{"":` + strings.Repeat(`{"":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`, false, map[int]bool{0: true}},
	{"fuzz: null evaluations in options mode", `{"options":{},"evaluations":[null,null]}`, false, map[int]bool{0: true, 1: true}},
	{"an escaped member name is that member", `{"subj\u0065ct":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},
		"action":{"name":"a"},"resource":{"type":"t","id":"grn:glp"}}`, false, nil},
	{"an escaped duplicate", `{"subject":{"type":"user","id":"x"},"subj\u0065ct":{"type":"user","id":"y"}}`, true, nil},
	{"a duplicate among many members", `{` + manyMembers(20) + `,"k7":0}`, true, nil},
	{"many distinct members", `{` + manyMembers(40) + `}`, false, map[int]bool{0: true}},
	{"a duplicate member in context", `{"subject":{"type":"user","id":"x"},"action":{"name":"a"},"resource":{"type":"t","id":"grn:glp"},
		"context":{"a":1,"a":2}}`, false, map[int]bool{0: true}},
	{"a duplicate deeper in context is the PEP's", `{"subject":{"type":"user","id":"x"},"action":{"name":"a"},"resource":{"type":"t","id":"grn:glp"},
		"context":{"a":{"b":1,"b":2}}}`, false, nil},
	{"context not an object", `{"subject":{"type":"user","id":"x"},"action":{"name":"a"},"resource":{"type":"t","id":"1"},"context":[]}`, false, map[int]bool{0: true}},
	{"a bad default fails only the items that use it", `{"subject":{"type":7},"action":{"name":"a"},"evaluations":[
		{"resource":{"type":"t","id":"1"}},{"subject":{"type":"user","id":"x"},"resource":{"type":"t","id":"1"}}]}`, false, map[int]bool{0: true}},
	{"too many evaluations", `{"evaluations":[` + strings.Repeat(`{},`, maxEvaluations) + `{}]}`, true, nil},
	{"as many evaluations as allowed", `{"subject":{"type":"user","id":"x"},"action":{"name":"a"},"resource":{"type":"t","id":"1"},"evaluations":[` +
		strings.Repeat(`{},`, maxEvaluations-1) + `{}]}`, false, nil},
	{"options not an object", `{"options":[],"evaluations":[{}]}`, true, nil},
	{"a duplicate member in options", `{"options":{"evaluations_semantic":"execute_all","evaluations_semantic":"deny_on_first_deny"}}`, true, nil},
	{"white space everywhere", " \n{ \"subject\" : { \"type\" : \"user\" , \"id\" : \"x\" } ,\t\"action\":{\"name\":\"a\"} , " +
		"\"resource\" : {\"type\":\"t\",\"id\":\"1\" , \"properties\" : { \"grn\" : \"grn:glp\" } } } \n", false, nil},
	{"a long action name", `{"subject":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},"action":{"name":"` +
		strings.Repeat("a", 129) + `"},"resource":{"type":"t","id":"grn:glp"}}`, false, map[int]bool{0: true}},
}

// manyMembers is n distinct members k0..k(n-1), unknown to keyhold.
func manyMembers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i)
	}
	return strings.Join(parts, ",")
}

func TestDecodeDecisionRequests(t *testing.T) {
	for _, tc := range authzenCases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := decodeDecisionRequest([]byte(tc.body))
			if tc.reqErr {
				if err == nil {
					t.Fatalf("accepted: %+v", plan)
				}
				checkClientError(t, []byte(tc.body), err)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			for i, e := range plan.errs {
				if (e != nil) != tc.itemErr[i] {
					t.Fatalf("evaluation %d: error %v, want one: %v", i, e, tc.itemErr[i])
				}
				if e != nil {
					checkClientError(t, []byte(tc.body), e)
				}
			}
		})
	}
}

// FuzzDecodeDecisionRequest checks that no body makes the decoding of a decision request
// panic or fail with anything but a client error, and that what it accepts is well-formed:
// a canonical principal or a token, an action of at most 128 bytes, and a valid GRN.
func FuzzDecodeDecisionRequest(f *testing.F) {
	for _, c := range authzenCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		plan, err := decodeDecisionRequest(data)
		if err != nil {
			checkClientError(t, data, err)
			return
		}
		if len(plan.queries) != len(plan.errs) || len(plan.queries) == 0 || len(plan.queries) > maxEvaluations {
			t.Fatalf("%q: plan of %d queries and %d errors", data, len(plan.queries), len(plan.errs))
		}
		for i, q := range plan.queries {
			if plan.errs[i] != nil {
				checkClientError(t, data, plan.errs[i])
				continue
			}
			switch q.subjectType {
			case principal.TypeUser, principal.TypeUserGroup, principal.TypeAPIClient, subjectTypeToken:
			default:
				t.Fatalf("%q: query %d has subject type %q", data, i, q.subjectType)
			}
			if q.subjectID == "" || q.resType == "" || q.resID == "" || len(q.resID) > maxIDLen {
				t.Fatalf("%q: query %d: subject id %q, resource (%q, %q)", data, i, q.subjectID, q.resType, q.resID)
			}
			if q.action == "" || len(q.action) > maxActionNameLen {
				t.Fatalf("%q: action %q", data, q.action)
			}
			if q.grnMember != "" {
				if g, err := grn.Parse(q.grn.String()); err != nil || !g.Equal(q.grn) {
					t.Fatalf("%q: resource %q does not round-trip: %v", data, q.grn.String(), err)
				}
			}
		}
	})
}

// TestRequestPropertiesAsSent checks what conditions read of a decoded evaluation: the
// properties and the context as sent, raw, and the properties of pre-1.0 drafts at the
// entity's top level.
func TestRequestPropertiesAsSent(t *testing.T) {
	plan, err := decodeDecisionRequest([]byte(`{"subject":{"type":"identity","id":"rick@the-citadel.com","properties":{"email":"rick@the-citadel.com","n":1,"n":2}},
		"action":{"name":"can_update_todo","properties":{"method":"PUT"}},"context":{"time":"2026-01-01T00:00:00Z"},
		"evaluations":[{"resource":{"type":"todo","id":"7","ownerID":"morty@the-citadel.com"}},
		{"resource":{"type":"todo","id":"8","properties":{"ownerID":"rick@the-citadel.com"}},"context":null}]}`))
	if err != nil || plan.errs[0] != nil || plan.errs[1] != nil {
		t.Fatal(err, plan.errs)
	}
	q0, q1 := &plan.queries[0], &plan.queries[1]
	checks := []struct{ got, want string }{
		{string(q0.subject.Properties()), `{"email":"rick@the-citadel.com","n":1,"n":2}`},
		{string(q1.subject.Property("email")), `"rick@the-citadel.com"`},
		{string(q0.subject.Property("n")), `2`}, // the last, as encoding/json reads it
		{string(q0.actionEnt.Property("method")), `"PUT"`},
		{string(q0.resource.Property("ownerID")), `"morty@the-citadel.com"`},
		{string(q0.resource.Properties()), ``},
		{string(q1.resource.Property("ownerID")), `"rick@the-citadel.com"`},
		{string(q0.resource.Property("id")), ``},
		{string(q0.Context()), `{"time":"2026-01-01T00:00:00Z"}`},
		{string(q1.Context()), ``},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: %s, want %s", i, c.got, c.want)
		}
	}
}
