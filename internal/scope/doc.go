// Package scope is keyhold's OAuth scope vocabulary: a scope value (RFC 6749 §3.3) is a
// space-separated list of permission names ("glp.workspace.view",
// "<provider>.<resource-type>.<action>") and wildcards naming every action of one resource
// type ("<provider>.<resource-type>.*"). A token carrying a scope acts with at most those
// permissions: its owner's role assignments still decide, and the scope only takes away
// (Set.Permits). A nil *Set is the unrestricted scope of a token that carries none.
//
// Parsing checks syntax and bounds only; whether the permissions exist is the decision
// engine's knowledge (rbac.Engine.KnownScope). A parsed Set is immutable and safe to share.
package scope
