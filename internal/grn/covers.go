package grn

import "strings"

// Covers reports whether scope g covers resource r, as specified in the package
// documentation: same platform, and g is the platform root, or r's whole workspace, or a
// pair-by-pair prefix of r in the same workspace, region and provider, where a trailing
// Wildcard id in g matches any id. The zero GRN covers nothing and is covered by nothing.
// Covers does not allocate.
func (g GRN) Covers(r GRN) bool {
	switch {
	case g.Platform == "" || g.Platform != r.Platform:
		return false
	case g.Workspace == "" && g.Provider == "":
		return true // platform root
	case g.Workspace != r.Workspace:
		return false
	case g.Provider == "":
		return true // whole workspace, any region
	case g.Region != r.Region || g.Provider != r.Provider:
		return false
	}
	return pathCovers(g.Path, r.Path)
}

// pathCovers reports whether scope path s is a prefix of resource path r, pair by pair, with a
// Wildcard id in the last pair of s matching any id.
func pathCovers(s, r []Pair) bool {
	if len(s) > len(r) {
		return false
	}
	last := len(s) - 1
	for i, p := range s {
		if p.Type != r[i].Type {
			return false
		}
		if p.ID != r[i].ID && (i != last || p.ID != Wildcard) {
			return false
		}
	}
	return true
}

// CoversText is Covers for a scope held as its canonical text: scope must be the String()
// of a valid GRN (Parse's output, printed), which is what lets keyhold keep many scopes as
// bytes instead of parsed values. It walks the text segment by segment, compares the same
// fields in the same order as Covers, and answers exactly as Covers would; for text that is
// not canonical the answer is unspecified. CoversText does not allocate.
func CoversText(scope string, r GRN) bool {
	if !strings.HasPrefix(scope, scheme) {
		return false
	}
	platform, rest := segment(scope[len(scheme):])
	switch {
	case platform == "" || platform != r.Platform:
		return false
	case rest == "":
		return true // platform root
	}
	kw, rest := segment(rest)
	if kw != "workspaces" { // "providers": a platform-wide resource
		return r.Workspace == "" && r.Region == "" && providerCovers(rest, r)
	}
	ws, rest := segment(rest)
	switch {
	case ws != r.Workspace:
		return false
	case rest == "":
		return true // whole workspace, any region
	}
	_, rest = segment(rest) // "regions"
	region, rest := segment(rest)
	if region != r.Region {
		return false
	}
	_, rest = segment(rest) // "providers"
	return providerCovers(rest, r)
}

// providerCovers compares "<provider>/<type>/<id>..." with r's provider and path as
// pathCovers does.
func providerCovers(text string, r GRN) bool {
	provider, rest := segment(text)
	if provider != r.Provider {
		return false
	}
	for i := 0; rest != ""; i++ {
		var typ, id string
		typ, rest = segment(rest)
		id, rest = segment(rest)
		if i >= len(r.Path) || typ != r.Path[i].Type {
			return false
		}
		if id != r.Path[i].ID && (rest != "" || id != Wildcard) {
			return false
		}
	}
	return true
}

// segment splits s at its first '/': the segment before it and the rest after it.
func segment(s string) (string, string) {
	seg, rest, _ := strings.Cut(s, "/")
	return seg, rest
}
