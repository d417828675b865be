package identity

import (
	"context"
	"encoding/json"
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/scim"
	"github.com/keyhold/keyhold/internal/storage"
)

// SchemaEnterpriseUser is RFC 7643's enterprise extension, which identity providers send.
const SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// Limits of SCIM user attributes (GreenLake's document: userName 5-100, name parts 50,
// displayName 201).
const (
	minUserName     = 5
	maxUserName     = 100
	maxNamePart     = 50
	maxDisplayName  = 201
	maxExternalID   = 255
	maxEnterpriseLn = 255
)

// enterpriseAttrs are the enterprise extension's simple attributes keyhold keeps, stored in
// the user's attributes under these names (where access conditions read them); manager
// keeps the manager's id (its value).
var enterpriseAttrs = map[string]string{"employeenumber": "employeeNumber", "costcenter": "costCenter",
	"organization": "organization", "division": "division", "department": "department", "manager": "manager"}

// EnterpriseNames lists the attribute names the enterprise extension is stored under.
func EnterpriseNames() []string {
	return []string{"employeeNumber", "costCenter", "organization", "division", "department", "manager"}
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// scimUserFilter is what GET /Users accepts in filter: the document's userName and
// displayName, and what identity providers send (id, externalId, emails, name parts, active).
var scimUserFilter = func() *scim.Schema {
	display := "COALESCE(NULLIF(u.display_name, ''), u.email)"
	email := scim.Attribute{Path: "value", Column: "u.email", Kind: scim.String}
	return scim.NewSchema(SchemaUser,
		scim.Attribute{Path: "id", Column: "u.id", Kind: scim.String, CaseExact: true, Normalize: normalizeID},
		scim.Attribute{Path: "userName", Column: "u.email", Kind: scim.String},
		scim.Attribute{Path: "displayName", Column: display, Kind: scim.String},
		scim.Attribute{Path: "externalId", Column: "u.external_id", Kind: scim.String, CaseExact: true},
		scim.Attribute{Path: "name.givenName", Column: "u.first_name", Kind: scim.String},
		scim.Attribute{Path: "name.familyName", Column: "u.last_name", Kind: scim.String},
		scim.Attribute{Path: "active", Column: "u.active", Kind: scim.Bool},
		scim.Attribute{Path: "meta.created", Column: "u.created_at", Kind: scim.DateTime},
		scim.Attribute{Path: "meta.lastModified", Column: "u.updated_at", Kind: scim.DateTime},
		scim.Attribute{Path: SchemaUserExt + ":countryCode", Column: "u.country_code", Kind: scim.String, CaseExact: true},
		scim.Attribute{Path: "emails", Sub: scim.NewSchema("", email,
			scim.Attribute{Path: "type", Column: "'work'", Kind: scim.String},
			scim.Attribute{Path: "primary", Column: "(1 = 1)", Kind: scim.Bool}), Prefix: "(", Suffix: ")"},
	)
}()

// SCIMUserSort is the order of a SCIM user list (the document's sortBy).
type SCIMUserSort struct {
	By   storage.MemberSort
	Desc bool
}

// ListSCIMUsers pages through the caller's workspace's members matching a SCIM filter.
func (s *Service) ListSCIMUsers(ctx context.Context, c *principal.Caller, filter string, sort SCIMUserSort, p storage.Page) ([]storage.User, int, error) {
	var pred scim.Predicate
	if filter != "" {
		var err error
		if pred, err = scimUserFilter.Compile(filter); err != nil {
			return nil, 0, filterError(err)
		}
	}
	list, total, err := s.Store.ListMembers(ctx, storage.MemberQuery{WorkspaceID: c.WorkspaceID, Page: p,
		Filter: storage.Predicate{SQL: pred.SQL, Args: pred.Args}, Sort: sort.By, Desc: sort.Desc})
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list users")
	}
	return list, total, nil
}

// userPlan is a user's profile as a SCIM create or PATCH leaves it, built attribute by
// attribute; field names the attribute an error is about.
type userPlan struct {
	email, given, family, display, externalID, country string
	active                                             bool
	attrs                                              map[string]any // the user's attributes (enterprise extension)
	field                                              func(part string) string
	create                                             bool // a create: read-only attributes are ignored
}

func planOf(u *storage.User) (*userPlan, error) {
	p := &userPlan{email: u.Email, given: u.FirstName, family: u.LastName, display: u.DisplayName,
		externalID: u.ExternalID, country: u.CountryCode, active: !u.Inactive, attrs: map[string]any{}}
	if u.Attributes != "" {
		if err := json.Unmarshal([]byte(u.Attributes), &p.attrs); err != nil || p.attrs == nil {
			return nil, apperr.New(apperr.Internal, "the user's stored attributes do not decode")
		}
	}
	return p, nil
}

