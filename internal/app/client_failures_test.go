package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// invalid_client is one answer for every failure, on purpose; the operator, who cannot ask
// the client what it sent, reads why in the log (info, with the request id, never the
// secret) and in keyhold_auth_failures_total{kind="client",reason=...}.
func TestInvalidClientReasonsAreLoggedAndCounted(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	ws := e.Admin.WorkspaceID

	reset := createCred(t, e, tok, map[string]any{"credentialName": "to-reset"})
	resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+reset.ID+"/reset", tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d %s", resp.StatusCode, raw)
	}
	deleted := createCred(t, e, tok, map[string]any{"credentialName": "to-delete"})
	if resp, raw := e.Do(t, http.MethodDelete, credsPath+"/"+deleted.ID, tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, raw)
	}
	other := e.CreateWorkspace(t, "other", storage.WorkspaceStandard, "other@example.com")
	pasted := strings.Repeat("ab", 32) // a secret pasted into the client id field

	type attempt struct {
		reason, ws, id, secret string
		basic                  string // a raw Authorization header instead of the form
	}
	attempts := []attempt{
		{reason: "unknown_client", ws: ws, id: ids.New(), secret: "x"},
		{reason: "wrong_secret", ws: ws, id: e.Admin.ClientID, secret: strings.Repeat("0", 64)},
		{reason: "reset_secret", ws: ws, id: reset.ClientID, secret: reset.ClientSecret},
		{reason: "deleted", ws: ws, id: deleted.ClientID, secret: deleted.ClientSecret},
		{reason: "wrong_issuer", ws: other.WorkspaceID, id: e.Admin.ClientID, secret: e.Admin.ClientSecret},
		{reason: "malformed", ws: ws, id: pasted, secret: e.Admin.ClientSecret},
		{reason: "malformed", ws: ws, basic: "Basic !!!not-base64"},
		{reason: "missing", ws: ws, secret: e.Admin.ClientSecret},
	}
	before := map[string]float64{}
	for _, a := range attempts {
		before[a.reason] = oaMetric(t, e, `keyhold_auth_failures_total{kind="client",reason="`+a.reason+`"}`)
	}
	want := map[string]float64{}
	for _, a := range attempts {
		form := url.Values{"grant_type": {"client_credentials"}}
		if a.id != "" {
			form.Set("client_id", a.id)
		}
		if a.secret != "" && a.basic == "" {
			form.Set("client_secret", a.secret)
		}
		req, _ := http.NewRequest(http.MethodPost, e.TokenURL(a.ws), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if a.basic != "" {
			req.Header.Set("Authorization", a.basic)
		}
		resp, body := e.Send(t, req)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"invalid_client"`) {
			t.Fatalf("%s: %d %s", a.reason, resp.StatusCode, body)
		}
		// The client learns nothing of the reason.
		if strings.Contains(string(body), a.reason) {
			t.Errorf("%s: the answer names the reason: %s", a.reason, body)
		}
		want[a.reason]++
		line := failureLine(t, e.Logs.String(), resp.Header.Get("X-Request-Id"))
		if line == nil {
			t.Fatalf("%s: no log line with request id %s:\n%s", a.reason, resp.Header.Get("X-Request-Id"), e.Logs.String())
		}
		if line["reason"] != a.reason || line["level"] != "INFO" {
			t.Errorf("%s: logged %v", a.reason, line)
		}
		wantID := a.id
		if a.reason == "malformed" {
			wantID = ""
		}
		if line["client_id"] != wantID {
			t.Errorf("%s: client_id %q logged, want %q", a.reason, line["client_id"], wantID)
		}
	}
	for reason, n := range want {
		if got := oaMetric(t, e, `keyhold_auth_failures_total{kind="client",reason="`+reason+`"}`) - before[reason]; got != n {
			t.Errorf("keyhold_auth_failures_total{reason=%q} rose by %v, want %v", reason, got, n)
		}
	}
	logs := e.Logs.String()
	for _, secret := range []string{e.Admin.ClientSecret, reset.ClientSecret, deleted.ClientSecret, pasted, strings.Repeat("0", 64)} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret is in the log: %s", secret)
		}
	}
}

// failureLine is the "client authentication failed" log line with the request id.
func failureLine(t *testing.T, logs, requestID string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(logs, "\n") {
		if !strings.Contains(l, "client authentication failed") || !strings.Contains(l, requestID) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["request_id"] == requestID {
			return m
		}
	}
	return nil
}
