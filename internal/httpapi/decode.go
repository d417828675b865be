package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/keyhold/keyhold/internal/apperr"
)

// maxBodyBytes bounds every JSON request body.
const maxBodyBytes = 64 << 10

// decodeJSON reads exactly one JSON object into dst: bounded size, valid UTF-8, no unknown
// fields, no trailing data. Each failure is a 4xx naming what is wrong.
// Protocols whose receivers must ignore members they do not know (AuthZEN) read their body
// with readOpenBody (authzen_json.go) instead, which checks everything else alike.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := readChecked(w, r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.Field("body", "must contain exactly one JSON object")
	}
	if err := exactFields(body, reflect.TypeOf(dst)); err != nil {
		return err
	}
	return noLoneSurrogates(body)
}

// checkMediaType refuses a request whose Content-Type is given and is not JSON.
func checkMediaType(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &apperr.Error{Kind: apperr.UnsupportedMediaType, Message: "the request body must be application/json"}
		}
	}
	return nil
}

func bodyTooLarge() error {
	return &apperr.Error{Kind: apperr.PayloadTooLarge, Message: fmt.Sprintf("the request body exceeds %d bytes", maxBodyBytes)}
}

// noLoneSurrogates refuses a string holding an escaped UTF-16 surrogate that is not half of
// a pair ("\ud800" alone, or a low "\udc00" first): encoding/json turns it into U+FFFD, so
// the value stored would not be the value sent. The error names the field by its dotted path.
// body is valid JSON; a body without "\u" costs one scan.
func noLoneSurrogates(body []byte) error {
	if !bytes.Contains(body, []byte(`\u`)) {
		return nil
	}
	var path []string // per open object or array: the current key ("" in an array)
	field := func() string {
		var parts []string
		for _, p := range path {
			if p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) == 0 {
			return "body"
		}
		return strings.Join(parts, ".")
	}
	for i := 0; i < len(body); {
		switch body[i] {
		case '{':
			path = append(path, "")
			i++
		case '[':
			path = append(path, "")
			i++
		case '}', ']':
			path = path[:len(path)-1]
			i++
		case '"':
			end := skipString(body, i)
			str := body[i+1 : end-1]
			if j := skipSpace(body, end); j < len(body) && body[j] == ':' { // a key
				key, err := objectKey(body[i:end])
				if err != nil {
					return err
				}
				if path[len(path)-1] = ""; loneSurrogate(str) {
					return apperr.Field(field(), "has a field name with an unpaired UTF-16 surrogate escape")
				}
				path[len(path)-1] = string(key)
			} else if loneSurrogate(str) {
				return apperr.Field(field(), "contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff), which is not a character")
			}
			i = end
		default:
			i++
		}
	}
	return nil
}

// loneSurrogate reports whether the text of a JSON string (between its quotes) escapes a
// surrogate that is not part of a high-low pair.
func loneSurrogate(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++
		if s[i] != 'u' {
			continue
		}
		r := hex4(s[i+1 : i+5])
		i += 4
		switch {
		case r >= 0xdc00 && r <= 0xdfff:
			return true // a low surrogate with no high one before it
		case r >= 0xd800 && r <= 0xdbff:
			if i+6 >= len(s) || s[i+1] != '\\' || s[i+2] != 'u' {
				return true
			}
			if lo := hex4(s[i+3 : i+7]); lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 6
		}
	}
	return false
}

// hex4 is the value of four hex digits (valid JSON guarantees them).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// readBody reads r to its end. A declared length (trusted only up to maxBodyBytes, and r
// is bounded anyway) sizes the buffer at once instead of growing it read by read.
func readBody(r io.Reader, declared int64) ([]byte, error) {
	size := 512
	if declared > 0 && declared < maxBodyBytes {
		size = int(declared) + 1 // room to read the EOF without growing
	}
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// exactFields refuses object keys that name a field of t only case-insensitively
// (encoding/json matches "credentialname" to credentialName, and DisallowUnknownFields lets
// it through) and keys given twice (encoding/json keeps the last). body has already been
// decoded into t, so it is one valid JSON value. The keys are compared where they lie in
// body, against field sets built once per type, so the check allocates nothing unless a key
// is escaped or refused. It checks every object that decodes into a struct, through fields,
// pointers, slices and arrays; objects that decode into maps or interfaces (free-form
// properties) are not checked.
func exactFields(body []byte, t reflect.Type) error {
	_, err := checkValue(body, skipSpace(body, 0), t)
	return err
}

// checkValue checks the value that starts at body[i] against t (nil: anything) and returns
// the index just after it.
func checkValue(body []byte, i int, t reflect.Type) (int, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil:
	case body[i] == '{' && t.Kind() == reflect.Struct:
		return checkObject(body, i, t)
	case body[i] == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		return checkArray(body, i, t.Elem())
	}
	return skipValue(body, i), nil
}

