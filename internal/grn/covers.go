package grn

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
