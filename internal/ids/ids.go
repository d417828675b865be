package ids

import (
	"errors"
	"strings"

	"github.com/google/uuid"
)

// ErrInvalid is returned for anything that is not a UUID in one of the accepted spellings.
var ErrInvalid = errors.New("not a valid id: expected a UUID, hyphenated or as 32 hex digits")

// New returns a fresh, time-ordered (version 7) id in canonical hyphenated form.
func New() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Parse accepts "8-4-4-4-12" hyphenated or 32-hex-digit UUIDs, in either case, and returns the
// canonical lower-case hyphenated form. Braced and URN forms are refused: they appear in no
// GreenLake document and accepting them would only widen the attack surface of every parser.
func Parse(s string) (string, error) {
	if len(s) != 36 && len(s) != 32 {
		return "", ErrInvalid
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", ErrInvalid
	}
	return u.String(), nil
}

// Hex returns the 32-hex-digit form of a canonical id, as used in GRNs and issuer URLs.
func Hex(canonical string) string {
	return strings.ReplaceAll(canonical, "-", "")
}

// IsHexOf reports whether hex is the 32-hex-digit form of canonical (a canonical id), as Hex
// would print it, without allocating: for comparing a GRN's workspace with an id on hot paths.
func IsHexOf(hex, canonical string) bool {
	if len(hex) != 32 || len(canonical) != 36 {
		return false
	}
	j := 0
	for i := 0; i < len(canonical); i++ {
		if canonical[i] == '-' {
			continue
		}
		if j >= len(hex) || hex[j] != canonical[i] {
			return false
		}
		j++
	}
	return j == len(hex)
}

// MustParse is Parse for constants in tests and fixed data; it panics on a bad id.
func MustParse(s string) string {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}
