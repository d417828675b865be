// Package grn parses, prints and compares GreenLake Resource Notation (GRN), the scope
// notation of keyhold's authorization engine. It is the only parser of GRNs in keyhold:
// every scope and resource name from outside goes through Parse, so the engine only ever
// compares normalised, structurally valid values.
//
// # Grammar
//
//	grn      = "grn:" platform [ "/" tail ]
//	tail     = "workspaces/" ws [ "/regions/" segment "/providers/" segment pairs ]
//	         | "providers/" segment pairs
//	pairs    = 1*16( "/" type "/" id )       ; the last id may be "*"
//	platform = type = segment
//	id       = segment | "*"                 ; "*" only as the very last id
//	segment  = 1*( ALPHA | DIGIT | "-" | "_" | "." ), but never "." or ".."
//	ws       = a workspace UUID, hyphenated or 32 hex digits in either case
//
// So the four shapes are
//
//	grn:<platform>                                                    the platform root
//	grn:<platform>/workspaces/<ws>                                    a whole workspace
//	grn:<platform>/workspaces/<ws>/regions/<r>/providers/<ns>/<type>/<id>[/<type>/<id>...]
//	grn:<platform>/providers/<ns>/<type>/<id>[/<type>/<id>...]        platform-wide resources
//
// The scheme "grn:" and the keywords "workspaces", "regions" and "providers" are
// case-sensitive. The platform is usually DefaultPlatform ("glp"). The workspace id is
// normalised to 32 lower-case hex digits, which is how String prints it; every other segment
// is kept byte for byte. Inputs longer than MaxLength bytes or with more than MaxPairs
// type/id pairs are refused, as is anything with whitespace, empty segments, a trailing
// slash, '?', '#', percent-encoding or non-ASCII bytes. Parse reports every refusal as an
// *Error naming the byte offset and the reason, and never panics.
//
// # Covers
//
// Scope s covers resource r (s.Covers(r)) when both are on the same platform and
//
//   - s is the platform root: it covers every GRN on that platform, workspaces included;
//   - s is a whole workspace: it covers that workspace and every resource in it, in any region;
//   - s is a resource: r has the same workspace, region, provider and s's type/id pairs as a
//     prefix of its own, pair by pair (so servers/1 never covers servers/10). A trailing id
//     "*" in s matches any id of that type, so .../servers/* covers .../servers/7 and
//     .../servers/7/disks/2 but not .../other/1.
//
// Region "default" is an ordinary region name, not a wildcard. A platform-level resource
// scope (grn:glp/providers/...) covers only platform-level resources. The zero GRN covers
// nothing and is covered by nothing. Covers compares the parsed structure, never strings by
// prefix, and does not allocate.
package grn