// checkArray checks each element of the array that starts at body[i] against elem.
func checkArray(body []byte, i int, elem reflect.Type) (int, error) {
	var err error
	for i = skipSpace(body, i+1); body[i] != ']'; {
		if i, err = checkValue(body, i, elem); err != nil {
			return 0, err
		}
		if i = skipSpace(body, i); body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return i + 1, nil
}

// checkObject checks the keys of the object that starts at body[i] against struct t: each
// must name a field exactly, and only once (encoding/json would keep the last of two, where
// another reader of the same body may take the first).
func checkObject(body []byte, i int, t reflect.Type) (int, error) {
	fields := jsonFields(t)
	var seen uint64
	for i = skipSpace(body, i+1); body[i] != '}'; {
		end := skipString(body, i)
		key, err := objectKey(body[i:end])
		if err != nil {
			return 0, err
		}
		f, ok := fields[string(key)]
		if !ok {
			return 0, unknownField(string(key))
		}
		if f.index < 64 { // keyhold's request structs have a few fields; wider ones go unchecked
			if seen&(1<<f.index) != 0 {
				return 0, apperr.Field(string(key), "appears more than once")
			}
			seen |= 1 << f.index
		}
		i = skipSpace(body, skipSpace(body, end)+1) // past the colon
		if i, err = checkValue(body, i, f.typ); err != nil {
			return 0, err
		}
		if i = skipSpace(body, i); body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return i + 1, nil
}

// objectKey returns the text of a quoted key; only an escaped key costs an allocation.
func objectKey(quoted []byte) ([]byte, error) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return quoted[1 : len(quoted)-1], nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, apperr.Field("body", "is not valid JSON")
	}
	return []byte(s), nil
}

func unknownField(name string) error {
	if name == "" {
		return apperr.Field("body", "has a field with an empty name")
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return apperr.Field(name, "is not a known field")
}

// jsonField is a field of a struct as JSON names it: its type and its position.
type jsonField struct {
	typ   reflect.Type
	index int
}

// fieldSets caches jsonFields per struct type.
var fieldSets sync.Map // reflect.Type -> map[string]jsonField

// jsonFields maps the exact JSON names of struct t's exported fields to them; where two
// fields claim a name, the first one holds it.
func jsonFields(t reflect.Type) map[string]jsonField {
	if m, ok := fieldSets.Load(t); ok {
		return m.(map[string]jsonField)
	}
	m := make(map[string]jsonField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if _, taken := m[name]; !taken && name != "-" && f.IsExported() {
			m[name] = jsonField{f.Type, i}
		}
	}
	fieldSets.Store(t, m)
	return m
}

// The skip functions walk JSON that is known to be valid: each returns the index just after
// the element that starts at body[i].

func skipSpace(body []byte, i int) int {
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
		i++
	}
	return i
}

func skipString(body []byte, i int) int {
	for i++; body[i] != '"'; i++ {
		if body[i] == '\\' {
			i++
		}
	}
	return i + 1
}

func endsValue(c byte) bool {
	switch c {
	case ',', ':', ']', '}', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// skipValue skips any value without recursion: nesting can be as deep as the decoder allows.
func skipValue(body []byte, i int) int {
	depth := 0
	for {
		switch c := body[i]; {
		case c == '"':
			i = skipString(body, i)
		case c == '{' || c == '[':
			depth++
			i++
		case c == '}' || c == ']':
			depth--
			i++
		case c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		default: // a number or a literal
			for i < len(body) && !endsValue(body[i]) {
				i++
			}
		}
		if depth == 0 {
			return i
		}
	}
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.Field("body", "is not valid JSON")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return apperr.Field("body", "must be a JSON object")
		}
		return apperr.Field(field, "must be %s", jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json quotes the name with %q: unquote it to name the field as sent.
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = strings.Trim(quoted, `"`)
		}
		if name == "" {
			return apperr.Field("body", "has a field with an empty name")
		}
		if len(name) > 64 {
			name = name[:64]
		}
		return apperr.Field(name, "is not a known field")
	}
	return apperr.Field("body", "is not a valid request")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "struct", "map", "ptr":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	}
	return "a number"
}
