package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/token"
)

func oaKid(t testing.TB, tok string) string {
	t.Helper()
	h, _ := oaJWTParts(t, tok)
	kid, _ := h["kid"].(string)
	if kid == "" {
		t.Fatalf("token without kid: %v", h)
	}
	return kid
}

// oaRotate rotates the signing key on the node's store and brings its views up to date.
func oaRotate(t testing.TB, e *apptest.Env, overlap time.Duration) string {
	t.Helper()
	ctx := context.Background()
	kid, err := token.Rotate(ctx, e.Node.Store, jose.ES256, overlap, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Node.Feed.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return kid
}

func oaJWKSURLs(e *apptest.Env) []string {
	return []string{e.Admin.Issuer + "/jwks", e.Base + "/.well-known/jwks.json"}
}

// Rotation with overlap: tokens of the old key keep working, new tokens use the new key, and
// both keys are published.
func TestKeysRotationOverlap(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	old := e.AdminToken(t)
	oldKid := oaKid(t, old)
	if got := oaAPIStatus(t, e, old); got != http.StatusOK {
		t.Fatalf("before rotation: %d", got)
	}
	newKid := oaRotate(t, e, time.Hour)
	if newKid == oldKid {
		t.Fatalf("rotation kept kid %s", oldKid)
	}
	if got := oaAPIStatus(t, e, old); got != http.StatusOK {
		t.Errorf("token of the previous key during the overlap: %d", got)
	}
	fresh := e.AdminToken(t)
	if k := oaKid(t, fresh); k != newKid {
		t.Errorf("new token signed by %s, want the new key %s", k, newKid)
	}
	if got := oaAPIStatus(t, e, fresh); got != http.StatusOK {
		t.Errorf("token of the new key: %d", got)
	}
	for _, u := range oaJWKSURLs(e) {
		set := oaJWKS(t, e, u)
		if k := oaKids(set); !k[oldKid] || !k[newKid] || len(k) != 2 {
			t.Errorf("%s lists %v, want %s and %s", u, k, oldKid, newKid)
		}
		oaVerify(t, old, set, jose.ES256)
		oaVerify(t, fresh, set, jose.ES256)
	}
	if m := oaIntrospect(t, e, e.Admin.WorkspaceID, e.Admin.ClientID, e.Admin.ClientSecret, old); m["active"] != true {
		t.Errorf("old-key token introspects as %v", m)
	}
}

// Past the overlap the old key is gone: it is not published and its tokens are refused, even
// one that was verified (and cached) before.
func TestKeysRetiredKeyRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		usedYet bool // the old token was verified before the rotation
	}{{"token used before", true}, {"token never used", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := apptest.Start(t, app.Config{})
			old := e.AdminToken(t)
			oldKid := oaKid(t, old)
			if tc.usedYet {
				if got := oaAPIStatus(t, e, old); got != http.StatusOK {
					t.Fatalf("before rotation: %d", got)
				}
			}
			newKid := oaRotate(t, e, -time.Second)
			for _, u := range oaJWKSURLs(e) {
				if k := oaKids(oaJWKS(t, e, u)); k[oldKid] || !k[newKid] || len(k) != 1 {
					t.Errorf("%s lists %v, want only %s", u, k, newKid)
				}
			}
			resp, body := e.Do(t, http.MethodGet, "/workspaces/v1/credentials", old, nil)
			oaGLError(t, resp, body, http.StatusUnauthorized)
			if m := oaIntrospect(t, e, e.Admin.WorkspaceID, e.Admin.ClientID, e.Admin.ClientSecret, old); m["active"] != false {
				t.Errorf("retired-key token introspects as %v", m)
			}
			fresh := e.AdminToken(t)
			if oaKid(t, fresh) != newKid || oaAPIStatus(t, e, fresh) != http.StatusOK {
				t.Errorf("new token after retiring the old key does not work")
			}
		})
	}
}

// A restarted node keeps its keys and workspaces: earlier tokens still verify, the bootstrap
// secret still works, and the bootstrap line is not printed again.
func TestKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	var old, addr, kid string
	var first *apptest.Env
	t.Run("first run", func(t *testing.T) { // the node stops when this subtest ends
		first = apptest.Start(t, app.Config{DataDir: dir})
		old = first.AdminToken(t)
		kid = oaKid(t, old)
		addr = first.Node.Addr()
		if !strings.Contains(first.Logs.String(), "created the first workspace") {
			t.Errorf("the first run did not log the bootstrap")
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	e, stdout := apptest.Reopen(t, app.Config{DataDir: dir, Listen: addr})
	e.Admin = first.Admin
	if e.Base != first.Base {
		t.Fatalf("restarted node serves %s, first served %s", e.Base, first.Base)
	}
	if stdout != "" {
		t.Errorf("the restarted node printed %q", stdout)
	}
	if logs := e.Logs.String(); strings.Contains(logs, "created the first workspace") || strings.Contains(logs, first.Admin.ClientSecret) {
		t.Errorf("the restarted node bootstrapped again or logged the secret:\n%s", logs)
	}
	if got := oaAPIStatus(t, e, old); got != http.StatusOK {
		t.Errorf("token of the first run after the restart: %d", got)
	}
	fresh := e.AdminToken(t)
	if k := oaKid(t, fresh); k != kid {
		t.Errorf("restarted node signs with %s, want the persisted key %s", k, kid)
	}
	if m := oaIntrospect(t, e, e.Admin.WorkspaceID, e.Admin.ClientID, e.Admin.ClientSecret, old); m["active"] != true {
		t.Errorf("old token introspects as %v after restart", m)
	}
	if k := oaKids(oaJWKS(t, e, e.Base+"/.well-known/jwks.json")); len(k) != 1 || !k[kid] {
		t.Errorf("JWKS after restart: %v", k)
	}
}
