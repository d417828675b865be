package client

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeError: any error body yields an *Error with the status, never a panic.
func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{
		`{"httpStatusCode":400,"errorCode":"HPE_GL_ERROR_BAD_REQUEST","message":"m","debugId":"d","errorDetails":[{"type":"t","issues":[{"source":"field","subject":"credentialName","description":"x"}]}]}`,
		`{"error":"invalid_client","error_description":"no"}`,
		`{"errorCode":1}`, `{"errorDetails":[null]}`, `<html>bad gateway</html>`, ``, `null`, `[]`,
	} {
		f.Add(502, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := decodeError(status, body)
		if e == nil || e.StatusCode != status || len(e.Message) > len(body)+64 {
			t.Fatalf("decodeError(%d, %q) = %+v", status, body, e)
		}
		_ = e.Error()
		_ = e.Fields()
	})
}

// FuzzStringList: a string or an array of strings decodes; anything else is an error.
func FuzzStringList(f *testing.F) {
	for _, s := range []string{`"a"`, `["a","b"]`, `[]`, `null`, `1`, `[1]`, `{"a":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s StringList
		if err := s.UnmarshalJSON(b); err != nil {
			return
		}
		var one string
		var many []string
		if json.Unmarshal(b, &one) != nil && json.Unmarshal(b, &many) != nil {
			t.Fatalf("%q accepted", b)
		}
	})
}
