package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/storage"
)

// auditTotal counts the records of every workspace chain (the platform chain, which
// authentication failures and lockouts reach asynchronously, is left out).
func auditTotal(t testing.TB, e *apptest.Env) int64 {
	t.Helper()
	heads, err := e.Node.Store.AuditHeads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, h := range heads {
		if h.Chain != "" {
			n += h.Seq
		}
	}
	return n
}

// checkAudited checks the audit log after one request: a write answered 2xx added exactly one
// record, made by the request (its X-Request-Id), naming a target found in the path or the
// answer; any other request added none.
func checkAudited(t testing.TB, e *apptest.Env, method, path string, resp *http.Response, body []byte, before int64) {
	t.Helper()
	after := auditTotal(t, e)
	write := method != http.MethodGet && !strings.HasPrefix(path, "/access/v1/")
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !write || !ok {
		if after != before {
			t.Errorf("%s %s answered %d and added %d audit records, want none", method, path, resp.StatusCode, after-before)
		}
		return
	}
	if after != before+1 {
		t.Fatalf("%s %s answered %d and added %d audit records, want 1", method, path, resp.StatusCode, after-before)
	}
	rec := newestRecord(t, e, resp.Header.Get("X-Request-Id"))
	if rec == nil {
		t.Fatalf("%s %s: no record carries the request id %s", method, path, resp.Header.Get("X-Request-Id"))
	}
	last := rec.TargetID
	if i := strings.LastIndexByte(last, '/'); i >= 0 {
		last = last[i+1:]
	}
	if last == "" || !(strings.Contains(path, last) || strings.Contains(string(body), last) ||
		strings.Contains(strings.ReplaceAll(path, "-", ""), strings.ReplaceAll(last, "-", ""))) {
		t.Errorf("%s %s: the record's target %q (%s) is neither in the path nor in the answer %s", method, path, rec.TargetID, rec.TargetKind, body)
	}
	if rec.Principal == "" || rec.CredentialID == "" || rec.SourceAddr == "" || rec.Outcome != storage.AuditSuccess || rec.Hash == "" {
		t.Errorf("%s %s: record %+v lacks who, where or its hash", method, path, rec)
	}
}

// newestRecord finds the record a request made, in any workspace chain.
func newestRecord(t testing.TB, e *apptest.Env, requestID string) *storage.AuditRecord {
	t.Helper()
	heads, err := e.Node.Store.AuditHeads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range heads {
		items, _, err := e.Node.Store.ListAudit(context.Background(), storage.AuditQuery{Chain: h.Chain, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.RequestID == requestID {
				r := it.AuditRecord
				return &r
			}
		}
	}
	return nil
}
