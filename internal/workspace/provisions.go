package workspace

import (
	"context"
	"errors"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/catalog"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/odata"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// ProvisionStatusProvisioned is the status of every provision keyhold records: it provisions
// nothing itself, it keeps the record services and credentials refer to.
const ProvisionStatusProvisioned = "PROVISIONED"

var provisionFilter = odata.NewSchema(
	odata.Property{Name: "id", Column: "id", Kind: odata.UUID, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "serviceManagerId", Column: "service_manager_id", Kind: odata.UUID, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "region", Column: "region", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "provisionStatus", Column: "status", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	// status is how the document's own filter examples name provisionStatus.
	odata.Property{Name: "status", Column: "status", Kind: odata.String, Ops: []odata.Op{odata.Eq, odata.Ne, odata.In}},
	odata.Property{Name: "createdAt", Column: "created_at", Kind: odata.Time, Ops: timeOps},
)

// ListProvisions returns a page of the caller's workspace's provisions.
func (s *Service) ListProvisions(ctx context.Context, c *principal.Caller, filter string, p storage.Page) ([]storage.Provision, int, error) {
	pred, err := compileFilter(provisionFilter, filter)
	if err != nil {
		return nil, 0, err
	}
	list, total, err := s.Store.ListProvisions(ctx, storage.ProvisionQuery{WorkspaceID: c.WorkspaceID, Filter: pred, Page: p})
	if err != nil {
		return nil, 0, apperr.Wrap(err, "list provisions")
	}
	return list, total, nil
}

// CreateProvision records a service manager provisioned in a region of the caller's workspace.
func (s *Service) CreateProvision(ctx context.Context, c *principal.Caller, serviceManagerID, region string) (*storage.Provision, error) {
	sm, err := s.checkCatalog(serviceManagerID, region)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p := &storage.Provision{ID: ids.New(), WorkspaceID: c.WorkspaceID, ServiceManagerID: sm, Region: region,
		Status: ProvisionStatusProvisioned, CreatedBy: s.createdBy(ctx, c), Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateProvision(ctx, p); errors.Is(err, storage.ErrConflict) {
		return nil, apperr.New(apperr.Conflict, "this service manager is already provisioned in %s", region)
	} else if err != nil {
		return nil, apperr.Wrap(err, "create provision")
	}
	return p, s.synced(ctx)
}

// checkCatalog accepts a service manager the catalogue knows, in a region where it is
// available; it returns the manager's canonical id.
func (s *Service) checkCatalog(serviceManagerID, region string) (string, error) {
	id, err := ids.Parse(serviceManagerID)
	if err != nil {
		return "", apperr.Field("serviceManagerId", "must be a UUID")
	}
	sm, ok := s.Catalog.ServiceManager(id)
	if !ok {
		return "", apperr.Field("serviceManagerId", "is not a service manager of the service catalogue (GET /service-catalog/v1/service-managers lists them)")
	}
	switch {
	case !catalog.ValidRegionCode(region):
		return "", apperr.Field("region", "must be a region code such as us-west (lower-case letters, digits, -)")
	case !sm.AvailableIn(region):
		if _, known := s.Catalog.Region(region); !known {
			return "", apperr.Field("region", "is not a region of the service catalogue")
		}
		return "", apperr.Field("region", "this service manager is not available in %s (GET /service-catalog/v1/per-region-service-managers lists where each is)", region)
	}
	return id, nil
}

// Provision reads one provision of the caller's workspace.
func (s *Service) Provision(ctx context.Context, c *principal.Caller, rawID string) (*storage.Provision, error) {
	id, err := ids.Parse(rawID)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourcePath, "id", "must be a UUID")
	}
	p, err := s.Store.GetProvision(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && p.WorkspaceID != c.WorkspaceID):
		return nil, apperr.New(apperr.NotFound, "no provision with this id")
	case err != nil:
		return nil, apperr.Wrap(err, "read provision")
	}
	return p, nil
}

// DeleteProvision removes a provision of the caller's workspace.
func (s *Service) DeleteProvision(ctx context.Context, c *principal.Caller, id string) error {
	p, err := s.Provision(ctx, c, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteProvision(ctx, p.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return apperr.Wrap(err, "delete provision")
	}
	return s.synced(ctx)
}

// ProvisionExists tells the credential service whether a provision exists in a workspace.
func (s *Service) ProvisionExists(ctx context.Context, workspaceID, id string) (bool, error) {
	p, err := s.Store.GetProvision(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && p.WorkspaceID == workspaceID, err
}
