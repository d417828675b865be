package rbac

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
)

// Release stages and custom-role use values accepted from clients.
var (
	ReleaseStages  = []string{"ALPHA", "BETA", StageStable, StageDeprecated}
	CustomRoleUses = []string{CustomAllow, CustomDeny}
)

// Length limits, in characters.
const (
	maxNamespaceLen    = 64
	maxPermissionLen   = 128
	maxDisplayNameLen  = 100
	maxDescriptionLen  = 256
	maxScopeGroupName  = 150
	maxLongDescription = 1024
)

// reservedProviders are namespaces keyhold uses in GRNs itself.
var reservedProviders = []string{Provider, AuthorizationProvider, TenantGroupProvider}

// checkSegment validates a namespace-like token (provider id, resource type, action):
// 1..max characters, a letter first, then letters, digits, '-' or '_'. It is therefore a
// valid GRN segment and contains no '.', which separates the parts of a permission name.
func checkSegment(field, s string, max int) error {
	if s == "" || len(s) > max {
		return apperr.Field(field, "must be 1 to %d characters", max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if i == 0 && !letter {
			return apperr.Field(field, "must start with a letter")
		}
		if !letter && !('0' <= c && c <= '9') && c != '-' && c != '_' {
			return apperr.Field(field, "may contain only letters, digits, '-' and '_'")
		}
	}
	return nil
}

// checkText validates free text: at most max characters and no control characters.
func checkText(field, s string, max int) error {
	switch {
	case utf8.RuneCountInString(s) > max:
		return apperr.Field(field, "must be at most %d characters", max)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return apperr.Field(field, "must not contain control characters")
	}
	return nil
}

// checkName validates a required display name: trimmed of surrounding space, 1..max
// characters, no control characters.
func checkName(field, raw string, max int) (string, error) {
	name := strings.TrimSpace(raw)
	if name == "" {
		return "", apperr.Field(field, "is required and must not be blank")
	}
	return name, checkText(field, name, max)
}

// checkRoleName applies GreenLake's role name rule: letters, digits, '-' and spaces.
func checkRoleName(raw string) (string, error) {
	name, err := checkName("name", raw, maxDisplayNameLen)
	if err != nil {
		return "", err
	}
	for _, r := range name {
		if !(r < utf8.RuneSelf && (r == ' ' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return "", apperr.Field("name", "may contain only letters, digits, '-' and spaces")
		}
	}
	return name, nil
}

// CheckGroupName applies the scope group (and user group) name rule: 1..max characters, no
// leading or trailing space, none of & < > | : , and no control characters.
func CheckGroupName(field, name string, max int) error {
	switch {
	case name == "":
		return apperr.Field(field, "is required")
	case strings.TrimSpace(name) != name:
		return apperr.Field(field, "must not start or end with a space")
	case strings.ContainsAny(name, "&<>|:,"):
		return apperr.Field(field, "must not contain any of & < > | : ,")
	}
	return checkText(field, name, max)
}

func oneOf(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return apperr.Field(field, "must be one of %s", strings.Join(allowed, ", "))
}
