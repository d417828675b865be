package audit

import (
	"strings"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/storage"
)

// Categories of records, in GreenLake's words where it has them.
const (
	CategoryCredentials    = "API Gateway"
	CategoryUsers          = "User Management"
	CategoryAuthorization  = "Authorization"
	CategoryWorkspaces     = "Customer Management"
	CategoryServiceCatalog = "Service Catalog"
	CategoryAuthentication = "Authentication"
	CategoryOperator       = "Operator"
)

// Actions of records that are not writes.
const (
	ActionAuthFailed = "authentication-failed"
	ActionLockout    = "lockout"
)

// kindTypes maps change kinds to the resource type in target GRNs and descriptions.
var kindTypes = map[string]string{
	storage.KindWorkspace:         "workspaces",
	storage.KindUser:              "users",
	storage.KindMember:            "users",
	storage.KindCredential:        "api-clients",
	storage.KindSigningKey:        "signing-keys",
	storage.KindPermission:        "permissions",
	storage.KindRole:              "roles",
	storage.KindAssignment:        "role-assignments",
	storage.KindRevocation:        "tokens",
	storage.KindProvider:          "resource-providers",
	storage.KindResourceType:      "resource-types",
	storage.KindScopeGroup:        "scope-groups",
	storage.KindUserGroup:         "user-groups",
	storage.KindUserGroupMember:   "user-groups",
	storage.KindTenantGroup:       "tenant-groups",
	storage.KindTenantGroupMember: "tenant-groups",
	storage.KindProvision:         "provisions",
}

// Describer returns the storage.AuditActor.Describe function of a write made in workspace
// (canonical id; "" for none) with action, the verb of its description.
func Describer(workspace, who, action string) func(kind, key string) (string, string, string, string) {
	return func(kind, key string) (string, string, string, string) {
		id := targetID(kind, key)
		typ := kindTypes[kind]
		if typ == "" {
			typ = kind
		}
		return kind, id, TargetGRN(workspace, typ, id), who + " " + action + " " + strings.TrimSuffix(typ, "s") + " " + id
	}
}

// targetID is the id a change's key names: the last part of a composite key (a member's
// user), the group of a group membership, the key itself otherwise.
func targetID(kind, key string) string {
	switch kind {
	case storage.KindMember:
		_, user, _ := strings.Cut(key, "/")
		return user
	case storage.KindUserGroupMember:
		group, _, _ := strings.Cut(key, "/")
		return group
	}
	return key
}

// TargetGRN names a target: a whole workspace by its own GRN, anything else as a resource of
// keyhold's provider (glp), inside the workspace when there is one. An id that is not a GRN
// segment (it holds '/') yields "".
func TargetGRN(workspace, typ, id string) string {
	if strings.ContainsAny(id, "/ ") || id == "" {
		return ""
	}
	g := grn.GRN{Platform: grn.DefaultPlatform}
	if workspace != "" {
		if c, err := ids.Parse(workspace); err == nil {
			g.Workspace = ids.Hex(c)
		}
	}
	if typ == "workspaces" {
		if c, err := ids.Parse(id); err == nil {
			return grn.GRN{Platform: grn.DefaultPlatform, Workspace: ids.Hex(c)}.String()
		}
	}
	g.Provider = "glp"
	g.Path = []grn.Pair{{Type: typ, ID: id}}
	return g.String()
}

// Verb is a write's verb from its method and path: DELETE deletes, PUT and PATCH update,
// a POST to .../reset resets, another POST creates.
func Verb(method, path string) string {
	switch method {
	case "DELETE":
		return "deleted"
	case "PUT", "PATCH":
		return "updated"
	}
	if strings.HasSuffix(path, "/reset") {
		return "reset"
	}
	return "created"
}

// Category is the category of a write to path.
func Category(path string) string {
	switch {
	case strings.HasPrefix(path, "/workspaces/v1/credentials"):
		return CategoryCredentials
	case strings.HasPrefix(path, "/identity/"):
		return CategoryUsers
	case strings.HasPrefix(path, "/authorization/"):
		return CategoryAuthorization
	case strings.Contains(path, "/service-catalog/"), strings.Contains(path, "/provisions"):
		return CategoryServiceCatalog
	}
	return CategoryWorkspaces
}

// routeTargets maps a route's path (most specific first) to the change kind that is its
// target, so that a write with side effects (removing a user removes its assignments) names
// what was asked for.
var routeTargets = []struct{ part, kind string }{
	{"/group-workspaces", storage.KindTenantGroupMember},
	{"/members", storage.KindUserGroupMember},
	{"/Groups", storage.KindUserGroup},
	{"/Users", storage.KindUser},
	{"/scopes/", storage.KindScopeGroup},
	{"/resource-types", storage.KindResourceType},
	{"/permissions", storage.KindPermission},
	{"/resource-providers", storage.KindProvider},
	{"/role-assignments", storage.KindAssignment},
	{"/roles", storage.KindRole},
	{"/scope-groups", storage.KindScopeGroup},
	{"/user-groups", storage.KindUserGroup},
	{"/users", storage.KindMember},
	{"/credentials", storage.KindCredential},
	{"/msp-tenants", storage.KindWorkspace},
	{"/groups", storage.KindTenantGroup},
	{"/service-manager-provisions", storage.KindProvision},
	{"/revoke", storage.KindRevocation},
}

// TargetKindOf is the change kind a write to route targets ("" : its first change).
func TargetKindOf(route string) string {
	for _, t := range routeTargets {
		if strings.Contains(route, t.part) {
			return t.kind
		}
	}
	return ""
}
