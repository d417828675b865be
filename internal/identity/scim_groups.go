package identity

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/scim"
	"github.com/keyhold/keyhold/internal/storage"
)

func normalizeID(s string) string {
	if id, err := ids.Parse(s); err == nil {
		return id
	}
	return s
}

// scimGroupFilter is what GET /Groups accepts in filter: the document's displayName and
// source, and what identity providers send (id, externalId, members[value eq "..."]).
var scimGroupFilter = scim.NewSchema(SchemaGroup,
	scim.Attribute{Path: "id", Column: "g.id", Kind: scim.String, CaseExact: true, Normalize: normalizeID},
	scim.Attribute{Path: "displayName", Column: "g.name", Kind: scim.String},
	scim.Attribute{Path: "externalId", Column: "g.external_id", Kind: scim.String, CaseExact: true},
	scim.Attribute{Path: "meta.created", Column: "g.created_at", Kind: scim.DateTime},
	scim.Attribute{Path: "meta.lastModified", Column: "g.updated_at", Kind: scim.DateTime},
	scim.Attribute{Path: SchemaGroupExt + ":source", Column: "g.source", Kind: scim.String},
	scim.Attribute{Path: SchemaGroupExt + ":groupDescription", Column: "g.description", Kind: scim.String},
	scim.Attribute{Path: "members", Sub: scim.NewSchema("",
		scim.Attribute{Path: "value", Column: "gm.user_id", Kind: scim.String, CaseExact: true, Normalize: normalizeID}),
		Prefix: "EXISTS (SELECT 1 FROM user_group_members gm WHERE gm.group_id = g.id AND ", Suffix: ")"},
)

// SCIMGroupInput is a group as a SCIM create sends it.
type SCIMGroupInput struct {
	Name, Description, ExternalID string
	Members                       []string // user ids
}

// filterError turns a filter's compile error into a 400 naming the filter parameter.
func filterError(err error) error {
	return apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
}

// ListSCIMGroups pages through the caller's workspace's groups matching a SCIM filter.
func (s *Service) ListSCIMGroups(ctx context.Context, c *principal.Caller, filter string, p storage.Page) ([]storage.UserGroup, int, error) {
	var pred scim.Predicate
	if filter != "" {
		var err error
		if pred, err = scimGroupFilter.Compile(filter); err != nil {
			return nil, 0, filterError(err)
		}
	}
	list, total, err := s.Store.QueryUserGroups(ctx, storage.UserGroupQuery{WorkspaceID: c.WorkspaceID,
		Filter: storage.Predicate{SQL: pred.SQL, Args: pred.Args}, Page: p})
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list user groups")
	}
	return list, total, nil
}

// GetSCIMGroup reads a group of the caller's workspace; an id that is not a UUID names no
// group (404), as SCIM expects.
func (s *Service) GetSCIMGroup(ctx context.Context, c *principal.Caller, rawID string) (*storage.UserGroup, error) {
	if _, err := ids.Parse(rawID); err != nil {
		return nil, errGroupNotFound
	}
	return s.GetGroup(ctx, c, rawID)
}

func checkSCIMGroup(name, description string) error {
	if err := rbac.CheckGroupName("displayName", name, maxSCIMGroupName); err != nil {
		return err
	}
	if len([]rune(description)) > maxGroupDescription {
		return apperr.Field(SchemaGroupExt+".groupDescription", "must be at most %d characters", maxGroupDescription)
	}
	return nil
}

// CreateSCIMGroup makes a group in the caller's workspace with its first members, in one
// transaction. A new group holds no role assignment, so adding members grants nothing.
func (s *Service) CreateSCIMGroup(ctx context.Context, c *principal.Caller, in SCIMGroupInput) (*storage.UserGroup, error) {
	if err := checkSCIMGroup(in.Name, in.Description); err != nil {
		return nil, err
	}
	now := s.now()
	g := &storage.UserGroup{ID: ids.New(), WorkspaceID: c.WorkspaceID, Name: in.Name, Description: in.Description,
		ExternalID: in.ExternalID, Source: storage.SourceSCIM, Generation: 1, CreatedAt: now, UpdatedAt: now}
	err := s.Store.WithTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateUserGroup(ctx, g); err != nil {
			return err
		}
		return addMembers(ctx, tx, c.WorkspaceID, g.ID, in.Members, "members", s.now())
	})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return nil, apperr.New(apperr.Conflict, "a user group named %q already exists in this workspace", in.Name)
	case err != nil:
		return nil, storeErr(err, "create user group")
	}
	return g, s.synced(ctx)
}

