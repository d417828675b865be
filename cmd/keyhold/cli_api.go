package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/internal/cliconfig"
)

// maxAnswer bounds an answer the CLI reads.
const maxAnswer = 32 << 20

// apiClient calls keyhold as the API client of one CLI context, through the Go SDK
// (package client), which fetches and renews its tokens.
type apiClient struct {
	sdk   *client.Client
	base  string
	wsHex string
	ctx   cliconfig.Context
	hc    *http.Client
}

// newAPIClient makes the client of a context; the first call fetches a token.
func newAPIClient(c cliconfig.Context) (*apiClient, error) {
	ws, err := workspaceHex(c.WorkspaceID)
	if err != nil {
		return nil, err
	}
	a := &apiClient{base: strings.TrimRight(c.BaseURL, "/"), wsHex: ws, ctx: c,
		hc: &http.Client{Timeout: 30 * time.Second}}
	a.sdk, err = client.New(client.Config{BaseURL: a.base, WorkspaceID: ws, ClientID: c.ClientID,
		ClientSecret: c.ClientSecret, HTTPClient: a.hc})
	if err != nil {
		return nil, err
	}
	return a, nil
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

// apiError is keyhold's answer to a call that failed: its status and error body (GreenLake's
// errors, or RFC 6749's for the token endpoint).
type apiError struct {
	Status    int
	ErrorCode string
	Message   string
	DebugID   string
	Body      json.RawMessage
}

func (e *apiError) HTTPStatus() int { return e.Status }

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	if e.ErrorCode != "" {
		msg += " " + e.ErrorCode
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.DebugID != "" {
		msg += " (debugId " + e.DebugID + ")"
	}
	return msg
}

// decodeAPIError reads an error answer, whatever its shape.
func decodeAPIError(status int, body []byte) *apiError {
	e := &apiError{Status: status}
	var gl struct {
		ErrorCode   string `json:"errorCode"`
		Message     string `json:"message"`
		DebugID     string `json:"debugId"`
		OAuth       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &gl) == nil {
		e.ErrorCode, e.Message, e.DebugID = gl.ErrorCode, gl.Message, gl.DebugID
		if e.ErrorCode == "" {
			e.ErrorCode, e.Message = gl.OAuth, gl.Description
		}
		if json.Valid(body) {
			e.Body = body
		}
	}
	return e
}

// unreachable wraps a failure to reach keyhold at all, which exits exitUnavailable.
func unreachable(err error) error {
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return &codedError{code: exitUnavailable, err: fmt.Errorf("keyhold unreachable: %w", err)}
	}
	return err
}

// call sends one JSON API request with a bearer token and decodes a 2xx answer into out.
func (a *apiClient) call(ctx context.Context, method, path string, query url.Values, header http.Header, body, out any) error {
	tok, err := a.token(ctx)
	if err != nil {
		return err
	}
	u := a.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	tok.SetAuthHeader(req)
	resp, err := a.hc.Do(req)
	if err != nil {
		return unreachable(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return err
	}
	if len(data) > maxAnswer {
		return fmt.Errorf("%s %s: answer over %d bytes", method, path, maxAnswer)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeAPIError(resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not what keyhold sends: %w", method, path, err)
		}
	}
	return nil
}

// object is a JSON object as keyhold answered it; the CLI prints it, as a table or as is.
type object = map[string]any

// listPage is keyhold's list body.
type listPage struct {
	Items  []object `json:"items"`
	Count  int      `json:"count"`
	Offset int      `json:"offset"`
	Total  *int     `json:"total"`
}

// listAll reads every page of an offset-paged list (limit pageSize; 0: one request without
// limit, for lists that answer everything at once).
func (a *apiClient) listAll(ctx context.Context, path string, query url.Values, pageSize int) ([]object, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	items := []object{}
	for offset := 0; ; {
		if pageSize > 0 {
			q.Set("limit", strconv.Itoa(pageSize))
			q.Set("offset", strconv.Itoa(offset))
		}
		var p listPage
		if err := a.call(ctx, http.MethodGet, path, q, nil, nil, &p); err != nil {
			return nil, err
		}
		items = append(items, p.Items...)
		offset += len(p.Items)
		if pageSize == 0 || p.Total == nil || len(p.Items) == 0 || offset >= *p.Total {
			return items, nil
		}
	}
}

// get reads one object.
func (a *apiClient) get(ctx context.Context, path string) (object, error) {
	var out object
	err := a.call(ctx, http.MethodGet, path, nil, nil, nil, &out)
	return out, err
}

// send writes with a JSON body and returns the answer's object (nil for 204).
func (a *apiClient) send(ctx context.Context, method, path string, body any) (object, error) {
	var out object
	err := a.call(ctx, method, path, nil, nil, body, &out)
	return out, err
}

// seg escapes one path segment taken from the command line.
func seg(s string) string { return url.PathEscape(s) }

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
