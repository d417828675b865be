package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/catalog"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/odata"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// Service implements the rules of the workspace, MSP tenant, tenant group and provision APIs.
// Authorization by permission happens at the route; the service enforces what depends on the
// data: MSP-only calls, and that a caller sees only its own workspace and its own tenants.
type Service struct {
	Store storage.Store
	Dir   *Directory
	Sync  func(context.Context) error
	Now   func() time.Time
	// Guard applies the escalation rule to adding tenants to tenant groups.
	Guard *rbac.Guard
	// Catalog is the service catalogue provisions are checked against.
	Catalog *catalog.Catalog
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) synced(ctx context.Context) error {
	if err := s.Sync(ctx); err != nil {
		return apperr.Wrap(err, "sync views")
	}
	return nil
}

var errNotFound = apperr.New(apperr.NotFound, "no workspace with this id")

// Get returns a workspace the caller may see: its own, or one of its tenants.
func (s *Service) Get(ctx context.Context, c *principal.Caller, rawID string) (*storage.Workspace, error) {
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "workspaceId", "must be a UUID, hyphenated or as 32 hex digits")
	}
	w, err := s.Store.GetWorkspace(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, errNotFound
	case err != nil:
		return nil, apperr.Wrap(err, "read workspace")
	case w.ID != c.WorkspaceID && w.ParentID != c.WorkspaceID:
		return nil, errNotFound
	}
	return w, nil
}

// requireMSP refuses callers whose workspace is not an MSP.
func (s *Service) requireMSP(c *principal.Caller) error {
	w, ok := s.Dir.Get(c.WorkspaceID)
	if !ok || w.Type != storage.WorkspaceMSP {
		return apperr.New(apperr.Forbidden, "only MSP workspaces have tenants and tenant groups")
	}
	return nil
}

// tenantOf reads one of the caller's tenants; anything else is "not found".
func (s *Service) tenantOf(ctx context.Context, c *principal.Caller, rawID, field string, src apperr.Source) (*storage.Workspace, error) {
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(src, field, "must be a UUID, hyphenated or as 32 hex digits")
	}
	w, err := s.Store.GetWorkspace(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && w.ParentID != c.WorkspaceID) {
		if src == apperr.SourceField {
			return nil, apperr.Field(field, "no tenant with this id belongs to this workspace")
		}
		return nil, apperr.New(apperr.NotFound, "no tenant with this id")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "read tenant")
	}
	return w, nil
}

// TenantInput is the body of a tenant create or update.
type TenantInput struct {
	WorkspaceName string
	Details       storage.TenantDetails
}

var tenantFilter = odata.NewSchema(
	odata.Property{Name: "id", Column: "id", Kind: odata.UUID, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "workspaceName", Column: "name", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "createdBy", Column: "created_by", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "inventoryOwnership", Column: "inventory_ownership", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "createdAt", Column: "created_at", Kind: odata.Time, Ops: timeOps},
	odata.Property{Name: "updatedAt", Column: "updated_at", Kind: odata.Time, Ops: timeOps},
)

var timeOps = []odata.Op{odata.Eq, odata.Ne, odata.Gt, odata.Ge, odata.Lt, odata.Le}

// compileFilter turns a filter parameter into a storage predicate, or a 400 naming filter.
func compileFilter(schema *odata.Schema, filter string) (storage.Predicate, error) {
	p, err := schema.Compile(filter)
	if err != nil {
		return storage.Predicate{}, apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
	}
	return storage.Predicate{SQL: p.SQL, Args: p.Args}, nil
}

// ListTenants returns a page of the caller's tenants.
func (s *Service) ListTenants(ctx context.Context, c *principal.Caller, filter string, p storage.Page) ([]storage.Workspace, int, error) {
	if err := s.requireMSP(c); err != nil {
		return nil, 0, err
	}
	pred, err := compileFilter(tenantFilter, filter)
	if err != nil {
		return nil, 0, err
	}
	list, total, err := s.Store.ListTenants(ctx, storage.TenantQuery{ParentID: c.WorkspaceID, Filter: pred, Page: p})
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list tenants")
	}
	return list, total, nil
}

func validTenant(in *TenantInput) error {
	in.WorkspaceName = strings.TrimSpace(in.WorkspaceName)
	if err := validText("workspaceName", in.WorkspaceName, 1, 100); err != nil {
		return err
	}
	d := &in.Details
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"description", &d.Description, 500}, {"email", &d.Email, 254}, {"phoneNumber", &d.PhoneNumber, 40}, {"inventoryOwnership", &d.InventoryOwnership, 64}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := validText(f.name, *f.v, 0, f.max); err != nil {
			return err
		}
	}
	if d.InventoryOwnership != "" && d.InventoryOwnership != InventoryMSPOwned && d.InventoryOwnership != InventoryCustomerOwned {
		return apperr.Field("inventoryOwnership", "must be %s or %s", InventoryMSPOwned, InventoryCustomerOwned)
	}
	if d.Address != "" && !json.Valid([]byte(d.Address)) {
		return apperr.Field("address", "must be an object")
	}
	return nil
}

// The values of a tenant's inventoryOwnership (GreenLake's NBTenantInventoryOwnership); a
// tenant created without one owns MSP_OWNED_INVENTORY, as GreenLake's document says.
const (
	InventoryMSPOwned      = "MSP_OWNED_INVENTORY"
	InventoryCustomerOwned = "CUSTOMER_OWNED_INVENTORY"
)

func validText(field, v string, minLen, maxLen int) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n < minLen:
		return apperr.Field(field, "is required")
	case n > maxLen:
		return apperr.Field(field, "must be at most %d characters", maxLen)
	case strings.IndexFunc(v, unprintable) >= 0:
		return apperr.Field(field, "must not contain control or format characters")
	}
	return nil
}

// unprintable reports control and format characters (such as U+202E, which reverses how the
// rest of a name is displayed): names are shown to people, so neither is allowed.
func unprintable(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }
