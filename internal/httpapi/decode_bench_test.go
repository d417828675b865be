package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// reusableBody is a request body that a benchmark rewinds instead of allocating a new one.
type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

const benchEvaluation = `{"subject":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},` +
	`"action":{"name":"svc.servers.view"},"resource":{"type":"svc/servers","id":"grn:glp/workspaces/` +
	wsHex + `/regions/default/providers/svc/servers/1"},"context":{"explain":false}}`

// benchAuthZEN measures what an AuthZEN handler does with a body before it resolves and
// decides: readOpenBody, decodeMembers and planEvaluations.
func benchAuthZEN(b *testing.B, body string) {
	r := httptest.NewRequest(http.MethodPost, authzenEvaluation, nil)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	rb := &reusableBody{}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rb.Reset([]byte(body))
		r.Body, r.ContentLength = rb, int64(len(body))
		raw, err := readOpenBody(w, r)
		if err != nil {
			b.Fatal(err)
		}
		body, err := decodeMembers(raw, field("body"))
		if err != nil {
			b.Fatal(err)
		}
		plan, err := planEvaluations(&body)
		if err != nil || plan.errs[0] != nil {
			b.Fatal(err, plan.errs[0])
		}
	}
}

// BenchmarkDecodeEvaluation is the body of one POST /access/v1/evaluation.
func BenchmarkDecodeEvaluation(b *testing.B) {
	benchAuthZEN(b, benchEvaluation)
}

// BenchmarkDecodeEvaluations is a POST /access/v1/evaluations of 10 evaluations sharing a
// subject and an action.
func BenchmarkDecodeEvaluations(b *testing.B) {
	items := make([]string, 10)
	for i := range items {
		items[i] = `{"resource":{"type":"svc/servers","id":"grn:glp/workspaces/` + wsHex +
			`/regions/default/providers/svc/servers/` + strings.Repeat("1", i+1) + `"}}`
	}
	benchAuthZEN(b, `{"subject":{"type":"user","id":"00000000-0000-4000-8000-000000000001"},`+
		`"action":{"name":"svc.servers.view"},"options":{"evaluations_semantic":"execute_all"},"evaluations":[`+
		strings.Join(items, ",")+`]}`)
}