// addMembers adds workspace members to a group, skipping those already in it.
func addMembers(ctx context.Context, tx storage.Store, ws, groupID string, users []string, field string, now time.Time) error {
	for _, u := range users {
		ok, err := tx.IsMember(ctx, ws, u)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Field(field, "no user with id %s in the workspace", u)
		}
		err = tx.AddUserGroupMember(ctx, &storage.UserGroupMember{GroupID: groupID, UserID: u, CreatedAt: now})
		if err != nil && !errors.Is(err, storage.ErrConflict) {
			return err
		}
	}
	return nil
}

// groupPlan is what a PATCH does to a group, built operation by operation (RFC 7644: in
// order, all or nothing).
type groupPlan struct {
	name, description, externalID string
	// clear: every current member not in want[id] == true goes; want: the members the
	// operations add (true) or remove (false), the last operation on a user winning.
	clear   bool
	want    map[string]bool
	members bool // the operations touch members
	current func() ([]string, error)
}

func (p *groupPlan) set(id string, in bool) { p.members = true; p.want[id] = in }

func (p *groupPlan) clearAll() {
	p.members, p.clear = true, true
	clear(p.want)
}

// PatchSCIMGroup applies a SCIM PATCH to a group of the caller's workspace. Changing its
// members needs what the group's role assignments grant (rbac.Guard), and may not leave the
// workspace without an administrator (412); ifMatch, when given, must be the group's
// generation (412 otherwise).
func (s *Service) PatchSCIMGroup(ctx context.Context, c *principal.Caller, id string, ops []PatchOp, ifMatch string) (*storage.UserGroup, error) {
	g, err := s.GetSCIMGroup(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := rbac.CheckGeneration(ifMatch, g.Generation); err != nil {
		return nil, err
	}
	var cached []string
	plan := &groupPlan{name: g.Name, description: g.Description, externalID: g.ExternalID, want: map[string]bool{},
		current: func() ([]string, error) {
			if cached != nil {
				return cached, nil
			}
			ms, _, err := s.Store.ListUserGroupMembers(ctx, g.ID, storage.Page{})
			if err != nil {
				return nil, apperr.Wrap(err, "list members")
			}
			cached = make([]string, 0, len(ms))
			for _, m := range ms {
				cached = append(cached, m.UserID)
			}
			return cached, nil
		}}
	if len(ops) > MaxPatchOperations {
		return nil, apperr.Field("Operations", "at most %d operations per request", MaxPatchOperations)
	}
	for i, op := range ops {
		if err := plan.apply(i, op); err != nil {
			return nil, err
		}
	}
	if err := checkSCIMGroup(plan.name, plan.description); err != nil {
		return nil, err
	}
	if plan.members {
		if err := s.Guard.MayGrantHoldings(ctx, c, []string{principal.Group(g.ID)}, "changing the members of this user group"); err != nil {
			return nil, err
		}
	}
	changed := plan.name != g.Name || plan.description != g.Description || plan.externalID != g.ExternalID
	err = rbac.KeepAdministrator(ctx, s.Store, c.WorkspaceID, func(tx storage.Store) error {
		if changed {
			g.Name, g.Description, g.ExternalID, g.UpdatedAt = plan.name, plan.description, plan.externalID, s.now()
			if err := tx.UpdateUserGroup(ctx, g); err != nil {
				return err
			}
		}
		return plan.applyMembers(ctx, tx, c.WorkspaceID, g.ID, s.now())
	})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return nil, apperr.New(apperr.Conflict, "a user group named %q already exists in this workspace", plan.name)
	case err != nil:
		return nil, notFoundOr(err, errGroupNotFound, "patch user group")
	}
	if err := s.synced(ctx); err != nil {
		return nil, err
	}
	return s.GetGroup(ctx, c, g.ID)
}

