package grn

import (
	"fmt"
	"strings"

	"github.com/keyhold/keyhold/internal/ids"
)

const (
	// DefaultPlatform is the platform of every GreenLake GRN.
	DefaultPlatform = "glp"
	// Wildcard as the last id of a GRN stands for every instance of that type.
	Wildcard = "*"
	// MaxLength is the longest GRN, in bytes, that Parse accepts.
	MaxLength = 1024
	// MaxPairs is the largest number of type/id pairs that Parse accepts.
	MaxPairs = 16
)

// Pair is one step of a resource path: a resource type and the id of one instance of it
// (or Wildcard, in the last pair only).
type Pair struct{ Type, ID string }

// GRN is a parsed GreenLake Resource Name. Values produced by Parse, Platform and Workspace
// are always valid; a GRN assembled by hand is only meaningful if Parse(g.String()) accepts
// it. The zero GRN names nothing.
type GRN struct {
	Platform  string
	Workspace string // 32 lower-case hex; "" for platform-level GRNs
	Region    string // "" unless a resource inside a workspace
	Provider  string // namespace, "" for platform root / whole workspace
	Path      []Pair // type/id pairs, empty for platform root / whole workspace
}

// Error describes why Parse refused its input. Pos is the byte offset in Input at which the
// problem was found.
type Error struct {
	Input  string
	Pos    int
	Reason string
}

// Error returns "invalid GRN at byte <Pos>: <Reason>". It deliberately omits Input, which may
// be long and is attacker-controlled; callers that want it can read the field.
func (e *Error) Error() string {
	return fmt.Sprintf("invalid GRN at byte %d: %s", e.Pos, e.Reason)
}

// Platform returns the root GRN of platform, which covers everything on it. An empty platform
// means DefaultPlatform; a platform that is not a valid segment yields the zero GRN, which
// covers nothing.
func Platform(platform string) GRN {
	if platform == "" {
		platform = DefaultPlatform
	}
	if reason := checkName(platform); reason != "" {
		return GRN{}
	}
	return GRN{Platform: platform}
}

// Workspace returns the whole-workspace GRN for workspaceID (hyphenated or 32 hex digits, in
// either case) on platform ("" means DefaultPlatform). Each argument is validated on its own,
// so neither can smuggle in further segments. The error is an *Error whose Input is the GRN
// as it would have been written.
func Workspace(platform, workspaceID string) (GRN, error) {
	if platform == "" {
		platform = DefaultPlatform
	}
	in := scheme + platform + "/workspaces/" + workspaceID
	if reason := checkName(platform); reason != "" {
		return GRN{}, &Error{Input: in, Pos: len(scheme), Reason: "platform: " + reason}
	}
	canonical, err := ids.Parse(workspaceID)
	if err != nil {
		return GRN{}, &Error{Input: in, Pos: len(in) - len(workspaceID), Reason: "workspace id is not a UUID"}
	}
	return GRN{Platform: platform, Workspace: ids.Hex(canonical)}, nil
}

// MustParse is Parse for constants in tests and fixed data; it panics if s is invalid.
func MustParse(s string) GRN {
	g, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return g
}

// String returns the canonical text of g, which Parse accepts and maps back to an equal GRN
// when g is valid. The zero GRN prints as "".
func (g GRN) String() string {
	if g.IsZero() {
		return ""
	}
	var b strings.Builder
	b.Grow(g.textLen())
	b.WriteString("grn:")
	b.WriteString(g.Platform)
	if g.Workspace != "" {
		b.WriteString("/workspaces/")
		b.WriteString(g.Workspace)
		if g.Region != "" {
			b.WriteString("/regions/")
			b.WriteString(g.Region)
		}
	}
	if g.Provider != "" {
		b.WriteString("/providers/")
		b.WriteString(g.Provider)
		for _, p := range g.Path {
			b.WriteByte('/')
			b.WriteString(p.Type)
			b.WriteByte('/')
			b.WriteString(p.ID)
		}
	}
	return b.String()
}

// textLen is an upper bound on len(g.String()), used to size its buffer once.
func (g GRN) textLen() int {
	n := len("grn:/workspaces//regions//providers/") + len(g.Platform) + len(g.Workspace) +
		len(g.Region) + len(g.Provider)
	for _, p := range g.Path {
		n += 2 + len(p.Type) + len(p.ID)
	}
	return n
}

// IsZero reports whether g is the zero GRN.
func (g GRN) IsZero() bool {
	return g.Platform == "" && g.Workspace == "" && g.Region == "" && g.Provider == "" &&
		len(g.Path) == 0
}

// IsPlatform reports whether g is exactly a platform root, grn:<platform>.
func (g GRN) IsPlatform() bool {
	return g.Platform != "" && g.Workspace == "" && g.Region == "" && g.Provider == "" &&
		len(g.Path) == 0
}

// IsWorkspace reports whether g is a whole workspace, grn:<platform>/workspaces/<ws>.
func (g GRN) IsWorkspace() bool {
	return g.Platform != "" && g.Workspace != "" && g.Region == "" && g.Provider == "" &&
		len(g.Path) == 0
}

// ResourceType returns "<provider>/<last type>", e.g. "compute-ops-mgmt/servers", or "" when
// g names no resource.
func (g GRN) ResourceType() string {
	if g.Provider == "" || len(g.Path) == 0 {
		return ""
	}
	return g.Provider + "/" + g.Path[len(g.Path)-1].Type
}

// WorkspaceGRN returns the whole-workspace GRN that g belongs to, or the zero GRN if g is
// platform-level.
func (g GRN) WorkspaceGRN() GRN {
	if g.Workspace == "" {
		return GRN{}
	}
	return GRN{Platform: g.Platform, Workspace: g.Workspace}
}

// Equal reports whether g and o are the same GRN, field by field and pair by pair.
func (g GRN) Equal(o GRN) bool {
	if g.Platform != o.Platform || g.Workspace != o.Workspace || g.Region != o.Region ||
		g.Provider != o.Provider || len(g.Path) != len(o.Path) {
		return false
	}
	for i := range g.Path {
		if g.Path[i] != o.Path[i] {
			return false
		}
	}
	return true
}

// MarshalText returns g.String(); the zero GRN marshals as empty text.
func (g GRN) MarshalText() ([]byte, error) {
	return []byte(g.String()), nil
}

// UnmarshalText parses text with Parse; empty text yields the zero GRN, which covers nothing.
func (g *GRN) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*g = GRN{}
		return nil
	}
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*g = p
	return nil
}
