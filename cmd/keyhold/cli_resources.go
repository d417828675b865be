package main

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/keyhold/keyhold/client"
)

// Words and notes the resource commands print.
const (
	secretShownOnce = "the client secret is shown this once: keyhold keeps only its hash. Store it now."
	deletedWord     = "deleted"
	removedWord     = "removed"
)

var (
	credentialCols  = cols("ID=id", "NAME=credentialName", "OWNER=ownerId", "GENERATION=generation", "TENANT=associatedTenant.tenantName", "CREATED=createdAt")
	newSecretCols   = cols("CLIENT ID=clientId", "CLIENT SECRET=clientSecret", "NAME=credentialName", "OWNER=ownerId", "GENERATION=generation")
	userCols        = cols("ID=id", "USERNAME=username", "STATUS=userStatus", "CREATED=createdAt")
	userGroupCols   = cols("ID=id", "NAME=name", "PRINCIPAL=principal", "DESCRIPTION=description")
	memberCols      = cols("ID=id", "USERNAME=username", "ADDED=addedAt")
	roleCols        = cols("ID=id", "NAME=name", "KIND=kind", "SLUG=slug", "PERMISSIONS=permissions")
	assignmentCols  = cols("ID=id", "SUBJECT=subject", "ROLE=role", "SCOPE=scope", "SOURCE=source", "CONDITION=condition")
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

// sdkList is the body of a list command the SDK serves: every page, printed.
func sdkList[T any](g *globals, f *apiFlags, columns []column, list func(context.Context, *client.Client) iter.Seq2[T, error]) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	items, err := collect(list(ctx, s.api.sdk))
	if err != nil {
		return apiFailure(err)
	}
	return s.out.list(items, columns)
}

// sdkOne is the body of a command that reads or writes one thing through the SDK.
func sdkOne[T any](g *globals, f *apiFlags, columns []column, one func(context.Context, *client.Client) (T, error)) error {
	return sessionOne(g, f, columns, func(ctx context.Context, s *session) (T, error) { return one(ctx, s.api.sdk) })
}

// sessionOne is sdkOne for a call that also needs the session (its context's workspace, say).
func sessionOne[T any](g *globals, f *apiFlags, columns []column, one func(context.Context, *session) (T, error)) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	v, err := one(ctx, s)
	if err != nil {
		return apiFailure(err)
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
		return apiFailure(err)
	}
	return s.out.done(word, id)
}

// listOptions is an SDK list's options with a filter.
func listOptions(filter string) *client.ListOptions { return &client.ListOptions{Filter: filter} }