// changed reports whether the plan differs from u.
func (p *userPlan) changed(u *storage.User) (bool, string, error) {
	attrs, err := json.Marshal(p.attrs)
	if err != nil {
		return false, "", apperr.Wrap(err, "encode attributes")
	}
	var old map[string]any
	_ = json.Unmarshal([]byte(u.Attributes), &old)
	oldText, _ := json.Marshal(old)
	return p.email != u.Email || p.given != u.FirstName || p.family != u.LastName || p.display != u.DisplayName ||
		p.externalID != u.ExternalID || p.country != u.CountryCode || p.active == u.Inactive ||
		string(attrs) != string(oldText), string(attrs), nil
}

// check validates the planned profile.
func (p *userPlan) check() error {
	switch {
	case utf8.RuneCountInString(p.given) > maxNamePart:
		return apperr.Field("name.givenName", "must be at most %d characters", maxNamePart)
	case utf8.RuneCountInString(p.family) > maxNamePart:
		return apperr.Field("name.familyName", "must be at most %d characters", maxNamePart)
	case utf8.RuneCountInString(p.display) > maxDisplayName:
		return apperr.Field("displayName", "must be at most %d characters", maxDisplayName)
	case utf8.RuneCountInString(p.externalID) > maxExternalID:
		return apperr.Field("externalId", "must be at most %d characters", maxExternalID)
	case p.country != "" && !countryCode.MatchString(p.country):
		return apperr.Field(SchemaUserExt+".countryCode", "must be a two-letter ISO 3166 code in capitals")
	}
	return nil
}

// checkEmail validates and lower-cases a userName.
func checkEmail(field, v string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(v))
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) < minUserName || len(email) > maxUserName {
		return "", apperr.Field(field, "must be a plain email address of %d to %d characters", minUserName, maxUserName)
	}
	return email, nil
}

// str decodes a string value ("" for null, or for any value when remove).
func (p *userPlan) str(verb, part string, v json.RawMessage) (string, error) {
	if verb == "remove" || len(v) == 0 || string(v) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", apperr.Field(p.field(part), "must be a string")
	}
	return s, nil
}

// boolean decodes active: true or false, or the strings "True" and "False" that some
// identity providers send.
func (p *userPlan) boolean(part string, v json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, apperr.Field(p.field(part), "must be true or false")
}

// applyAttr applies one operation (or one attribute of a create, as add) to the attribute
// key (lower-cased, extension attributes qualified by their URN).
func (p *userPlan) applyAttr(verb, key string, v json.RawMessage) error {
	ext, ent := strings.ToLower(SchemaUserExt), strings.ToLower(SchemaEnterpriseUser)
	var err error
	switch key {
	case "username":
		return p.userName(verb, v)
	case "displayname":
		p.display, err = p.str(verb, "displayName", v)
	case "externalid":
		p.externalID, err = p.str(verb, "externalId", v)
	case "name.givenname":
		p.given, err = p.str(verb, "name.givenName", v)
	case "name.familyname":
		p.family, err = p.str(verb, "name.familyName", v)
	case "name.formatted", "name.middlename", "name.honorificprefix", "name.honorificsuffix":
		return nil // not kept: displayName and the two parts are
	case "name":
		return p.object(verb, "name", "name.", v)
	case "active":
		if verb == "remove" {
			return apperr.Field(p.field("path"), "active cannot be removed; replace it with false")
		}
		p.active, err = p.boolean("active", v)
	case "emails", "emails.value":
		return p.emails(verb, v)
	case ext + ":countrycode":
		p.country, err = p.str(verb, SchemaUserExt+".countryCode", v)
	case ext:
		return p.object(verb, SchemaUserExt, ext+":", v)
	case ent:
		return p.object(verb, SchemaEnterpriseUser, ent+":", v)
	case strings.ToLower(SchemaPosixUser):
		return apperr.Field(p.field(SchemaPosixUser), "POSIX attributes are not enabled in this workspace")
	case "password":
		return apperr.Field(p.field("password"), "keyhold users have no password: they sign in through their identity provider")
	default:
		return p.other(verb, key, v)
	}
	return err
}

