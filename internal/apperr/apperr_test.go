package apperr

import (
	"errors"
	"testing"
)

func TestEveryKindHasAStatusAndCode(t *testing.T) {
	for k := Internal; k <= MethodNotAllowed; k++ {
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
