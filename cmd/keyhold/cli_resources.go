package main

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyhold/keyhold/client"
)

// API paths the resource commands call (docs/api.md describes each).
const (
	pathCredentials  = "/workspaces/v1/credentials"
	pathUsers        = "/identity/v1/users"
	pathUserGroups   = "/identity/v1/user-groups"
	pathRoles        = "/authorization/v2alpha2/roles"
	pathAssignments  = "/authorization/v2alpha2/role-assignments"
	pathScopeGroups  = "/authorization/v2alpha2/scope-groups"
	pathProviders    = "/authorization/v2alpha2/resource-providers"
	pathWorkspaces   = "/workspaces/v1/workspaces"
	pathTenants      = "/workspaces/v1/msp-tenants"
	pathTenantGroups = "/workspaces/v1beta1/groups"
	iamPageSize      = 200 // the IAM v2 lists' largest page
	usersPageSize    = 600
	tenantsPageSize  = 300
	tenantGroupsPage = 2000
	groupMembersPage = 500
	scopeGroupScopes = 500
	secretShownOnce  = "the client secret is shown this once: keyhold keeps only its hash. Store it now."
	deletedWord      = "deleted"
	removedWord      = "removed"
)

var (
	credentialCols  = cols("ID=id", "NAME=credentialName", "OWNER=ownerId", "GENERATION=generation", "TENANT=associatedTenant.tenantName", "CREATED=createdAt")
	newSecretCols   = cols("CLIENT ID=clientId", "CLIENT SECRET=clientSecret", "NAME=credentialName", "OWNER=ownerId", "GENERATION=generation")
	userCols        = cols("ID=id", "USERNAME=username", "STATUS=userStatus", "CREATED=createdAt")
	userGroupCols   = cols("ID=id", "NAME=name", "PRINCIPAL=principal", "DESCRIPTION=description")
	memberCols      = cols("ID=id", "USERNAME=username", "ADDED=addedAt")
	roleCols        = cols("ID=id", "NAME=name", "KIND=kind", "SLUG=slug", "PERMISSIONS=permissions")
	assignmentCols  = cols("ID=id", "SUBJECT=subject", "ROLE=role", "SCOPE=scope", "SOURCE=source")
	scopeGroupCols  = cols("ID=id", "NAME=name", "GRN=grn", "DESCRIPTION=description")
	scopeCols       = cols("ID=id", "GRN=grn", "DESCRIPTION=description")
	providerCols    = cols("ID=id", "NAME=name", "DESCRIPTION=description")
	typeCols        = cols("KEY=key", "NAME=name", "DISPLAY NAME=displayName")
	permissionCols  = cols("NAME=name", "RELEASE STAGE=releaseStage", "CUSTOM ROLES=customRoleUse", "FIXED SCOPE=fixedScope", "RESOURCE TYPES=applicableResourceTypes")
	workspaceCols   = cols("ID=id", "NAME=workspaceName", "TYPE=workspaceType", "CREATED=createdAt")
	tenantGroupCols = cols("ID=id", "NAME=name", "TENANTS=totalWorkspaces", "GRN=grn")
	groupTenantCols = cols("ID=id", "TENANT ID=workspace.id", "TENANT=workspace.name")
	createdCols     = cols("ID=id", "MESSAGE=message")
)

// runList is the body of every list command.
func runList(g *globals, f *apiFlags, path string, q url.Values, pageSize int, columns []column) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	items, err := s.api.listAll(ctx, path, q, pageSize)
	if err != nil {
		return err
	}
	return s.out.list(items, columns)
}

// runGet is the body of every get command.
func runGet(g *globals, f *apiFlags, path string, columns []column) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	o, err := s.api.get(ctx, path)
	if err != nil {
		return err
	}
	return s.out.one(o, columns)
}

// runSend is the body of every command that writes and prints the answer.
func runSend(g *globals, f *apiFlags, method, path string, body any, columns []column) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	o, err := s.api.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	return s.out.one(o, columns)
}

// runDelete is the body of every delete command.
func runDelete(g *globals, f *apiFlags, path, word, id string, body any) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	if _, err := s.api.send(ctx, http.MethodDelete, path, body); err != nil {
		return err
	}
	return s.out.done(word, id)
}