// other handles the enterprise extension's attributes and the read-only and unknown ones.
func (p *userPlan) other(verb, key string, v json.RawMessage) error {
	ent := strings.ToLower(SchemaEnterpriseUser) + ":"
	if name, ok := enterpriseAttrs[strings.TrimPrefix(key, ent)]; ok && strings.HasPrefix(key, ent) {
		return p.enterprise(verb, name, v)
	}
	if strings.HasPrefix(key, ent+"manager.") {
		if strings.TrimPrefix(key, ent+"manager.") != "value" {
			return nil // displayName and $ref are derived
		}
		return p.enterprise(verb, "manager", v)
	}
	ext := strings.ToLower(SchemaUserExt) + ":"
	if readOnly(key) || strings.HasPrefix(key, ext) || key == "meta" {
		if p.create {
			return nil // RFC 7643 §7: read-only attributes a client sends are ignored
		}
		return errReadOnly(p.field("path"))
	}
	if p.create {
		return nil // attributes keyhold does not keep are ignored on create (docs/api.md)
	}
	return apperr.Field(p.field("path"), "is not an attribute of a user keyhold keeps (invalidPath)")
}

// enterprise sets or removes an enterprise attribute: a string, or for manager its value.
func (p *userPlan) enterprise(verb, name string, v json.RawMessage) error {
	if verb == "remove" || len(v) == 0 || string(v) == "null" {
		delete(p.attrs, name)
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		var ref struct {
			Value string `json:"value"`
		}
		if name != "manager" || json.Unmarshal(v, &ref) != nil {
			return apperr.Field(p.field(SchemaEnterpriseUser+"."+name), "must be a string")
		}
		s = ref.Value
	}
	if utf8.RuneCountInString(s) > maxEnterpriseLn {
		return apperr.Field(p.field(SchemaEnterpriseUser+"."+name), "must be at most %d characters", maxEnterpriseLn)
	}
	if s == "" {
		delete(p.attrs, name)
	} else {
		p.attrs[name] = s
	}
	return nil
}

// object applies an object value attribute by attribute (prefix + key); remove clears the
// object's attributes keyhold keeps.
func (p *userPlan) object(verb, name, prefix string, v json.RawMessage) error {
	if verb == "remove" {
		switch name {
		case "name":
			p.given, p.family = "", ""
		case SchemaUserExt:
			p.country = ""
		case SchemaEnterpriseUser:
			for _, n := range EnterpriseNames() {
				delete(p.attrs, n)
			}
		}
		return nil
	}
	obj, err := ObjectValue(p.field(name), v)
	if err != nil {
		return err
	}
	for k, x := range obj {
		if err := p.applyAttr(verb, prefix+k, x); err != nil {
			return err
		}
	}
	return nil
}

// userName: the platform-wide identifier. It is set on create; a PATCH may only repeat it.
func (p *userPlan) userName(verb string, v json.RawMessage) error {
	s, err := p.str(verb, "userName", v)
	if err != nil {
		return err
	}
	if p.create {
		p.email, err = checkEmail(p.field("userName"), s)
		return err
	}
	if verb == "remove" || !strings.EqualFold(strings.TrimSpace(s), p.email) {
		return errReadOnly(p.field("userName"))
	}
	return nil
}

// emails: keyhold keeps one email, the userName. A list naming it (as primary, or first
// without a primary) is accepted; anything else would change the userName.
func (p *userPlan) emails(verb string, v json.RawMessage) error {
	if verb == "remove" {
		return errReadOnly(p.field("emails"))
	}
	type email struct {
		Value   string `json:"value"`
		Primary bool   `json:"primary"`
	}
	var list []email
	if err := json.Unmarshal(v, &list); err != nil {
		var one email
		var s string
		switch {
		case json.Unmarshal(v, &one) == nil:
			list = []email{one}
		case json.Unmarshal(v, &s) == nil:
			list = []email{{Value: s}}
		default:
			return apperr.Field(p.field("emails"), "must be an array of emails, each with a value")
		}
	}
	if len(list) == 0 {
		return nil
	}
	primary := list[0].Value
	for _, e := range list {
		if e.Primary {
			primary = e.Value
		}
	}
	if !strings.EqualFold(strings.TrimSpace(primary), p.email) {
		return apperr.Field(p.field("emails"), "the primary email must be the userName, %s", p.email)
	}
	return nil
}

