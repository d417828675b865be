package httpapi

import (
	"net/http"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/catalog"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/odata"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/storage"
)

// The service catalogue, read-only: service managers and where each is available.
const (
	serviceManagersPath = "/service-catalog/v1/service-managers"
	perRegionPath       = "/service-catalog/v1/per-region-service-managers"
	serviceManagerType  = "/service-catalog/service-manager"
)

// pagingCatalog is how the catalogue's lists page, as the document gives it.
var pagingCatalog = pagingSpec{def: 2000, max: 2000}

// catalogRoutes serves both prefixes, as provisions do. (The loop variable's name is unique
// in the package: the isolation matrix reads route patterns from this source.)
func (a *API) catalogRoutes() {
	for _, catalogBase := range []string{"/service-catalog/v1", "/service-catalog/v1beta1"} {
		a.route("GET "+catalogBase+"/service-managers", permCatalogView, a.listServiceManagers)
		a.route("GET "+catalogBase+"/service-managers/{id}", permCatalogView, a.getServiceManager)
		a.route("GET "+catalogBase+"/per-region-service-managers", permCatalogView, a.listPerRegion)
		a.route("GET "+catalogBase+"/per-region-service-managers/{id}", permCatalogView, a.getRegion)
	}
}

const permCatalogView = "glp.service-catalog.view"

type serviceManagerJSON struct {
	ID                         string `json:"id"`
	Type                       string `json:"type"`
	ResourceURI                string `json:"resourceUri"`
	Name                       string `json:"name"`
	Description                string `json:"description"`
	StandaloneSupported        bool   `json:"standaloneSupported"`
	MSPSupported               bool   `json:"mspSupported"`
	MSPOnlySupported           bool   `json:"mspOnlySupported"`
	TenantOnlySupported        bool   `json:"tenantOnlySupported"`
	HonorUnprovisionResponse   bool   `json:"honorUnprovisionResponse"`
	WorkspaceTransferSupported bool   `json:"workspaceTransferSupported"`
	WorkspaceOpModesSupported  string `json:"workspaceOpModesSupported,omitempty"`
	Generation                 int64  `json:"generation"`
	CreatedAt                  string `json:"createdAt"`
	UpdatedAt                  string `json:"updatedAt"`
}

func serviceManagerOut(sm *catalog.ServiceManager) serviceManagerJSON {
	return serviceManagerJSON{ID: sm.ID, Type: serviceManagerType, ResourceURI: serviceManagersPath + "/" + sm.ID,
		Name: sm.Name, Description: sm.Description, StandaloneSupported: sm.StandaloneSupported,
		MSPSupported: sm.MSPSupported, MSPOnlySupported: sm.MSPOnlySupported, TenantOnlySupported: sm.TenantOnlySupported,
		HonorUnprovisionResponse: sm.HonorUnprovisionResponse, WorkspaceTransferSupported: sm.WorkspaceTransferSupported,
		WorkspaceOpModesSupported: sm.WorkspaceOpModesSupported, Generation: sm.Generation,
		CreatedAt: timestamp(sm.CreatedAt), UpdatedAt: timestamp(sm.UpdatedAt)}
}

type regionJSON struct {
	ID              string               `json:"id"`
	Type            string               `json:"type"`
	RegionName      string               `json:"regionName"`
	ServiceManagers []serviceManagerJSON `json:"serviceManagers"`
	Generation      int64                `json:"generation"`
}

// regionOut is a region with the managers available there that keep passes. A region's
// generation is the highest of its managers' (1 when it has none).
func regionOut(c *catalog.Catalog, r *catalog.Region, keep func(*catalog.ServiceManager) bool) regionJSON {
	out := regionJSON{ID: r.ID, Type: serviceManagerType, RegionName: r.Name, ServiceManagers: []serviceManagerJSON{}, Generation: 1}
	for _, sm := range c.ManagersIn(r.ID) {
		out.Generation = max(out.Generation, sm.Generation)
		if keep(sm) {
			out.ServiceManagers = append(out.ServiceManagers, serviceManagerOut(sm))
		}
	}
	return out
}

