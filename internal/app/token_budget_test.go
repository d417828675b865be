package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
)

// forgedTokens are n JWTs that look like keyhold's but are signed by a key nobody knows,
// under made-up key ids.
func forgedTokens(t *testing.T, e *apptest.Env, n int) []string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, n)
	for i := range out {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: "forged-" + strconv.Itoa(i)}},
			(&jose.SignerOptions{}).WithType("at+jwt"))
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = jwt.Signed(s).Claims(map[string]any{"sub": "api-client:x", "iss": e.Base,
			"exp": time.Now().Add(time.Hour).Unix()}).Serialize(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestDecisionTokenSubjectsAreBudgeted is issue 9 item 6: one /access/v1/evaluations request
// with 200 token subjects under unknown key ids used to cost 200 syncs of the views (a store
// query each). Now unknown key ids sync the node at most once per 250 ms, and the caller's
// invalid tokens are budgeted: after 100, its token subjects that are not already verified
// answer an error 429 (a single evaluation, introspection and revocation answer 429 with
// Retry-After), while a token already verified is still decided, and other callers are not
// affected.
func TestDecisionTokenSubjectsAreBudgeted(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	admin := e.AdminToken(t)
	ws := e.Admin.WorkspaceID
	resource := map[string]string{"type": "glp/authorization", "id": wsGRN(ws)}
	action := map[string]string{"name": "glp.authorization.view"}
	forged := forgedTokens(t, e, 400)
	items := make([]map[string]any, 0, 200)
	for _, tok := range forged[:200] {
		items = append(items, map[string]any{"subject": map[string]string{"type": "token", "id": tok}})
	}

	// Within budget, the caller's own token is allowed.
	resp, raw := e.Do(t, http.MethodPost, "/access/v1/evaluation", admin,
		map[string]any{"subject": map[string]string{"type": "token", "id": admin}, "action": action, "resource": resource,
			"context": map[string]any{"explain": true}})
	if resp.StatusCode != http.StatusOK || object(t, raw)["decision"] != true {
		t.Fatalf("precondition: the administrator's token subject: %d %s", resp.StatusCode, raw)
	}

	refreshes := oaMetric(t, e, "keyhold_key_refreshes_total")
	start := time.Now()
	resp, raw = e.Do(t, http.MethodPost, "/access/v1/evaluations", admin,
		map[string]any{"action": action, "resource": resource, "evaluations": items})
	elapsed := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("evaluations: %d %s", resp.StatusCode, raw)
	}
	var out struct {
		Evaluations []struct {
			Decision bool
			Context  struct{ Error struct{ Status int } }
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Evaluations) != 200 {
		t.Fatalf("evaluations: %v %s", err, raw)
	}
	limited, firstLimited := 0, -1
	for i, d := range out.Evaluations {
		switch {
		case d.Decision:
			t.Fatalf("item %d: a forged token was allowed", i)
		case d.Context.Error.Status == http.StatusTooManyRequests:
			if firstLimited < 0 {
				firstLimited = i
			}
			limited++
		}
	}
	// The burst of 100 is checked, then only what refilled (one per 50 ms) while the batch ran.
	refilled := int(elapsed/(50*time.Millisecond)) + 1
	if checked := 200 - limited; firstLimited < 100 || checked > 100+refilled {
		t.Errorf("%d of 200 forged token subjects were checked (the first refused: item %d) in %s, want the burst of 100 and at most %d refilled",
			checked, firstLimited, elapsed, refilled)
	}
	syncs := oaMetric(t, e, "keyhold_key_refreshes_total") - refreshes
	if bound := 1 + float64(elapsed/(250*time.Millisecond)); syncs < 1 || syncs > bound {
		t.Errorf("200 unknown key ids in %s caused %v syncs, want 1 to %v", elapsed, syncs, bound)
	}

	// Out of budget, a single evaluation with an unchecked token is 429 with Retry-After. The
	// budget refills 20 a second, so whatever was refilled since is spent first.
	i := 200
	until429 := func(send func(tok string) (*http.Response, []byte)) {
		t.Helper()
		for ; i < 400; i++ {
			resp, raw := send(forged[i])
			if resp.StatusCode == http.StatusTooManyRequests {
				if resp.Header.Get("Retry-After") == "" {
					t.Errorf("429 without Retry-After: %s", raw)
				}
				i++
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, raw)
			}
		}
		t.Fatal("never refused for the budget")
	}
	until429(func(tok string) (*http.Response, []byte) {
		return e.Do(t, http.MethodPost, "/access/v1/evaluation", admin,
			map[string]any{"subject": map[string]string{"type": "token", "id": tok}, "action": action, "resource": resource})
	})
	// ... while a token already verified (the caller's own) is still decided.
	resp, raw = e.Do(t, http.MethodPost, "/access/v1/evaluation", admin,
		map[string]any{"subject": map[string]string{"type": "token", "id": admin}, "action": action, "resource": resource})
	if resp.StatusCode != http.StatusOK || object(t, raw)["decision"] != true {
		t.Fatalf("a verified token subject out of budget: %d %s", resp.StatusCode, raw)
	}
	// Introspection and revocation by the same client share its budget.
	for _, ep := range []string{"introspect", "revoke"} {
		until429(func(tok string) (*http.Response, []byte) {
			return e.PostForm(t, e.Admin.TokenURL[:len(e.Admin.TokenURL)-len("token")]+ep,
				url.Values{"client_id": {e.Admin.ClientID}, "client_secret": {e.Admin.ClientSecret}, "token": {tok}})
		})
	}
	// Another caller has its own budget.
	other := e.UserWithRole(t, ws, "glp.workspace-administrator")
	otherTok := e.Token(t, ws, other.ClientID, other.Secret)
	resp, raw = e.Do(t, http.MethodPost, "/access/v1/evaluation", otherTok,
		map[string]any{"subject": map[string]string{"type": "token", "id": forged[399]}, "action": action, "resource": resource})
	if resp.StatusCode != http.StatusOK || object(t, raw)["decision"] != false {
		t.Fatalf("another caller's invalid token subject: %d %s", resp.StatusCode, raw)
	}
}
