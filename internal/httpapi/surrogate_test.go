package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
)

// The field an unpaired surrogate escape is refused in, wherever it lies.
func TestNoLoneSurrogatesNamesTheField(t *testing.T) {
	for _, tc := range []struct{ body, subject string }{
		{`{"a":["x","\ud800"]}`, "a"},
		{`{"a":[{"b":"ok"},{"b":"\udc00"}]}`, "a.b"},
		{`{"properties":{"k":{"deep":"\ud800x"}}}`, "properties.k.deep"},
		{`{"a":"ok","b":{"c":1},"d":"\ud800"}`, "d"},
		{`["\ud800"]`, "body"},
		{`"\ud800"`, "body"},
		{`{"\ud800":1}`, "body"},
		{`{"a":{"\udc00":1}}`, "a"},
	} {
		err := noLoneSurrogates([]byte(tc.body))
		ae, ok := err.(*apperr.Error)
		if !ok || len(ae.Issues) != 1 || ae.Issues[0].Subject != tc.subject || ae.Kind.Status() != 400 {
			t.Errorf("%s: %v, want a 400 naming %q", tc.body, err, tc.subject)
		}
	}
	for _, ok := range []string{`{"a":"\ud83d\ude00"}`, `{"a":"\\ud800"}`, `{"a":"\u00e9"}`, `{"\ud83d\ude00":["\uDBFF\uDFFF"]}`, `{}`, `[]`} {
		if err := noLoneSurrogates([]byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// FuzzNoLoneSurrogates holds noLoneSurrogates to encoding/json: a valid body is refused
// exactly when decoding it makes a U+FFFD that the body did not send (as the character or
// as a \ufffd escape).
func FuzzNoLoneSurrogates(f *testing.F) {
	for _, s := range []string{`{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\\ud800"}`, `{"a":["\udc00"]}`, `{"\ud800":1}`,
		`{"a":"\ufffd"}`, "{\"a\":\"\xef\xbf\xbd\"}", `{"a":"\ud800\u0041"}`, `{"a":"\uDBFF\uDFFF"}`, `[{"a":{"b":"\ud800\n"}}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) || !utf8.Valid(body) {
			return
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return // nesting too deep for the decoder: decodeJSON refuses it before
		}
		made := replacements(v)
		sent := strings.Count(string(body), "\ufffd") + fffdEscapes(body)
		err := noLoneSurrogates(body)
		if (err != nil) != (made > sent) {
			t.Fatalf("%q: error %v, but decoding makes %d U+FFFD for %d sent", body, err, made, sent)
		}
	})
}

// replacements counts U+FFFD in every string and key of a decoded value.
func replacements(v any) int {
	switch v := v.(type) {
	case string:
		return strings.Count(v, "\ufffd")
	case []any:
		n := 0
		for _, e := range v {
			n += replacements(e)
		}
		return n
	case map[string]any:
		n := 0
		for k, e := range v {
			n += strings.Count(k, "\ufffd") + replacements(e)
		}
		return n
	}
	return 0
}

// fffdEscapes counts \ufffd escapes (any case) in a valid JSON text.
func fffdEscapes(b []byte) int {
	n := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == 'u' && strings.EqualFold(string(b[i+2:i+6]), "fffd") {
			n++
		}
		i++
	}
	return n
}
