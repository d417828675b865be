package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error for the client. The zero value is Internal, so an error built
// carelessly never leaks as a client error.
type Kind int

// The kinds keyhold distinguishes; each maps to one HTTP status and one generic error code.
const (
	Internal Kind = iota
	BadRequest
	Unauthorized
	Forbidden
	NotFound
	Conflict
	PreconditionFailed
	TooManyRequests
	PayloadTooLarge
	UnsupportedMediaType
	MethodNotAllowed
	// Unavailable is a dependency that cannot serve now (the store's disk is full, its
	// database is unreachable): 503 with Retry-After. Nothing was changed; the client may
	// retry the same request.
	Unavailable
)

var table = map[Kind]struct {
	status int
	code   string
}{
	Internal:             {http.StatusInternalServerError, "HPE_GL_ERROR_INTERNAL_SERVER_ERROR"},
	BadRequest:           {http.StatusBadRequest, "HPE_GL_ERROR_BAD_REQUEST"},
	Unauthorized:         {http.StatusUnauthorized, "HPE_GL_ERROR_UNAUTHORIZED"},
	Forbidden:            {http.StatusForbidden, "HPE_GL_ERROR_FORBIDDEN"},
	NotFound:             {http.StatusNotFound, "HPE_GL_ERROR_NOT_FOUND"},
	Conflict:             {http.StatusConflict, "HPE_GL_ERROR_CONFLICT"},
	PreconditionFailed:   {http.StatusPreconditionFailed, "HPE_GL_ERROR_PRECONDITION_FAILED"},
	TooManyRequests:      {http.StatusTooManyRequests, "HPE_GL_ERROR_TOO_MANY_REQUESTS"},
	PayloadTooLarge:      {http.StatusRequestEntityTooLarge, "HPE_GL_ERROR_PAYLOAD_TOO_LARGE"},
	UnsupportedMediaType: {http.StatusUnsupportedMediaType, "HPE_GL_ERROR_UNSUPPORTED_MEDIA_TYPE"},
	MethodNotAllowed:     {http.StatusMethodNotAllowed, "HPE_GL_ERROR_METHOD_NOT_ALLOWED"},
	Unavailable:          {http.StatusServiceUnavailable, "HPE_GL_ERROR_SERVICE_UNAVAILABLE"},
}

// Status is the HTTP status for a kind.
func (k Kind) Status() int { return table[k].status }

// Code is the generic GreenLake error code for a kind.
func (k Kind) Code() string { return table[k].code }

// Source says where a bad value was found, as GreenLake error details name it.
type Source string

// Sources of a field issue.
const (
	SourceField Source = "field"
	SourceQuery Source = "query.parameter"
	SourceHdr   Source = "header"
	SourcePath  Source = "path.parameter"
)

// Issue names one bad input: where it was, which field, and what is wrong with it.
type Issue struct {
	Source      Source `json:"source"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
}

// Error is keyhold's application error. Message is shown to clients; Cause is not.
type Error struct {
	Kind    Kind
	Code    string // optional specific code; Kind.Code() when empty
	Message string
	Issues  []Issue
	Cause   error
	// RetryAfter, in seconds, accompanies TooManyRequests and Unavailable.
	RetryAfter int
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Cause)
	}
	return e.Message
}

// Unwrap exposes the internal cause to errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// ErrorCode is the code shown to the client.
func (e *Error) ErrorCode() string {
	if e.Code != "" {
		return e.Code
	}
	return e.Kind.Code()
}

// New builds an error of a kind with a client-safe message.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Field builds a 400 naming one bad field of the request body.
func Field(subject, format string, args ...any) *Error {
	return Invalid(SourceField, subject, fmt.Sprintf(format, args...))
}

// Invalid builds a 400 naming one bad input from any source.
func Invalid(src Source, subject, description string) *Error {
	return &Error{
		Kind:    BadRequest,
		Message: fmt.Sprintf("invalid %s: %s", subject, description),
		Issues:  []Issue{{Source: src, Subject: subject, Description: description}},
	}
}

// StorageRetryAfter is the Retry-After, in seconds, of a storage-unavailable answer.
const StorageRetryAfter = 5

// StorageUnavailable marks a store failure that says nothing about the request and may pass
// (a full disk, an I/O error, an unreachable database): 503 with Retry-After. The storage
// backends' error translation builds it; its cause is logged, never shown.
func StorageUnavailable(cause error) *Error {
	return &Error{Kind: Unavailable, Message: "storage is unavailable; nothing was changed, retry later",
		RetryAfter: StorageRetryAfter, Cause: cause}
}

// MsgOutcomeUnknown is the message of OutcomeUnknown: the one 503 a client must not take as
// "nothing happened".
const MsgOutcomeUnknown = "the database became unavailable while the change was being committed: it may or may not have been applied; read the resource back before retrying"

// CodeOutcomeUnknown is the error code of OutcomeUnknown.
const CodeOutcomeUnknown = "HPE_GL_ERROR_OUTCOME_UNKNOWN"

// OutcomeUnknown marks a write whose COMMIT was sent but whose answer never came (the
// database's connection broke): it may or may not have been committed. 503 with Retry-After,
// its own code and a message that says so; a client reads the resource back before retrying.
func OutcomeUnknown(cause error) *Error {
	return &Error{Kind: Unavailable, Code: CodeOutcomeUnknown, Message: MsgOutcomeUnknown,
		RetryAfter: StorageRetryAfter, Cause: cause}
}

// IsOutcomeUnknown reports whether err is, or wraps, an OutcomeUnknown error.
func IsOutcomeUnknown(err error) bool {
	u := unavailable(err)
	return u != nil && u.Code == CodeOutcomeUnknown
}

// Wrap marks an unexpected failure as internal; its cause is logged, never shown. A cause
// that is already Unavailable stays so: a handler wrapping a store error it did not expect
// must not turn a full disk into a 500.
func Wrap(cause error, what string) *Error {
	if u := unavailable(cause); u != nil {
		return &Error{Kind: Unavailable, Code: u.Code, Message: u.Message, RetryAfter: u.RetryAfter, Cause: fmt.Errorf("%s: %w", what, cause)}
	}
	return &Error{Kind: Internal, Message: "internal error", Cause: fmt.Errorf("%s: %w", what, cause)}
}

// As returns err as *Error, wrapping anything else as Internal. An Internal error whose cause
// is Unavailable is returned as that cause's kind (see Wrap).
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Kind == Internal {
			if u := unavailable(e.Cause); u != nil {
				return &Error{Kind: Unavailable, Code: u.Code, Message: u.Message, RetryAfter: u.RetryAfter, Cause: err}
			}
		}
		return e
	}
	return &Error{Kind: Internal, Message: "internal error", Cause: err}
}

// unavailable finds an Unavailable error in err's chain.
func unavailable(err error) *Error {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return nil
		}
		if e.Kind == Unavailable {
			return e
		}
		err = e.Cause
	}
	return nil
}

// Is reports whether err is an *Error of the given kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
