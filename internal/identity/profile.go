package identity

import (
	"encoding/json"
	"hash/maphash"
	"unsafe"
)

// Properties returns what a decision sees of the user as AuthZEN subject properties: the
// stored free attributes, then id, email, externalId, firstName, lastName and active (which
// an attribute of the same name does not override). It is made on each call (only decisions
// that reach a condition ask for it), and the caller may keep or modify it.
func (p *Profile) Properties() map[string]any {
	props := map[string]any{}
	if p.attributes != "" {
		// Stored attributes are a JSON object (the store refuses anything else); one that does
		// not decode adds nothing rather than failing the decision.
		_ = json.Unmarshal([]byte(p.attributes), &props)
		if props == nil {
			props = map[string]any{}
		}
	}
	props["id"], props["email"], props["active"] = p.ID, p.Email, p.Active
	props["externalId"], props["firstName"], props["lastName"] = p.ExternalID, p.firstName, p.lastName
	return props
}

// hash is the hash of s in the view's indexes.
// hashMask is applied to every hash: all ones, except in tests that force collisions.
func (v *dirView) hash(s string) uint64 { return maphash.String(v.seed, s) & hashMask }

var hashMask = ^uint64(0)

// unsafeString is the string of n bytes at p, which must never be modified.
func unsafeString(p *byte, n int) string { return unsafe.String(p, n) }
