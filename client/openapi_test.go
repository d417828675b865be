package client_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/keyhold/keyhold/internal/apidoc/apidoctest"
)

// checking is an HTTP transport that validates every exchange the SDK makes (request and
// response, OAuth and AuthZEN endpoints included) against keyhold's OpenAPI document: a field
// the SDK sends or expects that the document does not describe fails the test.
type checking struct {
	t   *testing.T
	doc *apidoctest.Doc
}

func newChecking(t *testing.T) *checking {
	t.Helper()
	doc, err := apidoctest.Load()
	if err != nil {
		t.Fatal(err)
	}
	return &checking{t: t, doc: doc}
}

func (c *checking) RoundTrip(r *http.Request) (*http.Response, error) {
	var reqBody []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		reqBody = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := c.doc.Check(r, reqBody, resp.StatusCode, resp.Header, body); err != nil {
		c.t.Errorf("%v", err)
	}
	return resp, nil
}
