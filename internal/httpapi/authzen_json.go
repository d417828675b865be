package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
)

// AuthZEN requests are read in one pass over the body: readOpenBody checks the body once
// (size, UTF-8, one valid JSON value, nesting depth, surrogates), then memberIter walks an
// object's members in place, keeping only what keyhold reads and slicing raw values out of
// the body instead of copying them. Members keyhold does not know are skipped at every level,
// as AuthZEN 1.0 requires of receivers, but only exact member names count, and a member
// given twice in an object keyhold reads is refused (encoding/json would keep the last, where
// another reader of the same body, the PEP's, may take the first). The raw values are
// slices of the request's body, which is read into a buffer of its own and never reused.

// readOpenBody reads a request body that must be one JSON object, with the checks of
// decodeJSON but for unknown members: bounded size (maxBodyBytes), valid UTF-8, one JSON value (nested at most
// as deep as encoding/json allows), no unpaired surrogate escapes. The body it returns is
// valid JSON that starts with '{' (after no white space: it is trimmed).
func readOpenBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := readChecked(w, r)
	if err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		return nil, validityError(body)
	}
	body = bytes.TrimSpace(body)
	if body[0] != '{' {
		return nil, apperr.Field("body", "must be an object")
	}
	return body, noLoneSurrogates(body)
}

// validityError says why body (valid UTF-8, not empty) is not one valid JSON value, with the
// messages of decodeJSON. It runs only on the error path.
func validityError(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.Field("body", "must contain exactly one JSON object")
	}
	return apperr.Field("body", "is not valid JSON")
}

// readChecked reads the body of r after checking its media type: bounded, not empty,
// valid UTF-8.
func readChecked(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if err := checkMediaType(r); err != nil {
		return nil, err
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, maxBodyBytes), r.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, bodyTooLarge()
		}
		return nil, apperr.New(apperr.BadRequest, "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, apperr.Field("body", "a JSON object is required")
	}
	if !utf8.Valid(body) {
		return nil, apperr.Field("body", "must be valid UTF-8")
	}
	return body, nil
}

// memberIter walks the members of one JSON object of a checked body (valid JSON), in order,
// refusing a key that comes twice (compared after unescaping, as encoding/json compares).
type memberIter struct {
	obj   []byte
	i     int
	field fieldName
	seen  keySet
	// anyKeys turns the check of duplicate keys off.
	anyKeys bool
}

// fieldName names a member in errors: prefix (e.g. "evaluations[2]."), name and member
// (e.g. "subject" and "id"), joined only when an error needs the name, so that the hot path
// builds no strings.
type fieldName struct{ prefix, name, member string }

func (f fieldName) String() string {
	if f.member == "" {
		return f.prefix + f.name
	}
	return f.prefix + f.name + "." + f.member
}

// with is f's member m (f names an object).
func (f fieldName) with(m string) fieldName { return fieldName{f.prefix, f.name, m} }

// field is the fieldName of a top-level member.
func field(name string) fieldName { return fieldName{name: name} }

// members starts walking the object obj, which starts with '{'; field names it in errors.
func members(obj []byte, field fieldName) memberIter {
	return memberIter{obj: obj, i: skipSpace(obj, 1), field: field}
}

// next returns the next member: its key (unescaped) and its value as sent, without
// surrounding white space. ok is false after the last member.
func (it *memberIter) next() (key, value []byte, ok bool, err error) {
	if it.obj[it.i] == '}' {
		return nil, nil, false, nil
	}
	end := skipString(it.obj, it.i)
	if key, err = objectKey(it.obj[it.i:end]); err != nil {
		return nil, nil, false, err
	}
	if !it.anyKeys && !it.seen.add(key) {
		return nil, nil, false, apperr.Field(it.field.String(), "has a member more than once")
	}
	start := skipSpace(it.obj, skipSpace(it.obj, end)+1) // past the colon
	stop := skipValue(it.obj, start)
	if it.i = skipSpace(it.obj, stop); it.obj[it.i] == ',' {
		it.i = skipSpace(it.obj, it.i+1)
	}
	return key, it.obj[start:stop], true, nil
}

// keySet is the set of keys seen in one object: a few compared in place, more in a map.
type keySet struct {
	few  [12][]byte
	n    int
	many map[string]struct{}
}

// add adds key and reports whether it was new.
func (s *keySet) add(key []byte) bool {
	if s.many != nil {
		if _, dup := s.many[string(key)]; dup {
			return false
		}
		s.many[string(key)] = struct{}{}
		return true
	}
	for _, k := range s.few[:s.n] {
		if bytes.Equal(k, key) {
			return false
		}
	}
	if s.n < len(s.few) {
		s.few[s.n] = key
		s.n++
		return true
	}
	s.many = make(map[string]struct{}, 2*len(s.few))
	for _, k := range s.few {
		s.many[string(k)] = struct{}{}
	}
	s.many[string(key)] = struct{}{}
	return true
}

// isNull reports whether raw, a value as memberIter returns it, is JSON null.
func isNull(raw []byte) bool { return string(raw) == "null" }

// objectValue checks that raw (a value as memberIter returns it, or nil when absent) is an
// object or null: it returns the object, nil when absent or null.
func objectValue(raw []byte, field fieldName) ([]byte, error) {
	switch {
	case raw == nil || isNull(raw):
		return nil, nil
	case raw[0] != '{':
		return nil, apperr.Field(field.String(), "must be an object")
	}
	return raw, nil
}

// stringValue decodes raw (a value as memberIter returns it, or nil) as a string: "" when
// absent or null. Only an escaped string is decoded by encoding/json.
func stringValue(raw []byte, field fieldName) (string, error) {
	switch {
	case raw == nil || isNull(raw):
		return "", nil
	case raw[0] != '"':
		return "", apperr.Field(field.String(), "must be a string")
	}
	if text := raw[1 : len(raw)-1]; bytes.IndexByte(text, '\\') < 0 {
		return string(text), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", apperr.Field(field.String(), "must be a string")
	}
	return s, nil
}

// checkedObject checks that raw is an object or null with no member given twice at its top
// level; it returns the object (nil when absent or null).
func checkedObject(raw []byte, field fieldName) ([]byte, error) {
	obj, err := objectValue(raw, field)
	if obj == nil || err != nil {
		return nil, err
	}
	it := members(obj, field)
	for {
		_, _, ok, err := it.next()
		if !ok || err != nil {
			return obj, err
		}
	}
}

// lookup returns the value of member name of the object obj (nil when absent or obj is not
// an object). Of a name given twice it returns the last value, as encoding/json keeps.
func lookup(obj []byte, name string) []byte {
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	it := members(obj, fieldName{})
	it.anyKeys = true // duplicates are not this reader's concern
	var found []byte
	for {
		key, v, ok, _ := it.next()
		if !ok {
			return found
		}
		if string(key) == name {
			found = v
		}
	}
}
