package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// decodeCase is a body of POST /workspaces/v1/credentials and what decoding it gives: the
// name when it is accepted (status 0), else the status and the subject the error names. The
// cases seed FuzzDecodeCreateCredential; the ones marked "fuzz" were found by it.
type decodeCase struct {
	name    string
	body    string
	status  int
	subject string
	want    string // the credentialName decoded (before trimming and validation)
}

var decodeCases = []decodeCase{
	{name: "minimal", body: `{"credentialName":"a"}`, want: "a"},
	{name: "all fields", body: `{"credentialName":"a","ownerId":"x","associatedTenant":{"resourceUri":"/t"},"associatedServiceManagerProvision":{"resourceUri":"/p"}}`, want: "a"},
	{name: "surrounding whitespace", body: " \r\n\t{\"credentialName\":\"a\"}\n ", want: "a"},
	{name: "escapes", body: `{"credentialName":"\u00e9\"\\\/"}`, want: "é\"\\/"},
	{name: "surrogate pair escape", body: `{"credentialName":"\ud83d\ude00"}`, want: "\U0001F600"},
	{name: "escaped backslash before u", body: `{"credentialName":"\\ud800"}`, want: `\ud800`},
	{name: "surrogate pair, upper-case hex", body: `{"credentialName":"a\uD83D\uDE00b"}`, want: "a\U0001F600b"},
	{name: "empty name", body: `{"credentialName":""}`, want: ""},
	{name: "null associations", body: `{"credentialName":"a","associatedTenant":null,"ownerId":null}`, want: "a"},

	{name: "empty", body: ``, status: 400, subject: "body"},
	// encoding/json stores an unpaired surrogate escape as U+FFFD: not what was sent.
	{name: "lone surrogate escape", body: `{"credentialName":"\ud800"}`, status: 400, subject: "credentialName"},
	{name: "lone high surrogate at the end", body: `{"credentialName":"abc\udbff"}`, status: 400, subject: "credentialName"},
	{name: "lone low surrogate", body: `{"credentialName":"\udc00"}`, status: 400, subject: "credentialName"},
	{name: "low before high", body: `{"credentialName":"\ude00\ud83d"}`, status: 400, subject: "credentialName"},
	{name: "high followed by a non-surrogate escape", body: `{"credentialName":"\ud800\u0041"}`, status: 400, subject: "credentialName"},
	{name: "high followed by another escape", body: `{"credentialName":"\ud800\n"}`, status: 400, subject: "credentialName"},
	{name: "two high surrogates", body: `{"credentialName":"\ud800\ud800"}`, status: 400, subject: "credentialName"},
	{name: "lone surrogate, nested field", body: `{"credentialName":"a","associatedTenant":{"resourceUri":"/t\ud800"}}`, status: 400, subject: "associatedTenant.resourceUri"},
	{name: "lone surrogate after other fields", body: `{"ownerId":"x","credentialName":"\udfff"}`, status: 400, subject: "credentialName"},
	{name: "whitespace", body: " \n", status: 400, subject: "body"},
	{name: "null", body: `null`, status: 400, subject: "credentialName"},
	{name: "empty object", body: `{}`, status: 400, subject: "credentialName"},
	{name: "array", body: `[]`, status: 400, subject: "body"},
	{name: "string", body: `"a"`, status: 400, subject: "body"},
	{name: "number", body: `0`, status: 400, subject: "body"},
	{name: "true", body: `true`, status: 400, subject: "body"},
	{name: "truncated", body: `{"credentialName":"a"`, status: 400, subject: "body"},
	{name: "open brace", body: `{`, status: 400, subject: "body"},
	{name: "trailing comma", body: `{"credentialName":"a",}`, status: 400, subject: "body"},
	{name: "single quotes", body: `{'credentialName':'a'}`, status: 400, subject: "body"},
	{name: "two objects", body: `{"credentialName":"a"}{}`, status: 400, subject: "body"},
	{name: "trailing bracket", body: `{"credentialName":"a"}]`, status: 400, subject: "body"},
	{name: "trailing garbage", body: `{"credentialName":"a"} x`, status: 400, subject: "body"},
	{name: "invalid UTF-8", body: "{\"credentialName\":\"\xff\"}", status: 400, subject: "body"},
	{name: "invalid UTF-8 outside strings", body: "{\"credentialName\":\"a\"}\xff", status: 400, subject: "body"},
	{name: "raw control character", body: "{\"credentialName\":\"a\x01\"}", status: 400, subject: "body"},
	{name: "name number", body: `{"credentialName":1}`, status: 400, subject: "credentialName"},
	{name: "name object", body: `{"credentialName":{}}`, status: 400, subject: "credentialName"},
	{name: "name array", body: `{"credentialName":[]}`, status: 400, subject: "credentialName"},
	{name: "name bool", body: `{"credentialName":false}`, status: 400, subject: "credentialName"},
	{name: "name null", body: `{"credentialName":null}`, status: 400, subject: "credentialName"},
	{name: "ownerId empty", body: `{"credentialName":"a","ownerId":""}`, status: 400, subject: "ownerId"},
	{name: "ownerId number", body: `{"credentialName":"a","ownerId":1}`, status: 400, subject: "ownerId"},
	{name: "tenant string", body: `{"credentialName":"a","associatedTenant":"x"}`, status: 400, subject: "associatedTenant"},
	{name: "tenant without uri", body: `{"credentialName":"a","associatedTenant":{}}`, status: 400, subject: "associatedTenant.resourceUri"},
	{name: "tenant with tenantName", body: `{"credentialName":"a","associatedTenant":{"resourceUri":"/t","tenantName":"n"}}`, status: 400, subject: "associatedTenant.resourceUri"},
	{name: "tenant uri number", body: `{"credentialName":"a","associatedTenant":{"resourceUri":1}}`, status: 400, subject: "associatedTenant.resourceUri"},
	{name: "provision without uri", body: `{"credentialName":"a","associatedServiceManagerProvision":{}}`, status: 400, subject: "associatedServiceManagerProvision.resourceUri"},
	{name: "unknown field", body: `{"credentialName":"a","x":1}`, status: 400, subject: "x"},
	{name: "unknown field first", body: `{"x":1,"credentialName":"a"}`, status: 400, subject: "x"},
	{name: "nested unknown field", body: `{"credentialName":"a","associatedTenant":{"resourceUri":"/t","x":1}}`, status: 400, subject: "x"},
	{name: "case variant", body: `{"CredentialName":"a"}`, status: 400, subject: "CredentialName"},
	{name: "nested case variant", body: `{"credentialName":"a","associatedTenant":{"resourceuri":"/t"}}`, status: 400, subject: "resourceuri"},
	{name: "escaped exact key", body: `{"\u0063redentialName":"a"}`, want: "a"},
	{name: "escaped case variant", body: `{"\u0043redentialName":"a"}`, status: 400, subject: "CredentialName"},
	{name: "spaced nested case variant", body: " { \"credentialName\" : \"a\" ,\n \"associatedTenant\" :\t{ \"resourceURI\" : \"/t\" } } ", status: 400, subject: "resourceURI"},
	{name: "case variant after nested values", body: `{"ownerId":"x","associatedTenant":{"resourceUri":"/{\"]"},"credentialName":"a","OwnerId":"y"}`, status: 400, subject: "OwnerId"},
	{name: "Unicode folding (long s)", body: "{\"credentialName\":\"a\",\"a\u017fsociatedTenant\":{\"resourceUri\":\"/t\"}}", status: 400, subject: "a\u017fsociatedTenant"},
	{name: "case variant duplicate", body: `{"credentialName":"a","CREDENTIALNAME":"b"}`, status: 400, subject: "CREDENTIALNAME"},
	{name: "duplicate key", body: `{"credentialName":"a","credentialName":"b"}`, status: 400, subject: "credentialName"},
	{name: "duplicate key, escaped", body: `{"credentialName":"a","credentialName":"b"}`, status: 400, subject: "credentialName"},
	{name: "duplicate nested key", body: `{"credentialName":"a","associatedTenant":{"resourceUri":"/t","resourceUri":"/u"}}`, status: 400, subject: "resourceUri"},
	{name: "duplicate null", body: `{"credentialName":"a","ownerId":null,"ownerId":"x"}`, status: 400, subject: "ownerId"},
	{name: "fuzz: empty key", body: `{"":""}`, status: 400, subject: "body"},
	{name: "fuzz: empty key, nested", body: `{"credentialName":"a","associatedTenant":{"":1}}`, status: 400, subject: "body"},
	{name: "fuzz: Unicode space only", body: "\u2000", status: 400, subject: "body"},
	{name: "fuzz: bare letter", body: `n`, status: 400, subject: "body"},
	{name: "fuzz: negative number", body: `-1`, status: 400, subject: "body"},
	{name: "fuzz: lone continuation byte", body: "\xca", status: 400, subject: "body"},
	{name: "fuzz: extra closing brace", body: `{}}`, status: 400, subject: "body"},
	{name: "fuzz: object of whitespace", body: "{\r}", status: 400, subject: "credentialName"},
	{name: "fuzz: control character in an unknown key", body: "{\"aa\x7fa\":0}", status: 400, subject: "aa\x7fa"},
	{name: "quote in an unknown key", body: `{"a\"b":1}`, status: 400, subject: `a"b`},
	{name: "escaped unknown key", body: `{"\u0078":1}`, status: 400, subject: "x"},
	{name: "fuzz: unknown key holding an object", body: `{"00000000":{}}`, status: 400, subject: "00000000"},
	{name: "fuzz: folded key holding an object", body: `{"ſſ":{"000000000":"00"}}`, status: 400, subject: "ſſ"},
	{name: "huge number", body: `{"credentialName":1e999}`, status: 400, subject: "credentialName"},
	{name: "deep nesting", body: `{"credentialName":"a","x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, status: 400, subject: "body"},
	{name: "over the size limit", body: `{"credentialName":"` + strings.Repeat("a", maxBodyBytes) + `"}`, status: 413},
	{name: "at the size limit", body: `{"credentialName":"` + strings.Repeat("a", maxBodyBytes-21) + `"}`, want: strings.Repeat("a", maxBodyBytes-21)},
}

func TestDecodeCreateCredential(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := decodeCreateBody([]byte(tc.body), "application/json")
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if *body.CredentialName != tc.want {
					t.Errorf("credentialName %q, want %q", *body.CredentialName, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %d", tc.status)
			}
			ae := checkClientError(t, []byte(tc.body), err)
			if ae.Kind.Status() != tc.status {
				t.Errorf("status %d (%v), want %d", ae.Kind.Status(), err, tc.status)
			}
			if tc.subject != "" && (len(ae.Issues) != 1 || ae.Issues[0].Subject != tc.subject) {
				t.Errorf("issues %+v, want one naming %q", ae.Issues, tc.subject)
			}
		})
	}
}

func TestDecodeContentType(t *testing.T) {
	for _, tc := range []struct {
		ct     string
		status int
	}{
		{"", 0}, // no Content-Type: taken as JSON
		{"application/json", 0},
		{"application/json; charset=utf-8", 0},
		{"APPLICATION/JSON", 0},
		{"application/merge-patch+json", 0},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"application/jsonx", http.StatusUnsupportedMediaType},
		{"application/json; ===", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.ct, func(t *testing.T) {
			_, err := decodeCreateBody([]byte(`{"credentialName":"a"}`), tc.ct)
			switch {
			case tc.status == 0 && err != nil:
				t.Errorf("refused: %v", err)
			case tc.status != 0 && err == nil:
				t.Errorf("accepted, want %d", tc.status)
			case tc.status != 0:
				if ae := checkClientError(t, nil, err); ae.Kind.Status() != tc.status {
					t.Errorf("status %d, want %d", ae.Kind.Status(), tc.status)
				}
			}
		})
	}
}
