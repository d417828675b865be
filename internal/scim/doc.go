// Package scim implements the parts of SCIM 2.0 (RFC 7643, RFC 7644) that are languages:
// the filter of a list request (RFC 7644 §3.4.2.2) compiled to a parameterised SQL
// predicate, and the attribute path of a PATCH operation (RFC 7644 §3.5.2). The resources
// themselves (users and groups) belong to package identity; the HTTP surface to httpapi.
//
// # Filter grammar
//
//	filter    = or
//	or        = and *( "or" and )              ; left associative
//	and       = unary *( "and" unary )         ; left associative: not > and > or
//	unary     = "not" "(" or ")" / primary
//	primary   = "(" or ")" / valuePath / attrExp
//	valuePath = attrPath "[" valFilter "]"     ; valFilter: the same grammar, without valuePath,
//	                                           ; over the complex attribute's sub-attributes
//	attrExp   = attrPath "pr" / attrPath compareOp compValue
//	compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"
//	compValue = "false" / "null" / "true" / number / string   ; JSON literals
//	attrPath  = [ URI ":" ] ATTRNAME [ "." ATTRNAME ]
//	ATTRNAME  = ( ALPHA / "$" ) *( ALPHA / DIGIT / "-" / "_" / "$" )
//
// Attribute names, operators and keywords match case-insensitively (RFC 7643 §2.1). Words
// are separated by spaces or tabs; parentheses, brackets and quotes need none. Strings are
// JSON strings (double quotes, JSON escapes).
//
// Limits: at most MaxLength bytes of valid UTF-8 without control characters other than tab,
// at most MaxDepth nested groups (parentheses, not, brackets) and MaxComparisons comparisons.
//
// # Compiling
//
// A Schema names the attributes an endpoint filters on: the SQL expression of each, its type
// and whether it compares case-exactly. Compile checks every comparison against it and
// returns SQL made only of the schema's own strings, fixed keywords (AND OR NOT LIKE ESCAPE
// LOWER IS NULL), operators, parentheses and ? placeholders: every value from the client is
// a bound argument, in placeholder order. Case-insensitive strings compare through LOWER on
// both sides (ASCII-only on SQLite, full Unicode on PostgreSQL); co, sw and ew become LIKE
// with the value's own % _ and \ escaped. FuzzCompile checks the guarantee with a whitelist.
//
// # PATCH paths
//
//	path = attrPath [ "[" valFilter "]" [ "." ATTRNAME ] ]
//
// ParsePath returns the attribute, the optional value filter selecting elements of a
// multi-valued attribute (members[value eq "..."]) and the optional sub-attribute after it.
//
// Every error is an *Error carrying the SCIM error type (invalidFilter or invalidPath) and a
// message that quotes at most a short, escaped fragment of the input.
package scim
