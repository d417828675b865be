package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/catalog"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

const (
	smList     = "/service-catalog/v1/service-managers"
	smOne      = "/service-catalog/v1/service-managers/{id}"
	regionList = "/service-catalog/v1/per-region-service-managers"
	regionOne  = "/service-catalog/v1/per-region-service-managers/{id}"
)

// TestServiceCatalogMatchesGreenLakeOpenAPI: the four lookups, their paging and filter, and
// their errors, each answer validated against the service-catalog document (every status
// here is one the document lists for the operation).
func TestServiceCatalogMatchesGreenLakeOpenAPI(t *testing.T) {
	doc := oamLoad(t, oamCatalogDoc)
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	obsTok := e.TokenFor(t, e.UserWithRole(t, e.Admin.WorkspaceID, rbac.RoleWorkspaceObserver))
	noRoleTok := e.TokenFor(t, e.UserWithRole(t, e.Admin.WorkspaceID, ""))
	def := catalog.Default()
	sm := def.ServiceManagers()[0].ID
	f := func(expr string) string { return "?filter=" + url.QueryEscape(expr) }
	calls := []oamCall{
		{"list", oamCatalogDoc, smList, "GET", smList, tok, nil, 200},
		{"list as observer", oamCatalogDoc, smList, "GET", smList, obsTok, nil, 200},
		{"list, a page", oamCatalogDoc, smList, "GET", smList + "?limit=2&offset=1", tok, nil, 200},
		{"list, past the end", oamCatalogDoc, smList, "GET", smList + "?offset=100", tok, nil, 200},
		{"list under v1beta1", oamCatalogDoc, smList, "GET", "/service-catalog/v1beta1/service-managers", tok, nil, 200},
		{"list, limit 0", oamCatalogDoc, smList, "GET", smList + "?limit=0", tok, nil, 400},
		{"list, limit 2001", oamCatalogDoc, smList, "GET", smList + "?limit=2001", tok, nil, 400},
		{"list, offset -1", oamCatalogDoc, smList, "GET", smList + "?offset=-1", tok, nil, 400},
		{"list, unknown parameter", oamCatalogDoc, smList, "GET", smList + "?filter=x", tok, nil, 400},
		{"list, no token", oamCatalogDoc, smList, "GET", smList, "", nil, 401},
		{"list, no role", oamCatalogDoc, smList, "GET", smList, noRoleTok, nil, 403},

		{"get", oamCatalogDoc, smOne, "GET", smList + "/" + sm, tok, nil, 200},
		{"get by 32 hex digits", oamCatalogDoc, smOne, "GET", smList + "/" + ids.Hex(sm), tok, nil, 200},
		{"get, bad id", oamCatalogDoc, smOne, "GET", smList + "/nope", tok, nil, 400},
		{"get, unknown", oamCatalogDoc, smOne, "GET", smList + "/" + ids.New(), tok, nil, 404},
		{"get, no token", oamCatalogDoc, smOne, "GET", smList + "/" + sm, "", nil, 401},
		{"get, no role", oamCatalogDoc, smOne, "GET", smList + "/" + sm, noRoleTok, nil, 403},

		{"per region", oamCatalogDoc, regionList, "GET", regionList, tok, nil, 200},
		{"per region, a page", oamCatalogDoc, regionList, "GET", regionList + "?limit=1&offset=1", tok, nil, 200},
		{"per region, the document's filter", oamCatalogDoc, regionList, "GET", regionList + f("mspSupported eq true"), tok, nil, 200},
		{"per region, the other filter", oamCatalogDoc, regionList, "GET", regionList + f("mspsupported eq false"), tok, nil, 200},
		{"per region, bad operator", oamCatalogDoc, regionList, "GET", regionList + f("mspsupported we true"), tok, nil, 400},
		{"per region, not a boolean", oamCatalogDoc, regionList, "GET", regionList + f("mspSupported eq 'yes'"), tok, nil, 400},
		{"per region, unknown property", oamCatalogDoc, regionList, "GET", regionList + f("name eq 'x'"), tok, nil, 400},
		{"per region, limit 2001", oamCatalogDoc, regionList, "GET", regionList + "?limit=2001", tok, nil, 400},
		{"per region, no token", oamCatalogDoc, regionList, "GET", regionList, "", nil, 401},
		{"per region, no role", oamCatalogDoc, regionList, "GET", regionList, noRoleTok, nil, 403},

		{"region", oamCatalogDoc, regionOne, "GET", regionList + "/us-west", tok, nil, 200},
		{"region, bad code", oamCatalogDoc, regionOne, "GET", regionList + "/US%20West", tok, nil, 400},
		{"region, unknown", oamCatalogDoc, regionOne, "GET", regionList + "/mars-north", tok, nil, 404},
		{"region, no token", oamCatalogDoc, regionOne, "GET", regionList + "/us-west", "", nil, 401},
		{"region, no role", oamCatalogDoc, regionOne, "GET", regionList + "/us-west", noRoleTok, nil, 403},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			before := auditTotal(t, e)
			resp, body := e.Do(t, c.method, c.path, c.tok, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			checkAudited(t, e, c.method, c.path, resp, body, before)
			if r := oamValidate(t, doc, c.file, c.method, c.op, c.path, resp, body, e.Base); r != "" {
				t.Errorf("validated against the error model only: %s", r)
			}
			if c.status == 400 && !strings.Contains(string(body), "filter") && !strings.Contains(string(body), "limit") &&
				!strings.Contains(string(body), "offset") && !strings.Contains(string(body), `"id"`) {
				t.Errorf("the refusal does not name what is wrong: %s", body)
			}
		})
	}
}

type catalogManagerJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	MSPSupported bool   `json:"mspSupported"`
}

type catalogRegionJSON struct {
	ID              string               `json:"id"`
	RegionName      string               `json:"regionName"`
	ServiceManagers []catalogManagerJSON `json:"serviceManagers"`
}

// TestServiceCatalogContent: what the lookups serve is the catalogue, paged and filtered as
// asked, and the same for callers of any workspace.
func TestServiceCatalogContent(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	tok := e.AdminToken(t)
	other := e.CreateWorkspace(t, "Catalog MSP", storage.WorkspaceMSP, "catalog-msp@example.test")
	otherTok := e.Token(t, other.WorkspaceID, other.ClientID, other.ClientSecret)
	def := catalog.Default()
	var page struct {
		Items                []catalogManagerJSON `json:"items"`
		Count, Offset, Total int
	}
	get := func(path, tok string, out any) string {
		t.Helper()
		resp, body := e.Do(t, http.MethodGet, path, tok, nil)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, out) != nil {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		return string(body)
	}
	get(smList+"?limit=2&offset=1", tok, &page)
	all := def.ServiceManagers()
	if page.Total != len(all) || page.Count != 2 || page.Offset != 1 || page.Items[0].ID != all[1].ID || page.Items[1].Name != all[2].Name {
		t.Fatalf("page %+v of %d", page, len(all))
	}
	var regions struct {
		Items []catalogRegionJSON `json:"items"`
		Total int
	}
	get(regionList+"?filter="+url.QueryEscape("mspSupported eq false"), tok, &regions)
	for _, r := range regions.Items {
		for _, sm := range r.ServiceManagers {
			if sm.MSPSupported {
				t.Errorf("mspSupported eq false lists %s in %s", sm.Name, r.ID)
			}
		}
		if len(r.ServiceManagers) == 0 {
			t.Errorf("a filtered list shows region %s without a match", r.ID)
		}
	}
	wantRegions := map[string]bool{}
	for _, sm := range all {
		if !sm.MSPSupported {
			for _, r := range sm.Regions {
				wantRegions[r] = true
			}
		}
	}
	if regions.Total != len(wantRegions) || len(wantRegions) == 0 {
		t.Errorf("regions with a manager not supporting MSP: %d, want %d", regions.Total, len(wantRegions))
	}
	var west catalogRegionJSON
	get(regionList+"/us-west", tok, &west)
	if reg, _ := def.Region("us-west"); west.RegionName != reg.Name || len(west.ServiceManagers) != len(def.ManagersIn("us-west")) {
		t.Errorf("us-west: %+v", west)
	}
	// Nothing of a workspace is in the catalogue: every workspace reads the same bytes.
	for _, p := range []string{smList, regionList, regionList + "/us-west", smList + "/" + all[0].ID} {
		var a, b any
		if x, y := get(p, tok, &a), get(p, otherTok, &b); x != y {
			t.Errorf("GET %s differs between workspaces:\n%s\n%s", p, x, y)
		}
	}
}