// quoteOData writes a string literal of an OData filter.
func quoteOData(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ---- credentials

// credentialCmd is what a command about one credential takes: the API flags and its id.
type credentialCmd struct {
	apiFlags
	ID string `arg:"" help:"The credential's id (its client id)."`
}

type credentialsCmd struct {
	List    credentialsListCmd    `cmd:"" help:"List your API client credentials (or another owner's), without secrets."`
	Create  credentialsCreateCmd  `cmd:"" help:"Create a credential; prints its client secret once."`
	Reset   credentialsResetCmd   `cmd:"" help:"Give a credential a new secret (printed once); the old one and its tokens stop working at once."`
	Delete  credentialsDeleteCmd  `cmd:"" help:"Delete a credential; its tokens stop working at once."`
	Rotate  credentialsRotateCmd  `cmd:"" help:"Give a credential a new secret (printed once) while the old one keeps working for --overlap (keyhold's extension)."`
	Secrets credentialsSecretsCmd `cmd:"" help:"List a credential's valid secrets (slots and times, never values)."`
	Retire  credentialsRetireCmd  `cmd:"" help:"Stop a rotated-out (previous) secret at once."`
	Keys    struct {
		Get    credentialKeysGetCmd    `cmd:"" help:"Show the public keys that verify the credential's private_key_jwt assertions."`
		Set    credentialKeysSetCmd    `cmd:"" help:"Register (replace) the credential's private_key_jwt keys: a JWK set file or a JWKS URL."`
		Delete credentialKeysDeleteCmd `cmd:"" help:"Remove the credential's keys (only its secret authenticates then)."`
	} `cmd:"" help:"A credential's private_key_jwt keys (keyhold's extension)."`
	TokenSettings struct {
		Get credentialTokenSettingsGetCmd `cmd:"" help:"Show the credential's token lifetime, audiences and allowed OAuth scopes."`
		Set credentialTokenSettingsSetCmd `cmd:"" help:"Replace the credential's token settings: what a flag does not give is cleared."`
	} `cmd:"" name:"token-settings" help:"A credential's token settings: lifetime, RFC 8707 audiences, allowed OAuth scopes (keyhold's extension)."`
	TLS struct {
		Get    credentialTLSGetCmd    `cmd:"" help:"Show the credential's mutual-TLS client authentication: subject DN or certificate thumbprints."`
		Set    credentialTLSSetCmd    `cmd:"" help:"Register (replace) the credential's mutual-TLS client authentication: a subject DN, or self-signed certificates."`
		Delete credentialTLSDeleteCmd `cmd:"" help:"Remove the credential's mutual-TLS client authentication."`
	} `cmd:"" name:"tls" help:"A credential's mutual-TLS client authentication, RFC 8705 (keyhold's extension)."`
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

type credentialsResetCmd struct{ credentialCmd }

func (c *credentialsResetCmd) Run(g *globals) error {
	if err := sdkOne(g, &c.apiFlags, newSecretCols, func(ctx context.Context, k *client.Client) (*client.Credential, error) {
		return k.ResetCredential(ctx, c.ID)
	}); err != nil {
		return err
	}
	note(g, "%s", secretShownOnce)
	return nil
}

type credentialsDeleteCmd struct{ credentialCmd }

func (c *credentialsDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, deletedWord, c.ID, func(ctx context.Context, k *client.Client) error {
		return k.DeleteCredential(ctx, c.ID)
	})
}

type credentialsRotateCmd struct {
	credentialCmd
	Overlap time.Duration `help:"How long the old secret keeps working (1m to 720h; default: keyhold's, one day)."`
}

func (c *credentialsRotateCmd) Run(g *globals) error {
	if err := sdkOne(g, &c.apiFlags, append(newSecretCols, cols("SECRETS=secrets")...), func(ctx context.Context, k *client.Client) (*client.RotatedCredential, error) {
		return k.RotateCredential(ctx, c.ID, c.Overlap)
	}); err != nil {
		return err
	}
	note(g, "%s", secretShownOnce)
	return nil
}

type credentialsSecretsCmd struct{ credentialCmd }

func (c *credentialsSecretsCmd) Run(g *globals) error {
	return sdkList(g, &c.apiFlags, cols("SLOT=slot", "CREATED=createdAt", "EXPIRES=expiresAt"), func(ctx context.Context, k *client.Client) iter.Seq2[client.CredentialSecret, error] {
		return func(yield func(client.CredentialSecret, error) bool) {
			secrets, err := k.ListCredentialSecrets(ctx, c.ID)
			if err != nil {
				yield(client.CredentialSecret{}, err)
				return
			}
			for _, sec := range secrets {
				if !yield(sec, nil) {
					return
				}
			}
		}
	})
}

type credentialsRetireCmd struct{ credentialCmd }

func (c *credentialsRetireCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, "retired the previous secret of", c.ID, func(ctx context.Context, k *client.Client) error {
		return k.RetirePreviousSecret(ctx, c.ID)
	})
}

// keysCols shows a credential's keys.
var keysCols = cols("JWKS=jwks", "JWKS URI=jwksUri")

type credentialKeysGetCmd struct{ credentialCmd }

func (c *credentialKeysGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, keysCols, func(ctx context.Context, k *client.Client) (*client.CredentialKeys, error) {
		return k.GetCredentialKeys(ctx, c.ID)
	})
}

type credentialKeysSetCmd struct {
	credentialCmd
	JWKSFile string `name:"jwks-file" help:"A file holding the JWK set ({\"keys\": [...]}, public keys only)." type:"existingfile" xor:"keys" required:"" placeholder:"FILE"`
	JWKSURI  string `name:"jwks-uri" help:"An https URL keyhold fetches the JWK set from." xor:"keys" required:"" placeholder:"URL"`
}

