package enforce_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// TestGuardReflectsScope: the guard's decisions about a scoped token allow only what the
// owner's roles grant and the token's scope permits; the verified claims carry the scope.
func TestGuardReflectsScope(t *testing.T) {
	w := newGuardWorld(t)
	token := func(sc string) string {
		t.Helper()
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {w.reader.ClientID}, "client_secret": {w.reader.Secret}}
		if sc != "" {
			form.Set("scope", sc)
		}
		resp, body := w.e.PostForm(t, w.e.TokenURL(w.reader.WorkspaceID), form)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("token with scope %q: %d %s", sc, resp.StatusCode, body)
		}
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(body, &tr); err != nil {
			t.Fatal(err)
		}
		return tr.AccessToken
	}
	for _, tc := range []struct {
		scope string
		want  int
	}{
		{"", http.StatusOK},
		{"svc.servers.read", http.StatusOK},
		{"svc.servers.*", http.StatusOK},
		{"glp.workspace.view", http.StatusForbidden},
	} {
		tok := token(tc.scope)
		if got := w.status(tok, "1"); got != tc.want {
			t.Errorf("scope %q: %d, want %d", tc.scope, got, tc.want)
		}
		c, err := w.guard.Verifier.Verify(context.Background(), tok)
		if err != nil || c.Scope != tc.scope {
			t.Errorf("scope %q: claims scope %q, %v", tc.scope, c.Scope, err)
		}
	}
}
