package openidclient_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
)

const credsPath = "/workspaces/v1/credentials"

// tools finds node and npm: in CI their absence is a failure, elsewhere a skip.
func tools(t *testing.T) (node, npm string) {
	t.Helper()
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs node and npm (Debian's nodejs; .ci/run installs it): %v %v", errNode, errNpm)
		}
		t.Skipf("node or npm missing (apt-get install nodejs): %v %v", errNode, errNpm)
	}
	return node, npm
}

// install runs npm ci in testdata when the pinned packages are not there yet.
func install(t *testing.T, npm string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("testdata", "node_modules", "openid-client", "package.json")); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = "testdata"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
}

// result is what interop.mjs prints.
type result struct {
	Metadata map[string]any `json:"metadata"`
	Plain    struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		APIStatus   int    `json:"api_status"`
		APIBody     string `json:"api_body"`
	} `json:"plain"`
	DPoP struct {
		AccessToken    string          `json:"access_token"`
		TokenType      string          `json:"token_type"`
		PublicJWK      json.RawMessage `json:"public_jwk"`
		APIStatus      int             `json:"api_status"`
		APIBody        string          `json:"api_body"`
		AsBearerStatus int             `json:"as_bearer_status"`
		FreshAPIStatus int             `json:"fresh_handle_api_status"`
		Exchanges      []exchange      `json:"exchanges"`
	} `json:"dpop"`
}

// exchange is one request openid-client sent with a DPoP proof, and keyhold's answer.
type exchange struct {
	URL             string `json:"url"`
	ProofNonce      string `json:"proof_nonce"`
	Status          int    `json:"status"`
	DPoPNonce       string `json:"dpop_nonce"`
	WWWAuthenticate string `json:"www_authenticate"`
}

// claimsOf decodes a JWT's payload (the signature is keyhold's own tests' business).
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOpenIDClient(t *testing.T) {
	node, npm := tools(t)
	install(t, npm)

	e := apptest.Start(t, app.Config{})
	ws := e.Admin.WorkspaceID
	tok := e.AdminToken(t)
	resp, raw := e.Do(t, http.MethodPost, credsPath, tok, map[string]string{"credentialName": "openid-client"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create credential: %d %s", resp.StatusCode, raw)
	}
	var cred struct {
		ID       string `json:"id"`
		ClientID string `json:"clientId"`
	}
	if err := json.Unmarshal(raw, &cred); err != nil {
		t.Fatal(err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := jose.JSONWebKey{Key: priv, KeyID: ids.New(), Algorithm: string(jose.ES256), Use: "sig"}
	pub := key.Public()
	resp, raw = e.Do(t, http.MethodPut, credsPath+"/"+cred.ID+"/keys", tok,
		map[string]any{"jwks": jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put keys: %d %s", resp.StatusCode, raw)
	}
	privJWK, err := key.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}

	issuer := e.Node.Issuer.IssuerURL(ws)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "interop.mjs")
	cmd.Dir = "testdata"
	cmd.Env = append(os.Environ(), "KEYHOLD_ISSUER="+issuer, "KEYHOLD_CLIENT_ID="+cred.ClientID,
		"KEYHOLD_CLIENT_KEY="+string(privJWK), "KEYHOLD_API="+e.Base+credsPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("openid-client against keyhold: %v\nstderr: %s\nstdout: %s", err, stderr.String(), stdout.String())
	}
	var got result
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v", stdout.String(), err)
	}

	if got.Metadata["issuer"] != issuer {
		t.Errorf("discovered issuer %v, want %s", got.Metadata["issuer"], issuer)
	}
	// (a) private_key_jwt: a bearer token of the credential that works on the API.
	c := claimsOf(t, got.Plain.AccessToken)
	if !strings.EqualFold(got.Plain.TokenType, "bearer") || c["client_id"] != cred.ClientID || c["iss"] != issuer || c["cnf"] != nil {
		t.Errorf("private_key_jwt token: type %q claims %v", got.Plain.TokenType, c)
	}
	if got.Plain.ExpiresIn <= 0 {
		t.Errorf("expires_in %d", got.Plain.ExpiresIn)
	}
	if got.Plain.APIStatus != http.StatusOK || !strings.Contains(got.Plain.APIBody, cred.ID) {
		t.Errorf("the API with the bearer token: %d %s", got.Plain.APIStatus, got.Plain.APIBody)
	}
	// (b) DPoP: token_type DPoP, bound to openid-client's key (cnf.jkt is its thumbprint).
	var dpopPub jose.JSONWebKey
	if err := dpopPub.UnmarshalJSON(got.DPoP.PublicJWK); err != nil {
		t.Fatalf("DPoP public key %s: %v", got.DPoP.PublicJWK, err)
	}
	tp, err := dpopPub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	c = claimsOf(t, got.DPoP.AccessToken)
	cnf, _ := c["cnf"].(map[string]any)
	if got.DPoP.TokenType != "dpop" && got.DPoP.TokenType != "DPoP" {
		t.Errorf("DPoP token_type %q", got.DPoP.TokenType)
	}
	if cnf == nil || cnf["jkt"] != base64.RawURLEncoding.EncodeToString(tp) {
		t.Errorf("DPoP token cnf %v, want jkt %s", c["cnf"], base64.RawURLEncoding.EncodeToString(tp))
	}
	if got.DPoP.APIStatus != http.StatusOK || !strings.Contains(got.DPoP.APIBody, cred.ID) {
		t.Errorf("the API with the DPoP-bound token and proofs: %d %s", got.DPoP.APIStatus, got.DPoP.APIBody)
	}
	// Nonces are required (the default): openid-client's first proof has none, keyhold
	// answers use_dpop_nonce with one, openid-client signs a new proof with it and every
	// later proof carries it; a new handle's first API call goes through the same on the API.
	ex := got.DPoP.Exchanges
	tokenURL := issuer + "/token"
	apiURL := e.Base + credsPath
	if len(ex) != 5 {
		t.Fatalf("DPoP exchanges %+v, want 5 (token: nonce asked, granted; API; API: nonce asked, granted)", ex)
	}
	nonce := ex[0].DPoPNonce
	for i, w := range []exchange{
		{URL: tokenURL, ProofNonce: "", Status: http.StatusBadRequest, DPoPNonce: nonce},
		{URL: tokenURL, ProofNonce: nonce, Status: http.StatusOK},
		{URL: apiURL, ProofNonce: nonce, Status: http.StatusOK},
		{URL: apiURL, ProofNonce: "", Status: http.StatusUnauthorized, DPoPNonce: nonce},
		{URL: apiURL, ProofNonce: nonce, Status: http.StatusOK},
	} {
		g := ex[i]
		if nonce == "" || g.URL != w.URL || g.ProofNonce != w.ProofNonce || g.Status != w.Status || g.DPoPNonce != w.DPoPNonce {
			t.Errorf("DPoP exchange %d: %+v, want %+v", i, g, w)
		}
	}
	if !strings.Contains(ex[3].WWWAuthenticate, `error="use_dpop_nonce"`) {
		t.Errorf("the API's challenge %q, want use_dpop_nonce", ex[3].WWWAuthenticate)
	}
	if got.DPoP.FreshAPIStatus != http.StatusOK {
		t.Errorf("the API with a new DPoP handle: %d", got.DPoP.FreshAPIStatus)
	}
	if got.DPoP.AsBearerStatus != http.StatusUnauthorized {
		t.Errorf("the DPoP-bound token as a plain bearer token: %d, want 401", got.DPoP.AsBearerStatus)
	}
}