// TestServiceCatalogFromFile: an operator's catalogue replaces the built-in one for the API
// and for provisions, which accept only its managers, in their regions.
func TestServiceCatalogFromFile(t *testing.T) {
	const labSM, labOther = "5d1f0c36-5f0e-4c6e-a2e4-8d5a3c1b2f70", "6e2a1d47-6a1f-4d7f-b3f5-9e6b4d2c3a81"
	file := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(file, []byte(`regions:
  - {id: lab-1, name: Lab One}
  - {id: lab-2, name: Lab Two}
serviceManagers:
  - id: `+labSM+`
    name: Lab Manager
    description: The lab's own service.
    regions: [lab-1]
    standaloneSupported: true
  - id: `+labOther+`
    name: Lab Other
    regions: [lab-2]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := oamLoad(t, oamCatalogDoc)
	e := apptest.Start(t, app.Config{ServiceCatalogFile: file})
	tok := e.AdminToken(t)
	resp, body := e.Do(t, http.MethodGet, smList, tok, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"total":2`) || !strings.Contains(string(body), "Lab Manager") {
		t.Fatalf("the file's catalogue: %d %s", resp.StatusCode, body)
	}
	oamValidate(t, doc, oamCatalogDoc, http.MethodGet, smList, smList, resp, body, e.Base)
	const provs = "/service-catalog/v1/service-manager-provisions"
	for _, c := range []struct {
		sm, region string
		status     int
		field      string
	}{
		{labSM, "lab-1", 201, ""},
		{labSM, "lab-2", 400, "region"},
		{labSM, "us-west", 400, "region"},
		{labSM, "Lab 1", 400, "region"},
		{catalog.Default().ServiceManagers()[0].ID, "lab-1", 400, "serviceManagerId"},
		{ids.New(), "lab-1", 400, "serviceManagerId"},
		{"not-a-uuid", "lab-1", 400, "serviceManagerId"},
		{labOther, "lab-2", 201, ""},
	} {
		before := auditTotal(t, e)
		resp, body := e.Do(t, http.MethodPost, provs, tok, map[string]string{"serviceManagerId": c.sm, "region": c.region})
		if resp.StatusCode != c.status {
			t.Fatalf("provision %s in %s: %d %s, want %d", c.sm, c.region, resp.StatusCode, body, c.status)
		}
		checkAudited(t, e, http.MethodPost, provs, resp, body, before)
		if c.field != "" {
			oamWantIssue(t, "provision "+c.sm+" in "+c.region, body, "field", c.field)
		}
		oamValidate(t, doc, oamCatalogDoc, http.MethodPost, provs, provs, resp, body, e.Base)
	}
	resp, body = e.Do(t, http.MethodGet, provs, tok, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"total":2`) {
		t.Fatalf("provisions after the refusals: %d %s", resp.StatusCode, body)
	}
}

// TestServiceCatalogFileRefusedAtStart: a catalogue that does not validate stops the node
// from starting, with an error naming the member.
func TestServiceCatalogFileRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(file, []byte(`{"regions":[{"id":"lab-1","name":"Lab"}],
		"serviceManagers":[{"id":"`+ids.New()+`","name":"X","regions":["lab-9"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := app.Open(context.Background(), app.Config{DataDir: dir, ServiceCatalogFile: file})
	if err == nil || !strings.Contains(err.Error(), "--service-catalog") || !strings.Contains(err.Error(), "serviceManagers[0].regions[0]") {
		t.Fatalf("Open with a bad catalogue: %v", err)
	}
}
