package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/internal/cliconfig"
)

// callTimeout bounds each HTTP exchange of a client command.
const callTimeout = 30 * time.Second

// apiClient calls keyhold as the API client of one CLI context, through the Go SDK
// (package client), which fetches and renews its tokens.
type apiClient struct {
	sdk   *client.Client
	wsHex string
	ctx   cliconfig.Context
}

// newAPIClient makes the client of a context; the first call fetches a token.
func newAPIClient(c cliconfig.Context) (*apiClient, error) {
	ws, err := workspaceHex(c.WorkspaceID)
	if err != nil {
		return nil, err
	}
	sdk, err := client.New(client.Config{BaseURL: strings.TrimRight(c.BaseURL, "/"), WorkspaceID: ws, ClientID: c.ClientID,
		ClientSecret: c.ClientSecret, HTTPClient: &http.Client{Timeout: callTimeout}})
	if err != nil {
		return nil, err
	}
	return &apiClient{sdk: sdk, wsHex: ws, ctx: c}, nil
}

// token is the bearer token of the context's client (the SDK caches it).
func (a *apiClient) token(ctx context.Context) (*oauth2.Token, error) {
	t, err := a.sdk.Token(ctx)
	if err != nil {
		return nil, loginHint(unreachable(err))
	}
	return t, nil
}

// loginHint says what a refused client authentication means for a CLI user.
func loginHint(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) && (ce.ErrorCode == "invalid_client" || ce.StatusCode == http.StatusUnauthorized) {
		return fmt.Errorf("%w (the client id or secret is wrong, or the credential was reset or deleted: run keyhold login again)", err)
	}
	return err
}

// workspaceHex is a workspace id as issuers write it: 32 lower-case hex digits (the SDK
// checks it the same way; the CLI checks it first to name the flag at fault).
func workspaceHex(id string) (string, error) {
	h := strings.ToLower(strings.ReplaceAll(id, "-", ""))
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("workspace id %q is not a UUID", id)
	}
	return h, nil
}

// workspaceGRN is the GRN of the context's whole workspace.
func (a *apiClient) workspaceGRN() string { return "grn:glp/workspaces/" + a.wsHex }

// unreachable wraps a failure to reach keyhold at all, which exits exitUnavailable.
func unreachable(err error) error {
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return &codedError{code: exitUnavailable, err: fmt.Errorf("keyhold unreachable: %w", err)}
	}
	return err
}

// object is a JSON object as keyhold answered it; the CLI prints it, as a table or as is.
type object = map[string]any

// toObject is a value of the SDK as the CLI prints it: its JSON form.
func toObject(v any) (object, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var o object
	return o, json.Unmarshal(b, &o)
}

// collect reads an SDK list to its end, as printable objects.
func collect[T any](seq iter.Seq2[T, error]) ([]object, error) {
	items := []object{}
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		o, err := toObject(v)
		if err != nil {
			return nil, err
		}
		items = append(items, o)
	}
	return items, nil
}

// apiFailure is how a client command reports a failed SDK call: an unreachable keyhold
// exits exitUnavailable, a refused login says to log in again.
func apiFailure(err error) error { return loginHint(unreachable(err)) }
