// Package ids owns keyhold's identifiers: UUIDs minted for every resource and the two
// spellings in which clients may send them (hyphenated, or 32 hex digits as GreenLake's
// workspace ids and GRNs use). Everything that accepts an id from outside goes through Parse,
// so every layer below sees one canonical form.
package ids