// applyMembers carries out the plan's member changes in tx.
func (p *groupPlan) applyMembers(ctx context.Context, tx storage.Store, ws, groupID string, now time.Time) error {
	if !p.members {
		return nil
	}
	var add, remove []string
	if p.clear {
		cur, err := p.current()
		if err != nil {
			return err
		}
		for _, u := range cur {
			if !p.want[u] {
				remove = append(remove, u)
			}
		}
	}
	for u, in := range p.want {
		if in {
			add = append(add, u)
		} else if !p.clear {
			remove = append(remove, u)
		}
	}
	for _, u := range remove {
		if err := tx.RemoveUserGroupMember(ctx, groupID, u); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	return addMembers(ctx, tx, ws, groupID, add, "members", now)
}

// apply records operation i in the plan.
func (p *groupPlan) apply(i int, op PatchOp) error {
	verb, err := patchVerb(i, op.Op)
	if err != nil {
		return err
	}
	path, err := parsePatchPath(i, op.Path)
	if err != nil {
		return err
	}
	if path == nil {
		return p.applyObject(i, verb, op.Value)
	}
	key := attrKey(path.Attr, SchemaGroup)
	if path.Filter != nil {
		return p.applyFiltered(i, verb, key, path)
	}
	if verb != "remove" && len(op.Value) == 0 {
		return apperr.Field(opField(i, "value"), "is required for %s", verb)
	}
	return p.applyAttr(i, verb, key, op.Value)
}

// applyAttr applies an operation on one attribute (by its key).
func (p *groupPlan) applyAttr(i int, verb, key string, v json.RawMessage) error {
	field := opField(i, "path")
	switch key {
	case "displayname":
		if verb == "remove" {
			return apperr.Field(field, "displayName is required and cannot be removed")
		}
		s, err := stringValue(i, v)
		p.name = s
		return err
	case "externalid":
		s, err := "", error(nil)
		if verb != "remove" {
			s, err = stringValue(i, v)
		}
		p.externalID = s
		return err
	case strings.ToLower(SchemaGroupExt) + ":groupdescription":
		s, err := "", error(nil)
		if verb != "remove" {
			s, err = stringValue(i, v)
		}
		p.description = s
		return err
	case strings.ToLower(SchemaGroupExt):
		if verb == "remove" {
			p.description = ""
			return nil
		}
		obj, err := ObjectValue(opField(i, "value"), v)
		if err != nil {
			return err
		}
		for k, x := range obj {
			if err := p.applyAttr(i, verb, strings.ToLower(SchemaGroupExt)+":"+k, x); err != nil {
				return err
			}
		}
		return nil
	case "members":
		return p.applyMembersOp(i, verb, v)
	}
	if readOnly(key) || strings.HasPrefix(key, strings.ToLower(SchemaGroupExt)+":") {
		return errReadOnly(field)
	}
	return apperr.Field(field, "is not an attribute of a group keyhold can change")
}

func (p *groupPlan) applyMembersOp(i int, verb string, v json.RawMessage) error {
	if verb == "remove" && (len(v) == 0 || string(v) == "null") {
		p.clearAll()
		return nil
	}
	users, err := MemberIDs(opField(i, "value"), v)
	if err != nil {
		return err
	}
	if verb == "replace" {
		p.clearAll()
	}
	for _, u := range users {
		p.set(u, verb != "remove")
	}
	return nil
}

// applyFiltered applies an operation whose path selects members by a value filter:
// members[value eq "..."]. Only remove is meaningful on keyhold's members (they have no
// sub-attribute to change).
func (p *groupPlan) applyFiltered(i int, verb, key string, path *scim.Path) error {
	if key != "members" {
		return apperr.Field(opField(i, "path"), "a value filter applies only to members")
	}
	if verb != "remove" || path.Sub != "" {
		return apperr.Field(opField(i, "path"), "members[...] can only be removed")
	}
	cur, err := p.current()
	if err != nil {
		return err
	}
	for _, u := range cur {
		if want, touched := p.want[u]; (touched && !want) || (p.clear && !want) {
			continue // already leaving
		}
		ok, err := scim.Match(path.Filter, func(name string) (any, bool) {
			switch name {
			case "value":
				return u, true
			case "type":
				return "User", true
			}
			return nil, false
		})
		if err != nil {
			return apperr.Field(opField(i, "path"), "%s", err.Error())
		}
		if ok {
			p.set(u, false)
		}
	}
	// A filter naming a user the plan adds (not yet stored) matches it too.
	for u, in := range p.want {
		if !in {
			continue
		}
		ok, _ := scim.Match(path.Filter, func(name string) (any, bool) {
			if name == "value" {
				return u, true
			}
			return nil, false
		})
		if ok {
			p.set(u, false)
		}
	}
	return nil
}

// applyObject applies an operation without a path: its value is an object whose members
// are attributes (RFC 7644 §3.5.2.1, .3).
func (p *groupPlan) applyObject(i int, verb string, v json.RawMessage) error {
	if verb == "remove" {
		return apperr.Field(opField(i, "path"), "is required for remove (noTarget)")
	}
	obj, err := ObjectValue(opField(i, "value"), v)
	if err != nil {
		return err
	}
	for k, x := range obj {
		if k == "id" || k == "schemas" || k == "meta" {
			continue // read-only; a full representation sent back carries them
		}
		if err := p.applyAttr(i, verb, k, x); err != nil {
			return err
		}
	}
	return nil
}

// DeleteSCIMGroup removes a group of the caller's workspace with its memberships and the
// role assignments made to it there, in one transaction: an identity provider deletes the
// group, not its grants one by one. Taking away what the group grants needs holding it
// (rbac.Guard); leaving no administrator is refused (412).
func (s *Service) DeleteSCIMGroup(ctx context.Context, c *principal.Caller, id, ifMatch string) error {
	g, err := s.GetSCIMGroup(ctx, c, id)
	if err != nil {
		return err
	}
	if err := rbac.CheckGeneration(ifMatch, g.Generation); err != nil {
		return err
	}
	subject := principal.Group(g.ID)
	if err := s.Guard.MayGrantHoldings(ctx, c, []string{subject}, "deleting this user group"); err != nil {
		return err
	}
	err = rbac.KeepAdministrator(ctx, s.Store, c.WorkspaceID, func(tx storage.Store) error {
		if err := deleteAssignments(ctx, tx, c.WorkspaceID, subject); err != nil {
			return err
		}
		return tx.DeleteUserGroup(ctx, g.ID, subject)
	})
	switch {
	case errors.Is(err, storage.ErrInUse):
		return apperr.New(apperr.PreconditionFailed, "role assignments made to this group in other workspaces remain")
	case err != nil:
		return notFoundOr(err, errGroupNotFound, "delete user group")
	}
	return s.synced(ctx)
}

// GroupsOfUser lists the groups of the caller's workspace a member belongs to, by name.
func (s *Service) GroupsOfUser(ctx context.Context, c *principal.Caller, rawUserID string) ([]storage.UserGroup, error) {
	u, err := s.GetSCIMUser(ctx, c, rawUserID)
	if err != nil {
		return nil, err
	}
	list, err := s.Store.ListGroupsOfUser(ctx, c.WorkspaceID, u.ID)
	if err != nil {
		return nil, apperr.Wrap(err, "list groups of user")
	}
	return list, nil
}

// GetSCIMUser reads a member of the caller's workspace; an id that is not a UUID names no
// user (404), as SCIM expects.
func (s *Service) GetSCIMUser(ctx context.Context, c *principal.Caller, rawID string) (*storage.User, error) {
	if _, err := ids.Parse(rawID); err != nil {
		return nil, errUserNotFound
	}
	return s.GetUser(ctx, c, rawID)
}

// SCIMGroupMembers pages through a group's members (for the GreenLake extension that lists
// them; a SCIM group resource does not carry its members).
func (s *Service) SCIMGroupMembers(ctx context.Context, c *principal.Caller, groupID string, p storage.Page) ([]Member, int, error) {
	if _, err := ids.Parse(groupID); err != nil {
		return nil, 0, errGroupNotFound
	}
	return s.ListGroupMembers(ctx, c, groupID, p)
}
