package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestEveryKindHasAStatusAndCode(t *testing.T) {
	for k := Internal; k <= Unavailable; k++ {
		if k.Status() < 400 || k.Code() == "" {
			t.Errorf("kind %d: status %d code %q", k, k.Status(), k.Code())
		}
	}
}

func TestAsWrapsForeignErrorsAsInternal(t *testing.T) {
	cause := errors.New("disk on fire")
	e := As(cause)
	if e.Kind != Internal || e.Message != "internal error" || !errors.Is(e, cause) {
		t.Fatalf("As(foreign) = %+v", e)
	}
	f := Field("credentialName", "must not be empty")
	if As(f) != f || !Is(f, BadRequest) || f.Issues[0].Subject != "credentialName" {
		t.Fatalf("Field = %+v", f)
	}
}

// A store failure that may pass stays a 503 with Retry-After however a handler wraps it, and
// its cause (the driver's message) is kept for the log, not the message.
func TestStorageUnavailableSurvivesWrapping(t *testing.T) {
	cause := errors.New("database or disk is full (13)")
	u := StorageUnavailable(cause)
	for name, err := range map[string]error{
		"bare":            u,
		"fmt-wrapped":     fmt.Errorf("create credential: %w", u),
		"Wrap":            Wrap(u, "create credential"),
		"Wrap of wrapped": Wrap(fmt.Errorf("tx: %w", u), "reset"),
		"internal cause":  &Error{Kind: Internal, Message: "internal error", Cause: fmt.Errorf("x: %w", u)},
	} {
		e := As(err)
		if e.Kind != Unavailable || e.Kind.Status() != http.StatusServiceUnavailable || e.RetryAfter != StorageRetryAfter ||
			!errors.Is(e, cause) || e.Message != u.Message {
			t.Errorf("%s: As = %+v", name, e)
		}
	}
	if e := Wrap(errors.New("bug"), "x"); e.Kind != Internal {
		t.Errorf("Wrap of a plain error: %+v", e)
	}
}

// TestOutcomeUnknownSurvivesWrapping: a commit whose outcome is unknown stays a 503 with its
// own code and message however a handler wraps it, and is told apart from a plain 503.
func TestOutcomeUnknownSurvivesWrapping(t *testing.T) {
	cause := errors.New("unexpected EOF")
	for _, err := range []error{OutcomeUnknown(cause), Wrap(OutcomeUnknown(cause), "create credential"),
		As(Wrap(OutcomeUnknown(cause), "reset"))} {
		e := As(err)
		if e.Kind != Unavailable || e.Kind.Status() != 503 || e.ErrorCode() != CodeOutcomeUnknown ||
			e.Message != MsgOutcomeUnknown || e.RetryAfter < 1 || !IsOutcomeUnknown(err) || !errors.Is(err, cause) {
			t.Errorf("%v: %+v", err, e)
		}
	}
	if IsOutcomeUnknown(StorageUnavailable(cause)) || IsOutcomeUnknown(cause) {
		t.Error("a plain unavailable store reported as outcome unknown")
	}
}