// sdkList is the body of a list command the SDK serves: every page, printed.
func sdkList[T any](g *globals, f *apiFlags, columns []column, list func(context.Context, *client.Client) iter.Seq2[T, error]) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	items, err := collect(list(ctx, s.api.sdk))
	if err != nil {
		return unreachable(err)
	}
	return s.out.list(items, columns)
}

// sdkOne is the body of a command that reads or writes one thing through the SDK.
func sdkOne[T any](g *globals, f *apiFlags, columns []column, one func(context.Context, *client.Client) (T, error)) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	v, err := one(ctx, s.api.sdk)
	if err != nil {
		return unreachable(err)
	}
	o, err := toObject(v)
	if err != nil {
		return err
	}
	return s.out.one(o, columns)
}

// sdkDelete is the body of a delete command through the SDK.
func sdkDelete(g *globals, f *apiFlags, word, id string, del func(context.Context, *client.Client) error) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	if err := del(ctx, s.api.sdk); err != nil {
		return unreachable(err)
	}
	return s.out.done(word, id)
}

// listOptions is an SDK list's options with a filter.
func listOptions(filter string) *client.ListOptions { return &client.ListOptions{Filter: filter} }

// filterQuery is the query of a list with an optional OData filter.
func filterQuery(filter string) url.Values {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", filter)
	}
	return q
}

// quoteOData writes a string literal of an OData filter.
func quoteOData(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ---- credentials

type credentialsCmd struct {
	List   credentialsListCmd   `cmd:"" help:"List your API client credentials (or another owner's), without secrets."`
	Create credentialsCreateCmd `cmd:"" help:"Create a credential; prints its client secret once."`
	Reset  credentialsResetCmd  `cmd:"" help:"Give a credential a new secret (printed once); the old one and its tokens stop working at once."`
	Delete credentialsDeleteCmd `cmd:"" help:"Delete a credential; its tokens stop working at once."`
}

type credentialsListCmd struct {
	apiFlags
	Owner  string `help:"List this user's credentials (user id; needs glp.identity.edit)." placeholder:"USER-ID"`
	Filter string `help:"OData filter (tenantId, credentialName, ownerId, createdAt)."`
}

func (c *credentialsListCmd) Run(g *globals) error {
	filter := c.Filter
	if c.Owner != "" {
		filter = joinFilters(filter, "ownerId eq "+quoteOData(c.Owner))
	}
	return sdkList(g, &c.apiFlags, credentialCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.Credential, error] {
		return k.ListCredentials(ctx, &client.CredentialListOptions{Filter: filter})
	})
}

// joinFilters ands two OData filters.
func joinFilters(a, b string) string {
	if a == "" {
		return b
	}
	return "(" + a + ") and " + b
}

type credentialsCreateCmd struct {
	apiFlags
	Name   string `arg:"" help:"The credential's name (unique per owner, 1 to 100 characters)."`
	Owner  string `help:"Make it for this member of the workspace (user id; needs glp.identity.edit and every permission the owner holds)." placeholder:"USER-ID"`
	Tenant string `help:"MSP only: make it for this tenant (its tokens act in the tenant)." placeholder:"TENANT-ID"`
}

func (c *credentialsCreateCmd) Run(g *globals) error {
	in := client.CredentialInput{Name: c.Name, OwnerID: c.Owner, TenantID: c.Tenant}
	if err := sdkOne(g, &c.apiFlags, newSecretCols, func(ctx context.Context, k *client.Client) (*client.Credential, error) {
		return k.CreateCredential(ctx, in)
	}); err != nil {
		return err
	}
	note(g, "%s", secretShownOnce)
	return nil
}

type credentialsResetCmd struct {
	apiFlags
	ID string `arg:"" help:"The credential's id (its client id)."`
}

func (c *credentialsResetCmd) Run(g *globals) error {
	if err := sdkOne(g, &c.apiFlags, newSecretCols, func(ctx context.Context, k *client.Client) (*client.Credential, error) {
		return k.ResetCredential(ctx, c.ID)
	}); err != nil {
		return err
	}
	note(g, "%s", secretShownOnce)
	return nil
}

type credentialsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The credential's id (its client id)."`
}

func (c *credentialsDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, deletedWord, c.ID, func(ctx context.Context, k *client.Client) error {
		return k.DeleteCredential(ctx, c.ID)
	})
}

