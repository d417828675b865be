// Package rbac owns authorization: keyhold's own provider "glp" with its permissions and the
// predefined roles (Builtins); Engine, the decision engine every keyhold endpoint and every
// external decision request goes through; and Manager, the rules of the authorization
// management API (resource providers, resource types, permissions, roles, role assignments,
// scope groups).
//
// A decision is asked where it is made (Where: a workspace, and for an MSP tenant its MSP), and
// only the assignments made there count: those of the workspace, and the MSP's that reach the
// tenant; rights never follow a user into another workspace, not even from grn:<platform>.
// It is allowed when some such role assignment of one of the caller's principals (or of a
// user group a user principal belongs to) has a role that holds the permission, on a scope
// that covers the resource (a scope-group GRN standing for each scope of the group), and the
// permission applies to the resource: a fixed-scope permission only through a
// whole-workspace (or platform) scope, and a permission with applicable resource types only
// on resources of those types. Anything else is denied. Deprecated permissions keep working
// and decisions say so. Explain gives the reason of a denial; Permissions lists what a
// subject holds on a resource.
//
// The engine answers from memory; the change feed keeps it fresh (see package changefeed),
// and every Manager write syncs it before returning, so the next decision on the node
// reflects the write. Its assignments hold no Go pointers, and its memberships and scope
// groups one per entry (strtab.go says how and why), so that the garbage collector does not
// trace a million assignments on every cycle.
package rbac
