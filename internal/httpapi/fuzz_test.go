package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keyhold/keyhold/internal/apperr"
)

// decodeCreateBody runs the body of POST /workspaces/v1/credentials through what the handler
// does before the credential service sees it: decodeJSON, then input().
func decodeCreateBody(data []byte, contentType string) (*createCredentialBody, error) {
	r := httptest.NewRequest(http.MethodPost, credentialsPath, bytes.NewReader(data))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	var body createCredentialBody
	if err := decodeJSON(httptest.NewRecorder(), r, &body); err != nil {
		return nil, err
	}
	if _, err := body.input(); err != nil {
		return nil, err
	}
	return &body, nil
}

// checkClientError fails unless err is an *apperr.Error of a 4xx kind whose issues (if any)
// name a subject.
func checkClientError(t *testing.T, data []byte, err error) *apperr.Error {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("%q: error %T %v is not an *apperr.Error", data, err, err)
	}
	if s := ae.Kind.Status(); s < 400 || s > 499 {
		t.Fatalf("%q: error kind with status %d (%v), want a 4xx", data, s, err)
	}
	for _, is := range ae.Issues {
		if is.Subject == "" || is.Description == "" {
			t.Fatalf("%q: issue %+v without subject or description", data, is)
		}
	}
	return ae
}

func FuzzDecodeCreateCredential(f *testing.F) {
	for _, c := range decodeCases {
		// The huge cases stay in the table test: as seeds they make every mutation and
		// minimization slow.
		if len(c.body) <= 4<<10 {
			f.Add([]byte(c.body))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := decodeCreateBody(data, "application/json")
		if err != nil {
			checkClientError(t, data, err)
			return
		}
		if body.CredentialName == nil {
			t.Fatalf("%q decoded without a credentialName", data)
		}
		if len(data) > maxBodyBytes {
			t.Fatalf("%q: a body over the limit was accepted", data)
		}
	})
}