// ---- users

type usersCmd struct {
	List   usersListCmd   `cmd:"" help:"List the workspace's users."`
	Get    usersGetCmd    `cmd:"" help:"Show one user."`
	Add    usersAddCmd    `cmd:"" help:"Add a user (by email) to the workspace; keyhold creates it if it does not know the address."`
	Delete usersDeleteCmd `cmd:"" help:"Remove a user from the workspace, with its credentials, assignments and group memberships there."`
}

type usersListCmd struct {
	apiFlags
	Filter string `help:"OData filter (id, username, userStatus, createdAt, updatedAt)."`
}

func (c *usersListCmd) Run(g *globals) error {
	return sdkList(g, &c.apiFlags, userCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.User, error] {
		return k.ListUsers(ctx, listOptions(c.Filter))
	})
}

type usersGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The user's id."`
}

func (c *usersGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, userCols, func(ctx context.Context, k *client.Client) (*client.User, error) {
		return k.GetUser(ctx, c.ID)
	})
}

type usersAddCmd struct {
	apiFlags
	Email string `arg:"" help:"The user's email."`
}

func (c *usersAddCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, cols("ID=id", "USERNAME=username"), func(ctx context.Context, k *client.Client) (object, error) {
		id, err := k.AddUser(ctx, c.Email)
		return object{"id": id, "username": c.Email}, err
	})
}

type usersDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The user's id."`
}

func (c *usersDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, removedWord, c.ID, func(ctx context.Context, k *client.Client) error {
		return k.RemoveUser(ctx, c.ID)
	})
}

// ---- user groups

type userGroupsCmd struct {
	List    userGroupsListCmd   `cmd:"" help:"List the workspace's user groups."`
	Get     userGroupsGetCmd    `cmd:"" help:"Show one user group."`
	Create  userGroupsCreateCmd `cmd:"" help:"Create a user group."`
	Delete  userGroupsDeleteCmd `cmd:"" help:"Delete a user group (refused while assignments name it)."`
	Members struct {
		List   groupMembersListCmd   `cmd:"" help:"List a group's members."`
		Add    groupMembersAddCmd    `cmd:"" help:"Add a member of the workspace to a group (needs every permission the group's assignments grant)."`
		Remove groupMembersRemoveCmd `cmd:"" help:"Remove a member from a group."`
	} `cmd:"" help:"A user group's members."`
}

type userGroupsListCmd struct{ apiFlags }

func (c *userGroupsListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathUserGroups, nil, iamPageSize, userGroupCols)
}

type userGroupsGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The group's id."`
}

func (c *userGroupsGetCmd) Run(g *globals) error {
	return runGet(g, &c.apiFlags, pathUserGroups+"/"+seg(c.ID), userGroupCols)
}

type userGroupsCreateCmd struct {
	apiFlags
	Name        string `arg:"" help:"The group's name (unique in the workspace)."`
	Description string `help:"What the group is for."`
}

func (c *userGroupsCreateCmd) Run(g *globals) error {
	return runSend(g, &c.apiFlags, http.MethodPost, pathUserGroups, object{"name": c.Name, "description": c.Description}, userGroupCols)
}

type userGroupsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The group's id."`
}

func (c *userGroupsDeleteCmd) Run(g *globals) error {
	return runDelete(g, &c.apiFlags, pathUserGroups+"/"+seg(c.ID), deletedWord, c.ID, nil)
}

type groupMembersListCmd struct {
	apiFlags
	Group string `arg:"" help:"The group's id."`
}

func (c *groupMembersListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathUserGroups+"/"+seg(c.Group)+"/members", nil, iamPageSize, memberCols)
}

type groupMembersAddCmd struct {
	apiFlags
	Group string `arg:"" help:"The group's id."`
	User  string `arg:"" help:"The user's id."`
}

func (c *groupMembersAddCmd) Run(g *globals) error {
	return runSend(g, &c.apiFlags, http.MethodPost, pathUserGroups+"/"+seg(c.Group)+"/members", object{"userId": c.User}, memberCols)
}

type groupMembersRemoveCmd struct {
	apiFlags
	Group string `arg:"" help:"The group's id."`
	User  string `arg:"" help:"The user's id."`
}

