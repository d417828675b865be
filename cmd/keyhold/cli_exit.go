package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/keyhold/keyhold/client"
)

// Exit codes of keyhold's commands, documented in docs/cli.md. Scripts branch on them, so
// they only ever gain meanings, never change them.
const (
	exitOK          = 0 // done
	exitFailed      = 1 // failed here: a local file, the configuration, a refused store, ...
	exitUsage       = 2 // the command line is wrong (unknown command or flag, missing argument)
	exitDenied      = 3 // check: keyhold answered, and the decision is "denied"
	exitRefused     = 4 // keyhold refused the request (4xx: bad input, not allowed, not found, login failed)
	exitUnavailable = 5 // keyhold could not be reached or failed (network error, 5xx)
)

// codedError carries a command's exit code. A nil err prints nothing (the command has said
// what happened on stdout).
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *codedError) Unwrap() error { return e.err }

// errDenied ends `keyhold check` with exitDenied once it printed the decision.
var errDenied = &codedError{code: exitDenied}

// statusCoder is an error that carries the HTTP status keyhold answered (the SDK's
// *client.Error, the CLI's own API errors).
type statusCoder interface{ HTTPStatus() int }

// exitCodeOf maps a command's error to its exit code: an explicit codedError (the client
// commands wrap a failure to reach keyhold in one), an answer of keyhold by its status,
// anything else exitFailed.
func exitCodeOf(err error) int {
	var ee *codedError
	if errors.As(err, &ee) {
		return ee.code
	}
	status := 0
	var sc statusCoder
	var ce *client.Error
	switch {
	case errors.As(err, &ce):
		status = ce.StatusCode
	case errors.As(err, &sc):
		status = sc.HTTPStatus()
	default:
		return exitFailed
	}
	if status >= 400 && status < 500 && status != http.StatusTooManyRequests {
		return exitRefused
	}
	return exitUnavailable
}

// errorMessage is the line a failed command prints after "keyhold: ". keyhold's answers
// read "404 Not Found HPE_GL_ERROR_NOT_FOUND: message (debugId ...)" whichever way they came.
func errorMessage(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		plain := (&apiError{Status: ce.StatusCode, ErrorCode: ce.ErrorCode, Message: ce.Message, DebugID: ce.DebugID}).Error()
		return strings.Replace(err.Error(), ce.Error(), plain, 1)
	}
	return err.Error()
}
