package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Error is keyhold's answer to a call that failed: the HTTP status and GreenLake's error
// body. OAuth endpoints' RFC 6749 errors are carried too: ErrorCode is their `error`
// (invalid_client, invalid_request, ...) and Message their `error_description`.
type Error struct {
	StatusCode   int           // the HTTP status
	ErrorCode    string        // e.g. HPE_GL_ERROR_NOT_FOUND
	Message      string        // the server's message, meant for people
	DebugID      string        // names the server's log line for this error
	ErrorDetails []ErrorDetail // the fields at fault, for 400s
}

// ErrorDetail is one entry of errorDetails.
type ErrorDetail struct {
	Type   string  `json:"type"`
	Issues []Issue `json:"issues"`
}

// Issue names one input at fault: Source is "field", "query.parameter", "header" or
// "path.parameter"; Subject the member, parameter or header (e.g. "credentialName",
// "evaluations[2].resource.id").
type Issue struct {
	Source      string `json:"source"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "keyhold: %d", e.StatusCode)
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.DebugID != "" {
		b.WriteString(" (debugId " + e.DebugID + ")")
	}
	return b.String()
}

// Fields lists the subjects of every issue (the inputs at fault), in order.
func (e *Error) Fields() []string {
	var out []string
	for _, d := range e.ErrorDetails {
		for _, i := range d.Issues {
			out = append(out, i.Subject)
		}
	}
	return out
}

// HasField reports whether an issue names subject.
func (e *Error) HasField(subject string) bool {
	for _, f := range e.Fields() {
		if f == subject {
			return true
		}
	}
	return false
}

// decodeError reads an error answer: GreenLake's body, an OAuth error, or (for anything
// else, such as a proxy's page) the status alone with the start of the body as message.
func decodeError(status int, body []byte) *Error {
	e := &Error{StatusCode: status}
	var gl struct {
		ErrorCode        string        `json:"errorCode"`
		Message          string        `json:"message"`
		DebugID          string        `json:"debugId"`
		ErrorDetails     []ErrorDetail `json:"errorDetails"`
		OAuthError       string        `json:"error"`
		ErrorDescription string        `json:"error_description"`
	}
	if json.Unmarshal(body, &gl) == nil && (gl.ErrorCode != "" || gl.OAuthError != "") {
		e.ErrorCode, e.Message, e.DebugID, e.ErrorDetails = gl.ErrorCode, gl.Message, gl.DebugID, gl.ErrorDetails
		if gl.ErrorCode == "" {
			e.ErrorCode, e.Message = gl.OAuthError, gl.ErrorDescription
		}
		return e
	}
	e.Message = http.StatusText(status)
	if s := strings.TrimSpace(string(body)); s != "" {
		if len(s) > 200 {
			s = s[:200]
		}
		e.Message = s
	}
	return e
}