func (c *groupMembersRemoveCmd) Run(g *globals) error {
	return runDelete(g, &c.apiFlags, pathUserGroups+"/"+seg(c.Group)+"/members/"+seg(c.User), removedWord, c.User, nil)
}

// ---- roles

type rolesCmd struct {
	List   rolesListCmd   `cmd:"" help:"List the predefined roles and the workspace's custom roles."`
	Get    rolesGetCmd    `cmd:"" help:"Show one role with its permissions."`
	Create rolesCreateCmd `cmd:"" help:"Create a custom role (only of permissions you hold on the whole workspace)."`
	Delete rolesDeleteCmd `cmd:"" help:"Delete a custom role (refused while it is assigned)."`
}

type rolesListCmd struct {
	apiFlags
	Filter string `help:"OData filter (eq and in on kind, name, slug, joined by and)."`
}

func (c *rolesListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathRoles, filterQuery(c.Filter), iamPageSize, roleCols)
}

type rolesGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The role's id."`
}

func (c *rolesGetCmd) Run(g *globals) error {
	return runGet(g, &c.apiFlags, pathRoles+"/"+seg(c.ID), append(roleCols, cols("GRN=grn", "DESCRIPTION=description")...))
}

type rolesCreateCmd struct {
	apiFlags
	Name        string   `arg:"" help:"The role's name (letters, digits, '-' and spaces; unique in the workspace)."`
	Permission  []string `help:"A permission the role holds (repeat, or comma-separated)." required:"" placeholder:"NAME"`
	Description string   `help:"What the role is for."`
}

func (c *rolesCreateCmd) Run(g *globals) error {
	return runSend(g, &c.apiFlags, http.MethodPost, pathRoles,
		object{"name": c.Name, "description": c.Description, "permissions": c.Permission}, append(roleCols, cols("GRN=grn")...))
}

type rolesDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The role's id."`
}

func (c *rolesDeleteCmd) Run(g *globals) error {
	return runDelete(g, &c.apiFlags, pathRoles+"/"+seg(c.ID), deletedWord, c.ID, nil)
}

// ---- role assignments

type assignmentsCmd struct {
	List   assignmentsListCmd   `cmd:"" help:"List the workspace's role assignments."`
	Create assignmentsCreateCmd `cmd:"" help:"Assign a role to a user, user group or API client on scopes (only what you hold yourself)."`
	Delete assignmentsDeleteCmd `cmd:"" help:"Delete a role assignment."`
}

type assignmentsListCmd struct {
	apiFlags
	Subject string `help:"Only this subject's assignments (user:<id>, user-group:<id>, api-client:<id>)."`
	Filter  string `help:"OData filter (in on role, scope, subject)."`
}

func (c *assignmentsListCmd) Run(g *globals) error {
	filter := c.Filter
	if c.Subject != "" {
		filter = strings.TrimPrefix(filter+" and subject in ("+quoteOData(c.Subject)+")", " and ")
	}
	return runList(g, &c.apiFlags, pathAssignments, filterQuery(filter), iamPageSize, assignmentCols)
}

type assignmentsCreateCmd struct {
	apiFlags
	Subject string   `arg:"" help:"Who gets the role: user:<id or email>, user-group:<id> or api-client:<client id>."`
	Role    string   `arg:"" help:"The role: its GRN, id, slug (glp.workspace-observer) or custom role name."`
	Scope   []string `help:"A scope GRN (repeat, or comma-separated); default: the whole workspace." placeholder:"GRN"`
}

func (c *assignmentsCreateCmd) Run(g *globals) error {
	ctx := context.Background()
	s, err := c.open(ctx, g)
	if err != nil {
		return err
	}
	subject, err := s.resolveSubject(ctx, c.Subject)
	if err != nil {
		return err
	}
	role, err := s.resolveRole(ctx, c.Role)
	if err != nil {
		return err
	}
	scope := c.Scope
	if len(scope) == 0 {
		scope = []string{s.api.workspaceGRN()}
	}
	o, err := s.api.send(ctx, http.MethodPost, pathAssignments, object{"subject": subject, "role": role, "scope": scope})
	if err != nil {
		return err
	}
	return s.out.one(o, assignmentCols)
}