// SCIMUserBody reads a SCIM create's attributes (decoded, keys lower-cased) into a new
// user's profile. Attributes keyhold does not keep, and read-only ones, are ignored.
func SCIMUserBody(m map[string]json.RawMessage) (*storage.User, error) {
	p := &userPlan{attrs: map[string]any{}, create: true, field: func(part string) string { return part }}
	if v, ok := m["username"]; !ok || string(v) == "null" {
		return nil, apperr.Field("userName", "is required")
	}
	if err := p.applyAttr("add", "username", m["username"]); err != nil {
		return nil, err
	}
	p.active = false // the document's default
	for k, v := range m {
		if k == "username" || k == "schemas" {
			continue
		}
		if err := p.applyAttr("add", k, v); err != nil {
			return nil, err
		}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	attrs, err := json.Marshal(p.attrs)
	if err != nil {
		return nil, apperr.Wrap(err, "encode attributes")
	}
	return &storage.User{Email: p.email, FirstName: p.given, LastName: p.family, DisplayName: p.display,
		ExternalID: p.externalID, CountryCode: p.country, Inactive: !p.active, Attributes: string(attrs)}, nil
}

var errUserExists = apperr.New(apperr.Conflict, "a user with this userName is already a member of the workspace")

// CreateSCIMUser provisions a user in the caller's workspace. A userName the platform does not
// know yet makes a user the workspace controls (source SCIM); a userName known elsewhere makes
// that user a member, its profile untouched (it is controlled where it was made: the
// workspace learns nothing more than an invitation would tell it). A userName already a
// member is a conflict (409, uniqueness), so a repeated create never makes a second user.
func (s *Service) CreateSCIMUser(ctx context.Context, c *principal.Caller, in *storage.User) (*storage.User, error) {
	var out *storage.User
	err := s.Store.WithTx(ctx, func(tx storage.Store) error {
		u, err := tx.GetUserByEmail(ctx, in.Email)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			now := s.now()
			u = in
			u.ID, u.Generation, u.CreatedAt, u.UpdatedAt = ids.New(), 1, now, now
			u.Source, u.SourceWorkspace = storage.SourceSCIM, c.WorkspaceID
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			member, err := tx.IsMember(ctx, c.WorkspaceID, u.ID)
			if err != nil {
				return err
			}
			if member {
				return errUserExists
			}
		}
		out = u
		return tx.AddMember(ctx, c.WorkspaceID, u.ID, s.now())
	})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return nil, errUserExists // created concurrently under the same userName
	case err != nil:
		return nil, storeErr(err, "create user")
	}
	return out, s.synced(ctx)
}

// controls reports whether workspace ws controls u's profile and active state: it made u
// through SCIM, or nobody controls u and ws is its only workspace.
func controls(ctx context.Context, tx storage.Store, u *storage.User, ws string) (bool, error) {
	if u.SourceWorkspace != "" {
		return u.SourceWorkspace == ws, nil
	}
	n, err := tx.CountMemberships(ctx, u.ID)
	return n == 1, err
}

var errNotControlled = apperr.New(apperr.Forbidden,
	"this user's profile is managed outside this workspace (source External): only its group memberships and its membership here can change")

