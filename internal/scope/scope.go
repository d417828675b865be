package scope

import (
	"fmt"
	"slices"
	"strings"
)

// Bounds of a scope value, so that parsing and Permits stay cheap and a token stays small.
const (
	// MaxItems is the most permission names and wildcards one scope value may list.
	MaxItems = 50
	// MaxItemLen is the longest item: a permission name is at most 128 characters.
	MaxItemLen = 128
	// MaxLen bounds a whole scope value (items and the spaces between them): a token carries
	// its scope, and keyhold's tokens must stay well under token.MaxTokenLen.
	MaxLen = 1024
)

// Wildcard ends an item that stands for every action of one resource type.
const Wildcard = ".*"

// Set is a parsed scope: the permissions a token is restricted to. The nil *Set is
// unrestricted.
type Set struct {
	exact    []string // full permission names, sorted, distinct
	prefixes []string // "<provider>.<resource-type>." of the wildcards, sorted, distinct
	items    []string // every item, canonical order (sorted, distinct)
}

// Error is a refused scope value; Item is the offending item (possibly truncated), "" when
// the value as a whole is refused.
type Error struct {
	Item   string
	Reason string
}

func (e *Error) Error() string {
	if e.Item == "" {
		return "scope " + e.Reason
	}
	return fmt.Sprintf("scope %q %s", e.Item, e.Reason)
}

func refuse(item, reason string) error {
	if len(item) > 64 {
		item = item[:64] + "..."
	}
	return &Error{Item: item, Reason: reason}
}

// Parse reads a scope value as sent to the token endpoint or carried in a token's scope claim:
// items separated by single spaces (RFC 6749 §3.3), each a permission name or a wildcard. The
// empty value is an error; a repeated item counts once. The result lists its items sorted.
func Parse(s string) (*Set, error) {
	if s == "" {
		return nil, refuse("", "is empty")
	}
	if len(s) > MaxLen {
		return nil, refuse("", fmt.Sprintf("is longer than %d bytes", MaxLen))
	}
	n := strings.Count(s, " ") + 1
	if n > MaxItems {
		return nil, refuse("", fmt.Sprintf("lists more than %d items", MaxItems))
	}
	items := make([]string, 0, n)
	for item := range strings.SplitSeq(s, " ") {
		items = append(items, item)
	}
	return FromItems(items)
}

// FromItems is Parse for items already split (a credential's stored allowed scopes). items is
// not modified.
func FromItems(items []string) (*Set, error) {
	if len(items) == 0 {
		return nil, refuse("", "is empty")
	}
	if len(items) > MaxItems {
		return nil, refuse("", fmt.Sprintf("lists more than %d items", MaxItems))
	}
	if n := len(items) - 1 + lenSum(items); n > MaxLen {
		return nil, refuse("", fmt.Sprintf("is longer than %d bytes", MaxLen))
	}
	set := &Set{items: slices.Clone(items)}
	for _, item := range items {
		wild, err := CheckItem(item)
		if err != nil {
			return nil, err
		}
		if wild {
			set.prefixes = append(set.prefixes, item[:len(item)-1])
		} else {
			set.exact = append(set.exact, item)
		}
	}
	slices.Sort(set.items)
	set.items = slices.Compact(set.items)
	slices.Sort(set.exact)
	set.exact = slices.Compact(set.exact)
	slices.Sort(set.prefixes)
	set.prefixes = slices.Compact(set.prefixes)
	return set, nil
}

func lenSum(items []string) int {
	n := 0
	for _, s := range items {
		n += len(s)
	}
	return n
}

// CheckItem checks one item's syntax: three dot-separated segments, the first two (provider and
// resource type) and an action each a letter then letters, digits, '-' or '_' (the segments of
// a permission name), or "*" as the action (wild). At most MaxItemLen bytes.
func CheckItem(item string) (wild bool, err error) {
	if item == "" {
		return false, refuse("", "has an empty item (items are separated by single spaces)")
	}
	if len(item) > MaxItemLen {
		return false, refuse(item, fmt.Sprintf("is longer than %d characters", MaxItemLen))
	}
	provider, rest, ok1 := strings.Cut(item, ".")
	typ, action, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return false, refuse(item, "is not a permission name (<provider>.<resource-type>.<action>) or <provider>.<resource-type>.*")
	}
	if !segment(provider) || !segment(typ) || (action != "*" && !segment(action)) {
		return false, refuse(item, "is not a permission name (<provider>.<resource-type>.<action>) or <provider>.<resource-type>.*")
	}
	return action == "*", nil
}

// segment is a permission name's segment: a letter, then letters, digits, '-' or '_'.
func segment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if i == 0 && !letter || !letter && !('0' <= c && c <= '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// Permits reports whether permission is within the scope: always for the nil (unrestricted)
// Set; otherwise when it is listed, or its "<provider>.<resource-type>." is a wildcard's. It
// does not allocate.
func (s *Set) Permits(permission string) bool {
	if s == nil {
		return true
	}
	if _, ok := slices.BinarySearch(s.exact, permission); ok {
		return true
	}
	for _, p := range s.prefixes {
		if len(permission) > len(p) && strings.HasPrefix(permission, p) && !strings.Contains(permission[len(p):], ".") {
			return true
		}
	}
	return false
}

// Covers checks that every item of o is within s (s narrows to o, never widens): a
// permission name when s permits it, a wildcard only when s has the same wildcard (or s is
// nil). It returns the first item of o that is not, or ok.
func (s *Set) Covers(o *Set) (outside string, ok bool) {
	if s == nil || o == nil {
		return "", s == nil
	}
	for _, item := range o.items {
		if strings.HasSuffix(item, Wildcard) {
			if _, found := slices.BinarySearch(s.prefixes, item[:len(item)-1]); !found {
				return item, false
			}
		} else if !s.Permits(item) {
			return item, false
		}
	}
	return "", true
}

// Items lists the scope's items, sorted and distinct (nil for the nil Set). The caller must not
// modify the slice.
func (s *Set) Items() []string {
	if s == nil {
		return nil
	}
	return s.items
}

// String is the scope value, items sorted and separated by single spaces ("" for nil).
func (s *Set) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.items, " ")
}
