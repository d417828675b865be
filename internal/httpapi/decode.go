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
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
)

// maxBodyBytes bounds every JSON request body.
const maxBodyBytes = 64 << 10

// decodeJSON reads exactly one JSON object into dst: bounded size, valid UTF-8, no unknown
// fields, no trailing data. Each failure is a 4xx naming what is wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &apperr.Error{Kind: apperr.UnsupportedMediaType, Message: "the request body must be application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apperr.Error{Kind: apperr.PayloadTooLarge, Message: fmt.Sprintf("the request body exceeds %d bytes", maxBodyBytes)}
		}
		return apperr.New(apperr.BadRequest, "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.Field("body", "a JSON object is required")
	}
	if !utf8.Valid(body) {
		return apperr.Field("body", "must be valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.Field("body", "must contain exactly one JSON object")
	}
	return exactFields(body, reflect.TypeOf(dst))
}

// exactFields refuses object keys that name a field of t only case-insensitively:
// encoding/json matches "credentialname" to credentialName, and DisallowUnknownFields lets
// it through. body has already been decoded into t, so it is valid JSON.
func exactFields(body []byte, t reflect.Type) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return apperr.Field("body", "is not valid JSON")
	}
	return exactKeys(v, t)
}

func exactKeys(v any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	obj, ok := v.(map[string]any)
	if !ok || t.Kind() != reflect.Struct {
		return nil
	}
	for key, val := range obj {
		f, ok := fieldByJSONName(t, key)
		if !ok {
			if len(key) > 64 {
				key = key[:64]
			}
			return apperr.Field(key, "is not a known field")
		}
		if err := exactKeys(val, f.Type); err != nil {
			return err
		}
	}
	return nil
}

func fieldByJSONName(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if name == key && name != "-" && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
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
