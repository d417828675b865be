package apidoctest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/apidoc/apidoctest"
)

const group = `{"id":"01a24903-195f-78b0-88e4-a72dce5e52e7","type":"identity/user-group","name":"Engineering",` +
	`"description":"","principal":"user-group:01a24903-195f-78b0-88e4-a72dce5e52e7","generation":1,` +
	`"createdAt":"2026-12-06T01:41:09.599568Z","updatedAt":"2026-12-06T01:41:09.599568Z"`

// TestOpenAPIValidationHasTeeth shows that the check apptest runs on every exchange refuses
// what the document does not describe: an extra field, a missing one, a wrong type, a
// status, a path; and accepts the documented answer.
func TestOpenAPIValidationHasTeeth(t *testing.T) {
	doc, err := apidoctest.Load()
	if err != nil {
		t.Fatal(err)
	}
	json := http.Header{"Content-Type": {"application/json"}}
	const one = "/identity/v1/user-groups/01a24903-195f-78b0-88e4-a72dce5e52e7"
	for _, c := range []struct {
		name, method, path string
		reqBody            string
		status             int
		body               string
		ok                 bool
	}{
		{"documented", "GET", one, "", 200, group + `}`, true},
		{"documented, trailing slash", "GET", one + "/", "", 200, group + `}`, true},
		{"undocumented response field", "GET", one, "", 200, group + `,"secret":"x"}`, false},
		{"undocumented field in a nested object", "GET", "/authorization/v2alpha2/role-assignments/01a24903-195f-78b0-88e4-a72dce5e52e7", "", 200,
			`{"id":"01a24903-195f-78b0-88e4-a72dce5e52e7","type":"authorization/role-assignment","subject":"user:x",` +
				`"principalMetadata":{"id":"x","type":"identity/user","extra":1},"role":"grn:glp","roleMetadata":{"id":"x","type":"authorization/role"},` +
				`"scope":[],"source":"LOCAL","generation":1,"createdAt":"t","updatedAt":"t"}`, false},
		{"missing required field", "GET", one, "", 200, strings.Replace(group, `"name":"Engineering",`, "", 1) + `}`, false},
		{"wrong type", "GET", one, "", 200, strings.Replace(group, `"generation":1`, `"generation":"1"`, 1) + `}`, false},
		{"undocumented status", "GET", one, "", 418, `{}`, false},
		{"value other than the const", "GET", one, "", 200, strings.Replace(group, `"type":"identity/user-group"`, `"type":"identity/user"`, 1) + `}`, false},
		{"null where the type allows it", "GET", "/workspaces/v1/credentials/01a24903-195f-78b0-88e4-a72dce5e52e7/keys", "", 200, `{"jwks":null,"jwksUri":null}`, true},
		{"a number where the type allows string or null", "GET", "/workspaces/v1/credentials/01a24903-195f-78b0-88e4-a72dce5e52e7/keys", "", 200, `{"jwks":null,"jwksUri":5}`, false},
		{"null where the type does not allow it", "GET", one, "", 200, strings.Replace(group, `"name":"Engineering"`, `"name":null`, 1) + `}`, false},
		{"error without debugId", "GET", one, "", 404, `{"httpStatusCode":404,"errorCode":"E","message":"m"}`, false},
		{"undocumented path answered", "GET", "/identity/v1/nothing", "", 200, `{}`, false},
		{"undocumented path refused", "GET", "/identity/v1/nothing", "", 404, `{}`, true},
		{"escaped slash inside an id", "DELETE", "/workspaces/v1/credentials/..%2F..%2Fetc", "", 400,
			`{"httpStatusCode":400,"errorCode":"E","message":"m","debugId":"d"}`, true},
		{"accepted request with an undocumented field", "POST", "/identity/v1/user-groups", `{"name":"a","colour":"red"}`, 201, group + `}`, false},
		{"refused request with an undocumented field", "POST", "/identity/v1/user-groups", `{"name":"a","colour":"red"}`, 400,
			`{"httpStatusCode":400,"errorCode":"E","message":"m","debugId":"d"}`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, "http://keyhold.test"+c.path, strings.NewReader(c.reqBody))
			if err != nil {
				t.Fatal(err)
			}
			if c.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			err = doc.Check(req, []byte(c.reqBody), c.status, json, []byte(c.body))
			if c.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !c.ok && err == nil {
				t.Error("accepted")
			}
		})
	}
}

// BenchmarkCheck measures what the check adds to each exchange of the API test suite.
func BenchmarkCheck(b *testing.B) {
	doc, err := apidoctest.Load()
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://keyhold.test/identity/v1/user-groups/01a24903-195f-78b0-88e4-a72dce5e52e7", nil)
	h := http.Header{"Content-Type": {"application/json"}}
	body := []byte(group + `}`)
	for b.Loop() {
		if err := doc.Check(req, nil, 200, h, body); err != nil {
			b.Fatal(err)
		}
	}
}