func (c *credentialKeysSetCmd) Run(g *globals) error {
	keys := client.CredentialKeys{JWKSURI: c.JWKSURI}
	if c.JWKSFile != "" {
		raw, err := os.ReadFile(c.JWKSFile)
		if err != nil {
			return err
		}
		if !json.Valid(raw) {
			return &codedError{code: exitUsage, err: fmt.Errorf("--jwks-file %s: not JSON", c.JWKSFile)}
		}
		keys.JWKS = raw
	}
	return sdkOne(g, &c.apiFlags, keysCols, func(ctx context.Context, k *client.Client) (*client.CredentialKeys, error) {
		return k.SetCredentialKeys(ctx, c.ID, keys)
	})
}

var tokenSettingsCols = cols("LIFETIME=tokenLifetime", "AUDIENCES=audiences", "SCOPES=scopes")

type credentialTokenSettingsGetCmd struct{ credentialCmd }

func (c *credentialTokenSettingsGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, tokenSettingsCols, func(ctx context.Context, k *client.Client) (*client.TokenSettings, error) {
		return k.GetTokenSettings(ctx, c.ID)
	})
}

// credentialTokenSettingsSetCmd replaces all three settings, as the API's PUT does: a
// setting left out is cleared, so that what is set is exactly what the command line says.
type credentialTokenSettingsSetCmd struct {
	credentialCmd
	Lifetime time.Duration `help:"Lifetime of its tokens, in whole seconds (0: the server's --token-ttl, which also caps it)."`
	Audience []string      `help:"An absolute URI its token requests may name in resource (RFC 8707); repeat for several." placeholder:"URI"`
	Scope    []string      `help:"An OAuth scope item its tokens may carry (a permission name or <provider>.<resource-type>.*); repeat for several. None: tokens not restricted by scope." placeholder:"ITEM"`
}

func (c *credentialTokenSettingsSetCmd) Run(g *globals) error {
	if c.Lifetime < 0 || c.Lifetime%time.Second != 0 {
		return &codedError{code: exitUsage, err: fmt.Errorf("--lifetime %s: must be whole seconds, at least 0", c.Lifetime)}
	}
	in := client.TokenSettings{TokenLifetime: int64(c.Lifetime / time.Second), Audiences: c.Audience, Scopes: c.Scope}
	return sdkOne(g, &c.apiFlags, tokenSettingsCols, func(ctx context.Context, k *client.Client) (*client.TokenSettings, error) {
		return k.SetTokenSettings(ctx, c.ID, in)
	})
}

var tlsCols = cols("SUBJECT DN=subjectDn", "CERTIFICATE THUMBPRINTS=certificateThumbprints")

type credentialTLSGetCmd struct{ credentialCmd }

func (c *credentialTLSGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, tlsCols, func(ctx context.Context, k *client.Client) (*client.TLSClientAuth, error) {
		return k.GetTLSClientAuth(ctx, c.ID)
	})
}

// credentialTLSSetCmd registers either a subject DN (tls_client_auth, a certificate of
// --tls-client-ca-file's CA) or self-signed certificates (self_signed_tls_client_auth).
type credentialTLSSetCmd struct {
	credentialCmd
	SubjectDN   string   `name:"subject-dn" help:"The subject of the client's certificate, issued by a CA of the server's --tls-client-ca-file, e.g. 'CN=job,O=Acme'." xor:"tls" required:"" placeholder:"DN"`
	Certificate []string `help:"A PEM file of a self-signed certificate the client presents; repeat for several (up to 5)." type:"existingfile" xor:"tls" required:"" placeholder:"FILE"`
}

func (c *credentialTLSSetCmd) Run(g *globals) error {
	in := client.TLSClientAuth{SubjectDN: c.SubjectDN}
	for _, f := range c.Certificate {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		in.SelfSignedCertificates = append(in.SelfSignedCertificates, string(raw))
	}
	return sdkOne(g, &c.apiFlags, tlsCols, func(ctx context.Context, k *client.Client) (*client.TLSClientAuth, error) {
		return k.SetTLSClientAuth(ctx, c.ID, in)
	})
}

type credentialTLSDeleteCmd struct{ credentialCmd }

func (c *credentialTLSDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, "removed the TLS client authentication of", c.ID, func(ctx context.Context, k *client.Client) error {
		return k.DeleteTLSClientAuth(ctx, c.ID)
	})
}

type credentialKeysDeleteCmd struct{ credentialCmd }