// PatchSCIMUser applies a SCIM PATCH (RFC 7644 §3.5.2: in order, all or nothing) to a member
// of the caller's workspace. Only the workspace that controls the user may change its profile
// (403 otherwise). Deactivating (active false) needs what the user holds here (rbac.Guard),
// cannot be done to oneself (412), and ends every token of the user's credentials at once:
// their generations move on, as a reset does, in the same transaction. ifMatch, when given,
// must be the user's generation (412).
func (s *Service) PatchSCIMUser(ctx context.Context, c *principal.Caller, id string, ops []PatchOp, ifMatch string) (*storage.User, error) {
	u, err := s.GetSCIMUser(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := rbac.CheckGeneration(ifMatch, u.Generation); err != nil {
		return nil, err
	}
	if len(ops) > MaxPatchOperations {
		return nil, apperr.Field("Operations", "at most %d operations per request", MaxPatchOperations)
	}
	p, err := planOf(u)
	if err != nil {
		return nil, err
	}
	for i, op := range ops {
		p.field = func(part string) string { return opField(i, part) }
		if err := p.applyOp(i, op); err != nil {
			return nil, err
		}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	changed, attrs, err := p.changed(u)
	if err != nil || !changed {
		return u, err
	}
	deactivate := !p.active && !u.Inactive
	if deactivate {
		if u.ID == c.OwnerID {
			return nil, apperr.New(apperr.PreconditionFailed, "a user cannot deactivate itself")
		}
		if err := s.Guard.MayRemoveUser(ctx, c, u.ID); err != nil {
			return nil, err
		}
	}
	next := *u
	next.FirstName, next.LastName, next.DisplayName, next.ExternalID = p.given, p.family, p.display, p.externalID
	next.CountryCode, next.Inactive, next.Attributes, next.UpdatedAt = p.country, !p.active, attrs, s.now()
	next.Source, next.SourceWorkspace = storage.SourceSCIM, c.WorkspaceID
	err = s.Store.WithTx(ctx, func(tx storage.Store) error {
		ok, err := controls(ctx, tx, u, c.WorkspaceID)
		if err != nil || !ok {
			return errors.Join(err, errNotControlled)
		}
		if err := tx.UpdateUser(ctx, &next, u.Generation); err != nil {
			return err
		}
		if deactivate {
			return endCredentialTokens(ctx, tx, u.ID, next.UpdatedAt)
		}
		return nil
	})
	switch {
	case errors.Is(err, errNotControlled):
		return nil, errNotControlled
	case errors.Is(err, storage.ErrStale):
		return nil, apperr.New(apperr.PreconditionFailed, "the user changed meanwhile; read it again")
	case errors.Is(err, storage.ErrLimit):
		return nil, apperr.Field(SchemaEnterpriseUser, "the user's attributes exceed %d bytes", storage.MaxUserAttributes)
	case err != nil:
		return nil, notFoundOr(err, errUserNotFound, "patch user")
	}
	return &next, s.synced(ctx)
}

// endCredentialTokens moves every credential of the user to its next generation, secrets
// (and a rotation's overlap) kept: tokens issued before are refused from then on, as after
// a reset.
func endCredentialTokens(ctx context.Context, tx storage.Store, userID string, at time.Time) error {
	creds, err := tx.ListCredentials(ctx, storage.CredentialQuery{OwnerID: userID})
	if err != nil {
		return err
	}
	for _, cr := range creds {
		if _, err := tx.EndCredentialTokens(ctx, cr.ID, at); err != nil {
			return err
		}
	}
	return nil
}

// applyOp records operation i in the plan.
func (p *userPlan) applyOp(i int, op PatchOp) error {
	verb, err := patchVerb(i, op.Op)
	if err != nil {
		return err
	}
	path, err := parsePatchPath(i, op.Path)
	if err != nil {
		return err
	}
	if path == nil {
		if verb == "remove" {
			return apperr.Field(opField(i, "path"), "is required for remove (noTarget)")
		}
		obj, err := ObjectValue(opField(i, "value"), op.Value)
		if err != nil {
			return err
		}
		for k, x := range obj {
			if k == "id" || k == "schemas" || k == "meta" {
				continue // read-only; a full representation sent back carries them
			}
			if err := p.applyAttr(verb, k, x); err != nil {
				return err
			}
		}
		return nil
	}
	if verb != "remove" && len(op.Value) == 0 {
		return apperr.Field(opField(i, "value"), "is required for %s", verb)
	}
	key := attrKey(path.Attr, SchemaUser)
	if path.Filter == nil {
		return p.applyAttr(verb, key, op.Value)
	}
	// emails[type eq "work"].value and the like: keyhold's one email matches a filter on
	// type work, primary true or its value.
	if key != "emails" {
		return apperr.Field(opField(i, "path"), "a value filter applies only to emails")
	}
	ok, err := scim.Match(path.Filter, func(name string) (any, bool) {
		switch strings.ToLower(name) {
		case "value":
			return p.email, true
		case "type":
			return "work", true
		case "primary":
			return true, true
		}
		return nil, false
	})
	if err != nil {
		return apperr.Field(opField(i, "path"), "%s", err.Error())
	}
	if !ok {
		return apperr.Field(opField(i, "path"), "matches no email of the user (noTarget)")
	}
	if path.Sub != "" && !strings.EqualFold(path.Sub, "value") {
		return nil // type, primary, display: fixed or derived
	}
	if verb == "remove" {
		return errReadOnly(opField(i, "path"))
	}
	var s string
	if err := json.Unmarshal(op.Value, &s); err != nil {
		return p.emails(verb, op.Value)
	}
	if !strings.EqualFold(strings.TrimSpace(s), p.email) {
		return apperr.Field(opField(i, "value"), "the primary email must be the userName, %s", p.email)
	}
	return nil
}

// DeleteSCIMUser removes a member from the caller's workspace as RemoveUser does; ifMatch,
// when given, must be the user's generation (412).
func (s *Service) DeleteSCIMUser(ctx context.Context, c *principal.Caller, id, ifMatch string) error {
	u, err := s.GetSCIMUser(ctx, c, id)
	if err != nil {
		return err
	}
	if err := rbac.CheckGeneration(ifMatch, u.Generation); err != nil {
		return err
	}
	return s.RemoveUser(ctx, c, u.ID)
}
