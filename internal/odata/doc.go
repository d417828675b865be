// Package odata implements the subset of OData $filter that the GreenLake platform APIs
// accept, compiled per endpoint into a parameterised SQL predicate.
//
// # Grammar
//
//	filter     = [ or ]                      ; empty or blank input means "no filter"
//	or         = and *( "or" and )           ; left associative
//	and        = unary *( "and" unary )      ; left associative
//	unary      = "not" unary / primary       ; so: not > and > or
//	primary    = "(" or ")" / comparison
//	comparison = property op literal         ; op: eq ne gt ge lt le
//	           / property "in" "(" literal *( "," literal ) ")"   ; 1 to 100 literals
//	           / string "in" property        ; membership in an array-valued property
//	property   = name *( "/" name )          ; name = [A-Za-z_][A-Za-z0-9_]*, e.g. associatedTenant/resourceUri
//	literal    = string / number / "true" / "false" / "null" / datetime
//	string     = "'" *( any character but "'" / "''" ) "'"   ; '' is one quote: 'O''Brien'
//	number     = [ "-" ] 1*DIGIT [ "." 1*DIGIT ]             ; int64 or float64
//	datetime   = RFC 3339, unquoted: 2024-01-02T03:04:05Z, 2024-01-02T03:04:05.5+02:00;
//	             without a zone (2020-09-21T14:19:09.769747, as GreenLake's examples write it) it is UTC
//
// Keywords and operators match case-insensitively; property names are case-sensitive.
// Tokens are separated by spaces or tabs, which are required between two words (names,
// keywords, literals) and optional around parentheses and commas. Nothing else is accepted:
// in particular not double-quoted strings, symbolic operators (=, !=, &&), or a whole
// expression wrapped in quotes, for which Parse returns a specific error.
//
// Limits: at most MaxLength (2048) bytes of valid UTF-8 without control characters other
// than tab, nesting of parentheses and not at most MaxDepth (16) deep, at most
// MaxComparisons (64) comparisons and at most MaxInItems (100) literals per in-list.
//
// # Types
//
// Each endpoint declares a Schema of Properties: the name clients use, the SQL column it maps
// to, its Kind and the operators it allows. Compile checks every comparison against it: a
// UUID literal is normalised with ids.Parse, a Time property also accepts a quoted RFC 3339
// string, times are bound in UTC, and null may only be compared with eq (IS NULL) or ne
// (IS NOT NULL). Membership 'v' in prop needs a StringArray property, compiled through its
// ArrayMember template.
//
// # Guarantee
//
// Compiled SQL never contains text from the input. It is built only from the schema's Column
// and ArrayMember strings, the keywords AND, OR, NOT, IN, IS, NULL, the operators = <> < <=
// > >=, parentheses, commas and ? placeholders, every sub-expression parenthesised; every
// literal is passed in Predicate.Args, in placeholder order. The fuzz target FuzzCompile
// checks this with a whitelist tokenizer.
//
// Errors are *Error values with a position and, where relevant, the property and operator;
// a message quotes at most a short, escaped fragment of the input.
//
// Schema.Match evaluates a parsed filter in memory with the same three-valued NULL logic as
// the SQL, so tests and in-memory stores can cross-check the two.
package odata
