package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
)

type listedAssignment struct {
	ID      string   `json:"id"`
	Subject string   `json:"subject"`
	Scope   []string `json:"scope"`
	Source  string   `json:"source"`
}

// A tenant's assignment list shows the MSP assignments that reach it, after its own, as
// EXTERNAL on the tenant's whole workspace (where they apply), read-only; a tenant they do not
// reach does not see them, and the MSP sees them as its own.
func TestTenantListsTheMSPsAssignmentsAsExternal(t *testing.T) {
	w := newMSPWorld(t, app.Config{})
	e := w.e
	const base = "/authorization/v2alpha2/role-assignments"
	list := func(tok, query string) ([]listedAssignment, int) {
		t.Helper()
		resp, body := e.Do(t, http.MethodGet, base+query, tok, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, resp.StatusCode, body)
		}
		var out struct {
			Items []listedAssignment
			Total int
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		return out.Items, out.Total
	}
	// A tenant group holding t1 only, and an MSP user observing it.
	resp, body := e.Do(t, http.MethodPost, "/workspaces/v1beta1/groups", w.mspToken, map[string]string{"name": "emea", "groupType": "TenantGroup"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create group: %d %s", resp.StatusCode, body)
	}
	var g struct{ ID, GRN string }
	_ = json.Unmarshal(body, &g)
	if resp, body := e.Do(t, http.MethodPost, "/workspaces/v1beta1/groups/"+g.ID+"/group-workspaces", w.mspToken, map[string]string{"workspaceId": w.t1}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("add t1 to the group: %d %s", resp.StatusCode, body)
	}
	u := e.UserWithRole(t, w.msp, "")
	viaGroup := e.Assign(t, w.msp, apptest.UserPrincipal(u.UserID), rbac.RoleWorkspaceObserver, g.GRN)
	local := e.Assign(t, w.t1, apptest.UserPrincipal(ids.New()), rbac.RoleWorkspaceObserver, "grn:glp/workspaces/"+ids.Hex(w.t1))

	mspOwn, _ := list(w.mspToken, "")
	var admin listedAssignment // the MSP administrator's assignment on the MSP workspace
	for _, a := range mspOwn {
		if a.Source != rbac.SourceLocal {
			t.Errorf("the MSP's own list holds %v", a)
		}
		if a.Subject == apptest.UserPrincipal(w.mspAdminUser) {
			admin = a
		}
	}
	if admin.ID == "" {
		t.Fatalf("the MSP administrator's assignment is not in %v", mspOwn)
	}

	t1Tok, t2Tok := tenantTokenOf(t, e, w.t1, w.mspToken), tenantTokenOf(t, e, w.t2, w.mspToken)
	t1Scope := "grn:glp/workspaces/" + ids.Hex(w.t1)
	items, total := list(t1Tok, "")
	if total != 3 || len(items) != 3 || items[0].ID != local || items[0].Source != rbac.SourceLocal {
		t.Fatalf("t1 lists %d of %d: %+v; want its own first, then two EXTERNAL", len(items), total, items)
	}
	external := []string{items[1].ID, items[2].ID}
	slices.Sort(external)
	want := []string{admin.ID, viaGroup}
	slices.Sort(want)
	if !slices.Equal(external, want) {
		t.Errorf("t1's external assignments %v, want %v", external, want)
	}
	for _, a := range items[1:] {
		if a.Source != rbac.SourceExternal || !slices.Equal(a.Scope, []string{t1Scope}) {
			t.Errorf("external assignment as t1 sees it: %+v", a)
		}
	}
	// Paging runs across both.
	var paged []string
	for off := 0; off < 4; off++ {
		page, n := list(t1Tok, "?limit=1&offset="+strconv.Itoa(off))
		if n != 3 || (off < 3) != (len(page) == 1) {
			t.Fatalf("page at %d: %d items of %d", off, len(page), n)
		}
		for _, a := range page {
			paged = append(paged, a.ID)
		}
	}
	if !slices.Equal(paged, []string{items[0].ID, items[1].ID, items[2].ID}) {
		t.Errorf("paged %v, listed %v", paged, items)
	}
	// Filters narrow them as they narrow the tenant's own.
	filter := func(f string) string { return "?filter=" + url.QueryEscape(f) }
	if got, _ := list(t1Tok, filter("subject in ('"+apptest.UserPrincipal(u.UserID)+"')")); len(got) != 1 || got[0].ID != viaGroup {
		t.Errorf("subject filter: %+v", got)
	}
	if got, _ := list(t1Tok, filter("scope in ('"+g.GRN+"')")); len(got) != 0 {
		t.Errorf("the MSP's tenant-group scope is not the tenant's to filter on: %+v", got)
	}
	if got, n := list(t1Tok, filter("scope in ('"+t1Scope+"')")); n != 3 || len(got) != 3 {
		t.Errorf("scope filter on the tenant's workspace: %d of %d", len(got), n)
	}
	// t2 is reached only through the MSP workspace.
	if got, n := list(t2Tok, ""); n != 1 || len(got) != 1 || got[0].ID != admin.ID || got[0].Source != rbac.SourceExternal {
		t.Errorf("t2 lists %+v (total %d), want only the administrator's, EXTERNAL", got, n)
	}
	// Read-only and not the tenant's: by id they are not found, and cannot be changed.
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		if got := status(t, e, m, base+"/"+viaGroup, t1Tok, nil); got != http.StatusNotFound {
			t.Errorf("%s of an external assignment from t1: %d, want 404", m, got)
		}
	}
	// Another MSP's tenant sees none of them.
	sib := tenantTokenOf(t, e, w.siblingTen, w.siblingToken)
	for _, a := range func() []listedAssignment { got, _ := list(sib, ""); return got }() {
		if a.ID == admin.ID || a.ID == viaGroup {
			t.Errorf("another MSP's tenant sees %+v", a)
		}
	}
}

func tenantTokenOf(t *testing.T, e *apptest.Env, ws, mspToken string) string {
	t.Helper()
	resp, body := e.Exchange(t, ws, mspToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange into %s: %d %s", ws, resp.StatusCode, body)
	}
	return accessToken(t, body)
}
