package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/keyhold/keyhold/client"
)

// TestPrivateKeyJWT registers a credential's public keys with the SDK, then authenticates
// an SDK client with the private key (no secret): tokens, API calls, introspection and
// revocation work; a key that is not registered is refused; removing the keys ends it.
func TestPrivateKeyJWT(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cr := must[*client.Credential](t)(w.admin.CreateCredential(ctx, client.CredentialInput{Name: "pkjwt"}))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &ec.PublicKey, KeyID: "ec1", Use: "sig"}, {Key: ed.Public(), KeyID: "ed1", Use: "sig"}}})
	got := must[*client.CredentialKeys](t)(w.admin.SetCredentialKeys(ctx, cr.ID, client.CredentialKeys{JWKS: set}))
	if len(got.JWKS) == 0 || got.JWKSURI != "" {
		t.Fatalf("keys %+v", got)
	}
	if k := must[*client.CredentialKeys](t)(w.admin.GetCredentialKeys(ctx, cr.ID)); len(k.JWKS) == 0 {
		t.Fatalf("read keys %+v", k)
	}
	ecClient, err := client.New(client.Config{BaseURL: w.e.Base, WorkspaceID: w.e.Admin.WorkspaceID, ClientID: cr.ClientID,
		PrivateKey: ec, KeyID: "ec1", HTTPClient: &http.Client{Transport: newChecking(t)}})
	if err != nil {
		t.Fatal(err)
	}
	edClient, err := client.New(client.Config{BaseURL: w.e.Base, WorkspaceID: w.e.Admin.WorkspaceID, ClientID: cr.ClientID,
		PrivateKey: ed, KeyID: "ed1", HTTPClient: &http.Client{Transport: newChecking(t)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{ecClient, edClient} {
		if _, err := client.Collect(c.ListCredentials(ctx, nil)); err != nil {
			t.Fatalf("call with private_key_jwt: %v", err)
		}
		tok := must[string](t)(tokenString(c, ctx))
		if in := must[*client.Introspection](t)(c.Introspect(ctx, tok)); !in.Active || in.ClientID != cr.ClientID {
			t.Fatalf("introspection %+v", in)
		}
		if err := c.Revoke(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	// A key the credential did not register.
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sc, _ := client.New(client.Config{BaseURL: w.e.Base, WorkspaceID: w.e.Admin.WorkspaceID, ClientID: cr.ClientID,
		PrivateKey: stranger, KeyID: "ec1"})
	_, err = sc.Token(ctx)
	if ke := wantError(t, err, http.StatusUnauthorized); ke.ErrorCode != "invalid_client" {
		t.Fatalf("stranger key: %+v", ke)
	}
	// Bad input, another workspace, removal.
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: ec, KeyID: "p"}}})
	_, err = w.admin.SetCredentialKeys(ctx, cr.ID, client.CredentialKeys{JWKS: priv})
	wantField(t, err, "jwks")
	_, err = w.other.GetCredentialKeys(ctx, cr.ID)
	wantError(t, err, http.StatusNotFound)
	if err := w.admin.DeleteCredentialKeys(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	if k := must[*client.CredentialKeys](t)(w.admin.GetCredentialKeys(ctx, cr.ID)); len(k.JWKS) != 0 || k.JWKSURI != "" {
		t.Fatalf("keys after removal %+v", k)
	}
	fresh, _ := client.New(client.Config{BaseURL: w.e.Base, WorkspaceID: w.e.Admin.WorkspaceID, ClientID: cr.ClientID,
		PrivateKey: ec, KeyID: "ec1"})
	_, err = fresh.Token(ctx)
	wantError(t, err, http.StatusUnauthorized)
}
