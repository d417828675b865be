package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// setupClient makes the few requests around a run (admin token, credential, keys, preflight,
// clean-up); the load itself goes through conn.
var setupClient = &http.Client{Timeout: 30 * time.Second}

// tokenAnswer is the part of a token response authload reads.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// postForm sends a form to the token endpoint; it returns the status, the DPoP-Nonce header
// and the body.
func postForm(ctx context.Context, target string, form url.Values, dpopProof string) (int, string, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if dpopProof != "" {
		req.Header.Set("DPoP", dpopProof)
	}
	resp, err := setupClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header.Get("DPoP-Nonce"), body, err
}

// adminToken is an access token of CLIENT_ID (client_secret_post).
func adminToken(ctx context.Context, cfg Config) (string, error) {
	code, _, body, err := postForm(ctx, cfg.URL, secretForm(cfg.ClientID, cfg.ClientSecret), "")
	if err != nil {
		return "", err
	}
	var t tokenAnswer
	if code != http.StatusOK || json.Unmarshal(body, &t) != nil || t.AccessToken == "" {
		return "", fmt.Errorf("token request for CLIENT_ID answered %d: %.300s", code, body)
	}
	return t.AccessToken, nil
}

func secretForm(id, secret string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
}

// apiCall sends a JSON request with a bearer token and decodes a 2xx answer into out.
func apiCall(ctx context.Context, method, target, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := setupClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return &statusError{status: resp.StatusCode, msg: fmt.Sprintf("%s %s answered %d: %.300s", method, target, resp.StatusCode, b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %v", method, target, err)
		}
	}
	return nil
}

// keyCredential creates a credential of CLIENT_ID's owner, registers k's public key as its
// inline JWKS, and returns its client id and a function that deletes it.
func keyCredential(ctx context.Context, cfg Config, k *key) (string, func(), error) {
	token, err := adminToken(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	var cred struct {
		ID       string `json:"id"`
		ClientID string `json:"clientId"`
	}
	creds := strings.TrimSuffix(cfg.API, "/") + "/workspaces/v1/credentials"
	if err := apiCall(ctx, http.MethodPost, creds, token, map[string]string{"credentialName": "authload " + randomHex(6)}, &cred); err != nil {
		return "", nil, fmt.Errorf("creating a credential: %w", err)
	}
	remove := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The run may have outlived the first token: take a new one.
		if t, err := adminToken(ctx, cfg); err == nil {
			_ = apiCall(ctx, http.MethodDelete, creds+"/"+url.PathEscape(cred.ID), t, nil, nil)
		}
	}
	jwks := map[string]any{"jwks": jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.publicJWK()}}}
	if err := apiCall(ctx, http.MethodPut, creds+"/"+url.PathEscape(cred.ID)+"/keys", token, jwks, nil); err != nil {
		remove()
		var se *statusError
		if errors.As(err, &se) && (se.status == http.StatusNotFound || se.status == http.StatusMethodNotAllowed) {
			return "", nil, fmt.Errorf("%w: registering the key: %v", ErrUnsupported, err)
		}
		return "", nil, fmt.Errorf("registering the key: %w", err)
	}
	id := cred.ClientID
	if id == "" {
		id = cred.ID
	}
	return id, remove, nil
}

// ErrUnsupported: the server does not offer what the mode measures (an older keyhold without
// credential keys, or one that answers a DPoP request with a Bearer token). main exits 3 on it,
// so that bench/run.sh can skip the scenario in a run comparing such a binary.
var ErrUnsupported = errors.New("the server does not support this mode")

// statusError is a non-2xx answer of the API.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// isUseNonce reports an RFC 9449 §8 nonce demand: 400 {"error": "use_dpop_nonce"}.
func isUseNonce(status int, body []byte) bool {
	if status != http.StatusBadRequest || !bytes.Contains(body, []byte("use_dpop_nonce")) {
		return false
	}
	var t tokenAnswer
	return json.Unmarshal(body, &t) == nil && t.Error == "use_dpop_nonce"
}
