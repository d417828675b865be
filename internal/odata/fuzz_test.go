package odata

import (
	"errors"
	"testing"
)

func addSeeds(f *testing.F) {
	for _, tc := range validCases {
		f.Add(tc.filter)
	}
	for _, tc := range invalidCases {
		f.Add(tc.filter)
	}
}

// checkError asserts err is an *Error with a position inside the input and a bounded message.
func checkError(t *testing.T, input string, err error) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error for %q is %T, not *Error: %v", input, err, err)
	}
	if fe.Pos < 0 || fe.Pos > len(input) {
		t.Fatalf("error for %q has position %d outside the input: %v", input, fe.Pos, err)
	}
	checkEcho(t, input, fe)
}

func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, input string) {
		e, err := Parse(input)
		if err != nil {
			checkError(t, input, err)
			return
		}
		if e == nil {
			return
		}
		text := e.String()
		if len(text) > MaxLength {
			return // rendering may add a few bytes of punctuation
		}
		e2, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) rendered %q, which does not parse: %v", input, text, err)
		}
		if text2 := e2.String(); text2 != text {
			t.Fatalf("Parse(%q) rendered %q, which re-renders as %q", input, text, text2)
		}
	})
}

func FuzzCompile(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, input string) {
		p, err := testSchema.Compile(input)
		if err != nil {
			checkError(t, input, err)
			return
		}
		if err := checkSQL(testSchema, p.SQL, len(p.Args)); err != nil {
			t.Fatalf("Compile(%q) = %q: %v", input, p.SQL, err)
		}
		e, _ := Parse(input)
		if _, err := matching(e); err != nil {
			t.Fatalf("Compile(%q) succeeded but Match failed: %v", input, err)
		}
	})
}
