package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// jsonAnyCases are bodies whose decoding once differed or is easy to get wrong.
var jsonAnyCases = []string{
	`{}`, `[]`, `{"a":[]}`, `{"a":{}}`, `{"a":1,"a":2}`, `{"a":{"b":1},"a":[1]}`,
	`{"x":1e400}`, `[1e400,-1e400,1e-400]`, `{"n":-0}`, `{"n":1E+2,"m":0.5e-3}`,
	` { "s" : "a\"b\\c\/d\u00e9\ud83d\ude00" , "t" : true , "f" : false , "z" : null } `,
	`{"":""}`, `{"\u0000":"\u0000"}`, `[[[[]]],{"a":[{"b":[null]}]}]`, `"plain"`, `12`, `null`,
	`{"k\u0061y":"v"}`, `{"key":"v","k\u0065y":"w"}`,
}

func TestJSONAnyMatchesEncodingJSON(t *testing.T) {
	for _, c := range jsonAnyCases {
		checkJSONAny(t, []byte(c))
	}
}

func FuzzJSONAny(f *testing.F) {
	for _, c := range jsonAnyCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) { checkJSONAny(t, []byte(s)) })
}

// checkJSONAny compares jsonAny with encoding/json on b when b is a body readOpenBody
// accepts as far as encoding goes (valid UTF-8, valid JSON, no lone surrogate escapes).
func checkJSONAny(t *testing.T, b []byte) {
	t.Helper()
	b = bytes.TrimSpace(b)
	if len(b) == 0 || !utf8.Valid(b) || !json.Valid(b) || noLoneSurrogates(b) != nil {
		return
	}
	var want any
	_ = json.Unmarshal(b, &want) // a number out of range: an error, and nil in its place
	if got := jsonAny(b); !reflect.DeepEqual(got, want) {
		t.Errorf("jsonAny(%s) = %#v, encoding/json: %#v", b, got, want)
	}
}