func (c *credentialKeysDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, "deleted the keys of", c.ID, func(ctx context.Context, k *client.Client) error {
		return k.DeleteCredentialKeys(ctx, c.ID)
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
	return sdkList(g, &c.apiFlags, userGroupCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.UserGroup, error] {
		return k.ListUserGroups(ctx, nil)
	})
}

type userGroupsGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The group's id."`
}

func (c *userGroupsGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, userGroupCols, func(ctx context.Context, k *client.Client) (*client.UserGroup, error) {
		return k.GetUserGroup(ctx, c.ID)
	})
}

type userGroupsCreateCmd struct {
	apiFlags
	Name        string `arg:"" help:"The group's name (unique in the workspace)."`
	Description string `help:"What the group is for."`
}

func (c *userGroupsCreateCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, userGroupCols, func(ctx context.Context, k *client.Client) (*client.UserGroup, error) {
		return k.CreateUserGroup(ctx, client.UserGroupInput{Name: c.Name, Description: c.Description})
	})
}

type userGroupsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The group's id."`
}

func (c *userGroupsDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, deletedWord, c.ID, func(ctx context.Context, k *client.Client) error { return k.DeleteUserGroup(ctx, c.ID) })
}

type groupMembersListCmd struct {
	apiFlags
	Group string `arg:"" help:"The group's id."`
}

func (c *groupMembersListCmd) Run(g *globals) error {
	return sdkList(g, &c.apiFlags, memberCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.GroupMember, error] {
		return k.ListGroupMembers(ctx, c.Group, nil)
	})
}

type groupMembersAddCmd struct {
	apiFlags
	Group string `arg:"" help:"The group's id."`
	User  string `arg:"" help:"The user's id."`
}

func (c *groupMembersAddCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, memberCols, func(ctx context.Context, k *client.Client) (*client.GroupMember, error) {
		return k.AddGroupMember(ctx, c.Group, c.User)
	})
}

type groupMembersRemoveCmd struct {
	apiFlags
	Group string `arg:"" help:"The group's id."`
	User  string `arg:"" help:"The user's id."`
}

func (c *groupMembersRemoveCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, removedWord, c.User, func(ctx context.Context, k *client.Client) error { return k.RemoveGroupMember(ctx, c.Group, c.User) })
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
	return sdkList(g, &c.apiFlags, roleCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.Role, error] {
		return k.ListRoles(ctx, listOptions(c.Filter))
	})
}

type rolesGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The role's id."`
}

func (c *rolesGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, append(roleCols, cols("GRN=grn", "DESCRIPTION=description")...), func(ctx context.Context, k *client.Client) (*client.Role, error) {
		return k.GetRole(ctx, c.ID)
	})
}

type rolesCreateCmd struct {
	apiFlags
	Name        string   `arg:"" help:"The role's name (letters, digits, '-' and spaces; unique in the workspace)."`
	Permission  []string `help:"A permission the role holds (repeat, or comma-separated)." required:"" placeholder:"NAME"`
	Description string   `help:"What the role is for."`
}

func (c *rolesCreateCmd) Run(g *globals) error {
	in := client.RoleInput{Name: c.Name, Description: c.Description, Permissions: c.Permission}
	return sdkOne(g, &c.apiFlags, append(roleCols, cols("GRN=grn")...), func(ctx context.Context, k *client.Client) (*client.Role, error) {
		return k.CreateRole(ctx, in)
	})
}

type rolesDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The role's id."`
}

func (c *rolesDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, deletedWord, c.ID, func(ctx context.Context, k *client.Client) error { return k.DeleteRole(ctx, c.ID) })
}

// ---- workspace contact

type contactCmd struct {
	Get contactGetCmd `cmd:"" help:"Show a workspace's contact: your own, or an MSP tenant's."`
	Set contactSetCmd `cmd:"" help:"Replace your workspace's contact: what a flag does not give is cleared."`
}

var contactCols = cols("EMAIL=email", "PHONE=phoneNumber", "STREET=address.streetAddress", "STREET 2=address.streetAddressComplement",
	"CITY=address.city", "STATE OR REGION=address.stateOrRegion", "ZIP=address.zip", "COUNTRY=address.countryCode")

type contactGetCmd struct {
	apiFlags
	Workspace string `arg:"" optional:"" help:"The workspace's id (default: the context's workspace)." placeholder:"WORKSPACE-ID"`
}

