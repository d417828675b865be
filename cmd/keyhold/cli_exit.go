package main

import (
	"errors"
	"fmt"
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

// exitCodeOf maps a command's error to its exit code: an explicit codedError (the client
// commands wrap a failure to reach keyhold in one), an answer of keyhold by its status,
// anything else exitFailed.
func exitCodeOf(err error) int {
	var ee *codedError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce *client.Error
	if !errors.As(err, &ce) {
		return exitFailed
	}
	if status := ce.StatusCode; status >= 400 && status < 500 && status != http.StatusTooManyRequests {
		return exitRefused
	}
	return exitUnavailable
}

// errorMessage is the line a failed command prints after "keyhold: ". keyhold's answers
// read "404 Not Found HPE_GL_ERROR_NOT_FOUND: message (debugId ...)" whichever way they came.
func errorMessage(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return strings.Replace(err.Error(), ce.Error(), describe(ce), 1)
	}
	return err.Error()
}

// describe writes keyhold's error answer for people: status, error code, message, debugId.
func describe(e *client.Error) string {
	msg := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.ErrorCode != "" {
		msg += " " + e.ErrorCode
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.DebugID != "" {
		msg += " (debugId " + e.DebugID + ")"
	}
	return msg
}