// resolveSubject turns user:<email> into user:<id> (assignments name users by id).
func (s *session) resolveSubject(ctx context.Context, subject string) (string, error) {
	typ, id, ok := strings.Cut(subject, ":")
	if !ok || id == "" {
		return "", fmt.Errorf("subject %q: give <type>:<id> (user:<id or email>, user-group:<id>, api-client:<client id>)", subject)
	}
	if typ != "user" || !strings.Contains(id, "@") {
		return subject, nil
	}
	users, err := client.Collect(s.api.sdk.ListUsers(ctx, listOptions("username eq "+quoteOData(id))))
	if err != nil {
		return "", unreachable(err)
	}
	if len(users) != 1 {
		return "", &codedError{code: exitRefused, err: fmt.Errorf("subject %q: no user with that email in the workspace", subject)}
	}
	return "user:" + users[0].ID, nil
}

// resolveRole turns a role id, slug or custom role name into its GRN.
func (s *session) resolveRole(ctx context.Context, role string) (string, error) {
	if strings.HasPrefix(role, "grn:") {
		return role, nil
	}
	if _, err := workspaceHex(role); err == nil { // a UUID: the role's id
		o, err := s.api.get(ctx, pathRoles+"/"+seg(role))
		if err != nil {
			return "", err
		}
		return cell(o["grn"]), nil
	}
	for _, prop := range []string{"slug", "name"} {
		roles, err := s.api.listAll(ctx, pathRoles, filterQuery(prop+" eq "+quoteOData(role)), iamPageSize)
		if err != nil {
			return "", err
		}
		if len(roles) == 1 {
			return cell(roles[0]["grn"]), nil
		}
	}
	return "", &codedError{code: exitRefused, err: fmt.Errorf("role %q: no role with that GRN, id, slug or name (keyhold roles list shows them)", role)}
}

type assignmentsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The assignment's id."`
}

func (c *assignmentsDeleteCmd) Run(g *globals) error {
	return runDelete(g, &c.apiFlags, pathAssignments+"/"+seg(c.ID), deletedWord, c.ID, nil)
}

// ---- scope groups

type scopeGroupsCmd struct {
	List   scopeGroupsListCmd   `cmd:"" help:"List the workspace's scope groups."`
	Get    scopeGroupsGetCmd    `cmd:"" help:"Show one scope group."`
	Create scopeGroupsCreateCmd `cmd:"" help:"Create a scope group."`
	Delete scopeGroupsDeleteCmd `cmd:"" help:"Delete a scope group (refused while assignments name it)."`
	Scopes struct {
		List   scopesListCmd   `cmd:"" help:"List a scope group's scopes."`
		Add    scopesAddCmd    `cmd:"" help:"Add a resource GRN to a scope group."`
		Remove scopesRemoveCmd `cmd:"" help:"Remove a scope from a scope group."`
	} `cmd:"" help:"A scope group's scopes."`
}

type scopeGroupsListCmd struct{ apiFlags }

func (c *scopeGroupsListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathScopeGroups, nil, iamPageSize, scopeGroupCols)
}

type scopeGroupsGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The scope group's id."`
}

func (c *scopeGroupsGetCmd) Run(g *globals) error {
	return runGet(g, &c.apiFlags, pathScopeGroups+"/"+seg(c.ID), scopeGroupCols)
}

type scopeGroupsCreateCmd struct {
	apiFlags
	Name        string `arg:"" help:"The group's name (unique in the workspace)."`
	Description string `help:"What the group holds."`
}

func (c *scopeGroupsCreateCmd) Run(g *globals) error {
	return runSend(g, &c.apiFlags, http.MethodPost, pathScopeGroups, object{"name": c.Name, "description": c.Description}, scopeGroupCols)
}

type scopeGroupsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The scope group's id."`
}

func (c *scopeGroupsDeleteCmd) Run(g *globals) error {
	return runDelete(g, &c.apiFlags, pathScopeGroups+"/"+seg(c.ID), deletedWord, c.ID, nil)
}

type scopesListCmd struct {
	apiFlags
	Group string `arg:"" help:"The scope group's id."`
}

func (c *scopesListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathScopeGroups+"/"+seg(c.Group)+"/scopes", nil, scopeGroupScopes, scopeCols)
}

type scopesAddCmd struct {
	apiFlags
	Group       string `arg:"" help:"The scope group's id."`
	GRN         string `arg:"" name:"grn" help:"A resource GRN of the workspace (…/<type>/* for every resource of a type)."`
	Description string `help:"What the scope is." required:""`
}