func (c *contactGetCmd) Run(g *globals) error {
	return sessionOne(g, &c.apiFlags, contactCols, func(ctx context.Context, s *session) (*client.WorkspaceContact, error) {
		ws := c.Workspace
		if ws == "" {
			ws = s.api.ctx.WorkspaceID
		}
		return s.api.sdk.GetWorkspaceContact(ctx, ws)
	})
}

// contactSetCmd replaces the whole contact, as the API's PUT does, so that what is set is
// exactly what the command line says.
type contactSetCmd struct {
	apiFlags
	Email   string `help:"The contact email address." placeholder:"EMAIL"`
	Phone   string `help:"The contact phone number." placeholder:"NUMBER"`
	Street  string `help:"Street address." placeholder:"TEXT"`
	Street2 string `name:"street2" help:"Street address, second line." placeholder:"TEXT"`
	City    string `help:"City." placeholder:"TEXT"`
	Region  string `help:"State or region." placeholder:"TEXT"`
	Zip     string `help:"Postal code." placeholder:"TEXT"`
	Country string `help:"Country code (ISO 3166-1 alpha-2, e.g. FR)." placeholder:"CODE"`
}

func (c *contactSetCmd) Run(g *globals) error {
	in := client.WorkspaceContact{Email: c.Email, PhoneNumber: c.Phone}
	addr := client.Address{StreetAddress: c.Street, StreetAddressComplement: c.Street2, City: c.City,
		StateOrRegion: c.Region, Zip: c.Zip, CountryCode: c.Country}
	if addr != (client.Address{}) {
		in.Address = &addr
	}
	return sessionOne(g, &c.apiFlags, contactCols, func(ctx context.Context, s *session) (*client.WorkspaceContact, error) {
		return s.api.sdk.SetWorkspaceContact(ctx, s.api.ctx.WorkspaceID, in)
	})
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
	return sdkList(g, &c.apiFlags, assignmentCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.Assignment, error] {
		return k.ListAssignments(ctx, listOptions(filter))
	})
}

type assignmentsCreateCmd struct {
	apiFlags
	Subject string   `arg:"" help:"Who gets the role: user:<id or email>, user-group:<id> or api-client:<client id>."`
	Role    string   `arg:"" help:"The role: its GRN, id, slug (glp.workspace-observer) or custom role name."`
	Scope   []string `help:"A scope GRN (repeat, or comma-separated); default: the whole workspace." placeholder:"GRN"`
	// One expression, never split at commas (CEL has them).
	Condition string `help:"A CEL condition the role is granted under in AuthZEN decisions, e.g. 'resource.properties.ownerID == subject.attributes.email' (docs/api.md, Conditions)." placeholder:"EXPR"`
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
	a, err := s.api.sdk.CreateAssignment(ctx, client.AssignmentInput{Subject: subject, Role: role, Scope: scope, Condition: c.Condition})
	if err != nil {
		return apiFailure(err)
	}
	o, err := toObject(a)
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
		return "", apiFailure(err)
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
		r, err := s.api.sdk.GetRole(ctx, role)
		if err != nil {
			return "", apiFailure(err)
		}
		return r.GRN, nil
	}
	for _, prop := range []string{"slug", "name"} {
		roles, err := client.Collect(s.api.sdk.ListRoles(ctx, listOptions(prop+" eq "+quoteOData(role))))
		if err != nil {
			return "", apiFailure(err)
		}
		if len(roles) == 1 {
			return roles[0].GRN, nil
		}
	}
	return "", &codedError{code: exitRefused, err: fmt.Errorf("role %q: no role with that GRN, id, slug or name (keyhold roles list shows them)", role)}
}

type assignmentsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The assignment's id."`
}

func (c *assignmentsDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, deletedWord, c.ID, func(ctx context.Context, k *client.Client) error { return k.DeleteAssignment(ctx, c.ID) })
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
	return sdkList(g, &c.apiFlags, scopeGroupCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.ScopeGroup, error] {
		return k.ListScopeGroups(ctx, nil)
	})
}

type scopeGroupsGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The scope group's id."`
}

func (c *scopeGroupsGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, scopeGroupCols, func(ctx context.Context, k *client.Client) (*client.ScopeGroup, error) {
		return k.GetScopeGroup(ctx, c.ID)
	})
}