// window is the page p of n items: the bounds of a slice.
func window(n int, p storage.Page) (int, int) {
	lo := min(p.Offset, n)
	return lo, min(lo+p.Limit, n)
}

func (a *API) listServiceManagers(w http.ResponseWriter, r *http.Request, _ *principal.Caller) {
	p, _, ok := a.pageOf(w, r, pagingCatalog)
	if !ok {
		return
	}
	all := a.Catalog.ServiceManagers()
	lo, hi := window(len(all), p)
	items := make([]serviceManagerJSON, 0, hi-lo)
	for i := lo; i < hi; i++ {
		items = append(items, serviceManagerOut(&all[i]))
	}
	writeJSON(w, http.StatusOK, listBody(items, p.Offset, len(all)))
}

func (a *API) getServiceManager(w http.ResponseWriter, r *http.Request, _ *principal.Caller) {
	id, err := ids.Parse(r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, apperr.Invalid(apperr.SourcePath, "id", "must be a UUID"))
		return
	}
	sm, ok := a.Catalog.ServiceManager(id)
	if !ok {
		a.writeError(w, r, apperr.New(apperr.NotFound, "no service manager with this id in the service catalogue"))
		return
	}
	writeJSON(w, http.StatusOK, serviceManagerOut(sm))
}

// catalogFilter is what the per-region list accepts in filter: whether a manager supports
// MSP workspaces (mspsupported, as the document's messages spell it, too). The columns are
// never used in SQL: the catalogue is matched in memory.
var catalogFilter = odata.NewSchema(
	odata.Property{Name: "mspSupported", Column: "msp_supported", Kind: odata.Bool, Ops: []odata.Op{odata.Eq, odata.Ne}},
	odata.Property{Name: "mspsupported", Column: "msp_supported", Kind: odata.Bool, Ops: []odata.Op{odata.Eq, odata.Ne}},
)

// managerFilter compiles a filter into a test of one manager, or a 400 naming filter.
func managerFilter(filter string) (func(*catalog.ServiceManager) bool, error) {
	if strings.TrimSpace(filter) == "" {
		return nil, nil
	}
	if _, err := catalogFilter.Compile(filter); err != nil {
		return nil, apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
	}
	expr, err := odata.Parse(filter)
	if err != nil {
		return nil, apperr.Invalid(apperr.SourceQuery, "filter", err.Error())
	}
	return func(sm *catalog.ServiceManager) bool {
		ok, _ := catalogFilter.Match(expr, func(string) any { return sm.MSPSupported })
		return ok
	}, nil
}

// listPerRegion lists the regions with the managers available in each. With a filter, only
// the matching managers are listed, and only regions that have one.
func (a *API) listPerRegion(w http.ResponseWriter, r *http.Request, _ *principal.Caller) {
	p, filter, ok := a.pageOf(w, r, pagingCatalog, "filter")
	if !ok {
		return
	}
	keep, err := managerFilter(filter)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	all := []regionJSON{}
	regions := a.Catalog.Regions()
	for i := range regions {
		if keep == nil {
			all = append(all, regionOut(a.Catalog, &regions[i], func(*catalog.ServiceManager) bool { return true }))
		} else if out := regionOut(a.Catalog, &regions[i], keep); len(out.ServiceManagers) > 0 {
			all = append(all, out)
		}
	}
	lo, hi := window(len(all), p)
	writeJSON(w, http.StatusOK, listBody(all[lo:hi], p.Offset, len(all)))
}

func (a *API) getRegion(w http.ResponseWriter, r *http.Request, _ *principal.Caller) {
	code := r.PathValue("id")
	if !catalog.ValidRegionCode(code) {
		a.writeError(w, r, apperr.Invalid(apperr.SourcePath, "id", "must be a region code such as us-west (lower-case letters, digits, -)"))
		return
	}
	reg, ok := a.Catalog.Region(code)
	if !ok {
		a.writeError(w, r, apperr.New(apperr.NotFound, "no region with this code in the service catalogue"))
		return
	}
	writeJSON(w, http.StatusOK, regionOut(a.Catalog, reg, func(*catalog.ServiceManager) bool { return true }))
}