func (c *scopesAddCmd) Run(g *globals) error {
	return runBatch(g, &c.apiFlags, http.MethodPost, pathScopeGroups+"/"+seg(c.Group)+"/scopes/batch",
		object{"items": []object{{"grn": c.GRN, "description": c.Description}}})
}

type scopesRemoveCmd struct {
	apiFlags
	Group string `arg:"" help:"The scope group's id."`
	Scope string `arg:"" help:"The scope's id (keyhold scope-groups scopes list shows them)."`
}

func (c *scopesRemoveCmd) Run(g *globals) error {
	return runBatch(g, &c.apiFlags, http.MethodDelete, pathScopeGroups+"/"+seg(c.Group)+"/scopes/bulk",
		object{"items": []object{{"id": c.Scope}}})
}

// runBatch sends a one-item batch and fails as the item failed: a batch answers 200 with
// each item's own status.
func runBatch(g *globals, f *apiFlags, method, path string, body object) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	o, err := s.api.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	if errs, _ := o["errors"].([]any); len(errs) > 0 {
		e, _ := errs[0].(map[string]any)
		status, _ := e["httpStatusCode"].(float64)
		msg := cell(e["message"])
		if status == 0 {
			status = http.StatusBadRequest
		}
		if s.out.json {
			_ = s.out.printJSON(o)
		}
		return &apiError{Status: int(status), ErrorCode: cell(e["errorCode"]), Message: msg}
	}
	if s.out.json {
		return s.out.printJSON(o)
	}
	items, _ := o["successes"].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		fmt.Fprintf(g.stdout, "ok %s\n", cell(firstOf(m, "id", "grn")))
	}
	return nil
}

// firstOf is the first of the named members that is set.
func firstOf(m map[string]any, names ...string) any {
	for _, n := range names {
		if v, ok := m[n]; ok && v != nil {
			return v
		}
	}
	return nil
}

// ---- providers, resource types, permissions

type providersCmd struct {
	List providersListCmd `cmd:"" help:"List the resource providers (services whose permissions keyhold decides)."`
	Get  providersGetCmd  `cmd:"" help:"Show one resource provider."`
}

type providersListCmd struct{ apiFlags }

func (c *providersListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathProviders, nil, iamPageSize, providerCols)
}

type providersGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The provider's id (its namespace, e.g. glp)."`
}

func (c *providersGetCmd) Run(g *globals) error {
	return runGet(g, &c.apiFlags, pathProviders+"/"+seg(c.ID), providerCols)
}

type resourceTypesCmd struct {
	List resourceTypesListCmd `cmd:"" help:"List a provider's resource types."`
}

type resourceTypesListCmd struct {
	apiFlags
	Provider string `arg:"" help:"The provider's id."`
}

func (c *resourceTypesListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathProviders+"/"+seg(c.Provider)+"/resource-types", nil, iamPageSize, typeCols)
}

type permissionsCmd struct {
	List permissionsListCmd `cmd:"" help:"List a provider's permissions."`
}

type permissionsListCmd struct {
	apiFlags
	Provider string `arg:"" help:"The provider's id."`
}

func (c *permissionsListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathProviders+"/"+seg(c.Provider)+"/permissions", nil, iamPageSize, permissionCols)
}

// ---- MSP tenants and tenant groups

type tenantsCmd struct {
	List   tenantsListCmd   `cmd:"" help:"List the MSP workspace's tenants."`
	Get    tenantsGetCmd    `cmd:"" help:"Show a tenant (or your own workspace)."`
	Create tenantsCreateCmd `cmd:"" help:"Create a tenant of the MSP workspace."`
	Delete tenantsDeleteCmd `cmd:"" help:"Delete a tenant and everything in it."`
}

type tenantsListCmd struct {
	apiFlags
	Filter string `help:"OData filter (id, workspaceName, createdBy, inventoryOwnership, createdAt, updatedAt)."`
}

func (c *tenantsListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathTenants, filterQuery(c.Filter), tenantsPageSize, workspaceCols)
}

type tenantsGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The workspace's id."`
}

func (c *tenantsGetCmd) Run(g *globals) error {
	return runGet(g, &c.apiFlags, pathWorkspaces+"/"+seg(c.ID), workspaceCols)
}