type scopeGroupsCreateCmd struct {
	apiFlags
	Name        string `arg:"" help:"The group's name (unique in the workspace)."`
	Description string `help:"What the group holds."`
}

func (c *scopeGroupsCreateCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, scopeGroupCols, func(ctx context.Context, k *client.Client) (*client.ScopeGroup, error) {
		return k.CreateScopeGroup(ctx, client.ScopeGroupInput{Name: c.Name, Description: c.Description})
	})
}

type scopeGroupsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The scope group's id."`
}

func (c *scopeGroupsDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, deletedWord, c.ID, func(ctx context.Context, k *client.Client) error { return k.DeleteScopeGroup(ctx, c.ID) })
}

type scopesListCmd struct {
	apiFlags
	Group string `arg:"" help:"The scope group's id."`
}

func (c *scopesListCmd) Run(g *globals) error {
	return sdkList(g, &c.apiFlags, scopeCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.Scope, error] {
		return k.ListScopes(ctx, c.Group, nil)
	})
}

type scopesAddCmd struct {
	apiFlags
	Group       string `arg:"" help:"The scope group's id."`
	GRN         string `arg:"" name:"grn" help:"A resource GRN of the workspace (…/<type>/* for every resource of a type)."`
	Description string `help:"What the scope is." required:""`
}

func (c *scopesAddCmd) Run(g *globals) error {
	return runBatch(g, &c.apiFlags, func(ctx context.Context, k *client.Client) (any, []client.BatchError, error) {
		res, err := k.AddScopes(ctx, c.Group, []client.ScopeInput{{GRN: c.GRN, Description: c.Description}})
		if err != nil {
			return nil, nil, err
		}
		return res, res.Errors, nil
	})
}

type scopesRemoveCmd struct {
	apiFlags
	Group string `arg:"" help:"The scope group's id."`
	Scope string `arg:"" help:"The scope's id (keyhold scope-groups scopes list shows them)."`
}

func (c *scopesRemoveCmd) Run(g *globals) error {
	return runBatch(g, &c.apiFlags, func(ctx context.Context, k *client.Client) (any, []client.BatchError, error) {
		res, err := k.RemoveScopes(ctx, c.Group, []string{c.Scope})
		if err != nil {
			return nil, nil, err
		}
		return res, res.Errors, nil
	})
}

// runBatch sends a one-item batch and fails as the item failed: a batch answers 200 with
// each item's own status.
func runBatch(g *globals, f *apiFlags, batch func(context.Context, *client.Client) (any, []client.BatchError, error)) error {
	ctx := context.Background()
	s, err := f.open(ctx, g)
	if err != nil {
		return err
	}
	res, errs, err := batch(ctx, s.api.sdk)
	if err != nil {
		return apiFailure(err)
	}
	o, err := toObject(res)
	if err != nil {
		return err
	}
	if s.out.json {
		if err := s.out.printJSON(o); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		e := errs[0]
		return &client.Error{StatusCode: e.HTTPStatusCode, ErrorCode: e.ErrorCode, Message: e.Message, DebugID: e.DebugID}
	}
	if !s.out.json {
		items, _ := o["successes"].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			fmt.Fprintf(g.stdout, "ok %s %s\n", cell(m["id"]), cell(m["grn"]))
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
	return sdkList(g, &c.apiFlags, providerCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.Provider, error] {
		return k.ListProviders(ctx, nil)
	})
}

type providersGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The provider's id (its namespace, e.g. glp)."`
}

func (c *providersGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, providerCols, func(ctx context.Context, k *client.Client) (*client.Provider, error) {
		return k.GetProvider(ctx, c.ID)
	})
}

type resourceTypesCmd struct {
	List resourceTypesListCmd `cmd:"" help:"List a provider's resource types."`
}

type resourceTypesListCmd struct {
	apiFlags
	Provider string `arg:"" help:"The provider's id."`
}

func (c *resourceTypesListCmd) Run(g *globals) error {
	return sdkList(g, &c.apiFlags, typeCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.ResourceType, error] {
		return k.ListResourceTypes(ctx, c.Provider, nil)
	})
}

type permissionsCmd struct {
	List permissionsListCmd `cmd:"" help:"List a provider's permissions."`
}

