// Package rbac owns authorization: keyhold's own provider "glp" with its permissions and the
// predefined roles (Builtins), and Engine, the decision engine every keyhold endpoint and every
// external decision request goes through.
//
// A decision is allowed when some role assignment of one of the caller's principals has a role
// that holds the permission, on a scope that covers the resource, and the permission applies
// to the resource: a fixed-scope permission only through a whole-workspace (or platform) scope,
// and a permission with applicable resource types only on resources of those types. Anything
// else is denied. Deprecated permissions keep working.
//
// The engine answers from memory; the change feed keeps it fresh (see package changefeed).
package rbac