type tenantsCreateCmd struct {
	apiFlags
	Name        string `arg:"" help:"The tenant's name (unique among the MSP's tenants)."`
	Description string `help:"What the tenant is."`
	Email       string `help:"The tenant's contact email."`
}

func (c *tenantsCreateCmd) Run(g *globals) error {
	body := object{"workspaceName": c.Name}
	if c.Description != "" {
		body["description"] = c.Description
	}
	if c.Email != "" {
		body["email"] = c.Email
	}
	return runSend(g, &c.apiFlags, http.MethodPost, pathTenants, body, createdCols)
}

type tenantsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The tenant's id."`
}

func (c *tenantsDeleteCmd) Run(g *globals) error {
	return runDelete(g, &c.apiFlags, pathTenants+"/"+seg(c.ID), deletedWord, c.ID, nil)
}

type tenantGroupsCmd struct {
	List    tenantGroupsListCmd   `cmd:"" help:"List the MSP workspace's tenant groups."`
	Get     tenantGroupsGetCmd    `cmd:"" help:"Show one tenant group."`
	Create  tenantGroupsCreateCmd `cmd:"" help:"Create a tenant group."`
	Delete  tenantGroupsDeleteCmd `cmd:"" help:"Delete a tenant group (refused while assignments name it)."`
	Members struct {
		List   tenantGroupMembersListCmd   `cmd:"" help:"List the tenants in a group."`
		Add    tenantGroupMembersAddCmd    `cmd:"" help:"Add a tenant to a group (its assignments then reach the tenant)."`
		Remove tenantGroupMembersRemoveCmd `cmd:"" help:"Remove a tenant from a group (by the membership's id)."`
	} `cmd:"" help:"The tenants in a tenant group."`
}

type tenantGroupsListCmd struct{ apiFlags }

func (c *tenantGroupsListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathTenantGroups, nil, tenantGroupsPage, tenantGroupCols)
}

type tenantGroupsGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The tenant group's id."`
}

func (c *tenantGroupsGetCmd) Run(g *globals) error {
	return runGet(g, &c.apiFlags, pathTenantGroups+"/"+seg(c.ID), tenantGroupCols)
}

type tenantGroupsCreateCmd struct {
	apiFlags
	Name        string `arg:"" help:"The group's name (unique in the MSP workspace)."`
	Description string `help:"What the group is for."`
}

func (c *tenantGroupsCreateCmd) Run(g *globals) error {
	return runSend(g, &c.apiFlags, http.MethodPost, pathTenantGroups,
		object{"name": c.Name, "description": c.Description, "groupType": "TenantGroup"}, tenantGroupCols)
}

type tenantGroupsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The tenant group's id."`
}

func (c *tenantGroupsDeleteCmd) Run(g *globals) error {
	return runDelete(g, &c.apiFlags, pathTenantGroups+"/"+seg(c.ID), deletedWord, c.ID, nil)
}

type tenantGroupMembersListCmd struct {
	apiFlags
	Group string `arg:"" help:"The tenant group's id."`
}

func (c *tenantGroupMembersListCmd) Run(g *globals) error {
	return runList(g, &c.apiFlags, pathTenantGroups+"/"+seg(c.Group)+"/group-workspaces", nil, groupMembersPage, groupTenantCols)
}

type tenantGroupMembersAddCmd struct {
	apiFlags
	Group  string `arg:"" help:"The tenant group's id."`
	Tenant string `arg:"" help:"The tenant's workspace id."`
}

func (c *tenantGroupMembersAddCmd) Run(g *globals) error {
	return runSend(g, &c.apiFlags, http.MethodPost, pathTenantGroups+"/"+seg(c.Group)+"/group-workspaces",
		object{"workspaceId": c.Tenant}, groupTenantCols)
}

type tenantGroupMembersRemoveCmd struct {
	apiFlags
	Group      string `arg:"" help:"The tenant group's id."`
	Membership string `arg:"" help:"The membership's id (the ID column of keyhold tenant-groups members list)."`
}

func (c *tenantGroupMembersRemoveCmd) Run(g *globals) error {
	return runDelete(g, &c.apiFlags, pathTenantGroups+"/"+seg(c.Group)+"/group-workspaces/"+seg(c.Membership), removedWord, c.Membership, nil)
}