type permissionsListCmd struct {
	apiFlags
	Provider string `arg:"" help:"The provider's id."`
}

func (c *permissionsListCmd) Run(g *globals) error {
	return sdkList(g, &c.apiFlags, permissionCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.Permission, error] {
		return k.ListPermissions(ctx, c.Provider, nil)
	})
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
	return sdkList(g, &c.apiFlags, workspaceCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.Workspace, error] {
		return k.ListTenants(ctx, listOptions(c.Filter))
	})
}

type tenantsGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The workspace's id."`
}

func (c *tenantsGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, workspaceCols, func(ctx context.Context, k *client.Client) (*client.Workspace, error) {
		return k.GetWorkspace(ctx, c.ID)
	})
}

type tenantsCreateCmd struct {
	apiFlags
	Name        string `arg:"" help:"The tenant's name (unique among the MSP's tenants)."`
	Description string `help:"What the tenant is."`
	Email       string `help:"The tenant's contact email."`
}

func (c *tenantsCreateCmd) Run(g *globals) error {
	in := client.TenantInput{WorkspaceName: c.Name, Description: c.Description, Email: c.Email}
	return sdkOne(g, &c.apiFlags, createdCols, func(ctx context.Context, k *client.Client) (*client.TenantRef, error) {
		return k.CreateTenant(ctx, in)
	})
}

type tenantsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The tenant's id."`
}

func (c *tenantsDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, deletedWord, c.ID, func(ctx context.Context, k *client.Client) error { return k.DeleteTenant(ctx, c.ID) })
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
	return sdkList(g, &c.apiFlags, tenantGroupCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.TenantGroup, error] {
		return k.ListTenantGroups(ctx, nil)
	})
}

type tenantGroupsGetCmd struct {
	apiFlags
	ID string `arg:"" help:"The tenant group's id."`
}

func (c *tenantGroupsGetCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, tenantGroupCols, func(ctx context.Context, k *client.Client) (*client.TenantGroup, error) {
		return k.GetTenantGroup(ctx, c.ID)
	})
}

type tenantGroupsCreateCmd struct {
	apiFlags
	Name        string `arg:"" help:"The group's name (unique in the MSP workspace)."`
	Description string `help:"What the group is for."`
}

func (c *tenantGroupsCreateCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, tenantGroupCols, func(ctx context.Context, k *client.Client) (*client.TenantGroup, error) {
		return k.CreateTenantGroup(ctx, client.TenantGroupInput{Name: c.Name, Description: c.Description})
	})
}

type tenantGroupsDeleteCmd struct {
	apiFlags
	ID string `arg:"" help:"The tenant group's id."`
}

func (c *tenantGroupsDeleteCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, deletedWord, c.ID, func(ctx context.Context, k *client.Client) error { return k.DeleteTenantGroup(ctx, c.ID) })
}

type tenantGroupMembersListCmd struct {
	apiFlags
	Group string `arg:"" help:"The tenant group's id."`
}

func (c *tenantGroupMembersListCmd) Run(g *globals) error {
	return sdkList(g, &c.apiFlags, groupTenantCols, func(ctx context.Context, k *client.Client) iter.Seq2[client.GroupWorkspace, error] {
		return k.ListGroupWorkspaces(ctx, c.Group, nil)
	})
}

type tenantGroupMembersAddCmd struct {
	apiFlags
	Group  string `arg:"" help:"The tenant group's id."`
	Tenant string `arg:"" help:"The tenant's workspace id."`
}

func (c *tenantGroupMembersAddCmd) Run(g *globals) error {
	return sdkOne(g, &c.apiFlags, groupTenantCols, func(ctx context.Context, k *client.Client) (*client.GroupWorkspace, error) {
		return k.AddGroupWorkspace(ctx, c.Group, c.Tenant)
	})
}

type tenantGroupMembersRemoveCmd struct {
	apiFlags
	Group      string `arg:"" help:"The tenant group's id."`
	Membership string `arg:"" help:"The membership's id (the ID column of keyhold tenant-groups members list)."`
}

func (c *tenantGroupMembersRemoveCmd) Run(g *globals) error {
	return sdkDelete(g, &c.apiFlags, removedWord, c.Membership, func(ctx context.Context, k *client.Client) error {
		return k.RemoveGroupWorkspace(ctx, c.Group, c.Membership)
	})
}
