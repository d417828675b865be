package rbac_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
)

// GroupsOf makes the test's tenant groups a rbac.TenantGroupLister.
func (tenantGroups) GroupsOf(tenant string) []string {
	if tenant == wsTenant {
		return []string{tenantGrp}
	}
	return nil
}

// searchUniverse is what the oracle of the search tests tries: every principal the fixture
// names (assignment subjects and group members), the single resources its assignments and
// scope groups name (what a resource search can report), and extra resources to ask about.
type searchUniverse struct {
	principals []string
	known      map[string][]string // workspace hex -> single resources named there
	perms      []string
}

func universeOf(t *testing.T, f *fixture) searchUniverse {
	t.Helper()
	ctx := context.Background()
	u := searchUniverse{known: map[string][]string{}}
	note := func(text string) {
		g, err := grn.Parse(text)
		if err != nil || g.Workspace == "" || len(g.Path) == 0 || g.Path[len(g.Path)-1].ID == grn.Wildcard ||
			g.Provider == rbac.AuthorizationProvider || g.Provider == rbac.TenantGroupProvider {
			return
		}
		if !slices.Contains(u.known[g.Workspace], g.String()) {
			u.known[g.Workspace] = append(u.known[g.Workspace], g.String())
		}
	}
	must(t, f.store.EachAssignment(ctx, func(a *storage.Assignment) error {
		if !slices.Contains(u.principals, a.Subject) {
			u.principals = append(u.principals, a.Subject)
		}
		for _, s := range a.Scopes {
			note(s)
		}
		return nil
	}))
	groups, _, err := f.store.ListScopeGroups(ctx, storage.ScopeGroupQuery{})
	must(t, err)
	for _, g := range groups {
		scopes, _, err := f.store.ListGroupScopes(ctx, g.ID, storage.Page{})
		must(t, err)
		for _, s := range scopes {
			note(s.GRN)
		}
	}
	for _, pr := range []string{principal.User(userInGroup), principal.User(userTenantAdmin), principal.User(userNobody)} {
		if !slices.Contains(u.principals, pr) {
			u.principals = append(u.principals, pr)
		}
	}
	perms, err := f.store.ListPermissions(ctx)
	must(t, err)
	for _, p := range perms {
		u.perms = append(u.perms, p.Name)
	}
	return u
}

// TestSearchMatchesDecisions holds both searches to the decisions: over every principal,
// permission and workspace of the fixture (groups, scope groups, wildcards, whole-workspace
// and platform grants, an MSP with tenants and a tenant group), a subject search confirmed by
// Decide finds exactly the principals Decide allows, and a resource search exactly the
// known resources of the type Decide allows.
func TestSearchMatchesDecisions(t *testing.T) {
	f := whereFixture(t)
	u := universeOf(t, f)
	wheres := []rbac.Where{{Workspace: wsA}, {Workspace: wsB}, {Workspace: wsMSP}, {Workspace: wsTenant, MSP: wsMSP},
		{Workspace: wsTenant2, MSP: wsMSP}}
	extra := []string{"servers/1", "servers/2", "servers/3", "servers/7", "servers/7/nics/0", "nics/4", "disks/1"}
	subjectCases, resourceCases := 0, 0
	for _, w := range wheres {
		resources := append([]string{wsGRN(w.Workspace)}, u.known[hex(w.Workspace)]...)
		for _, p := range extra {
			resources = append(resources, res(w.Workspace, p))
		}
		for _, perm := range u.perms {
			for _, r := range resources {
				checkSubjectSearch(t, f.eng, u, w, perm, r)
				subjectCases++
			}
			for _, pr := range u.principals {
				for _, rtype := range []string{"svc/servers", "svc/nics", "svc/disks"} {
					checkResourceSearch(t, f.eng, u, w, pr, perm, rtype)
					resourceCases++
				}
			}
		}
	}
	t.Logf("%d subject searches, %d resource searches checked", subjectCases, resourceCases)
}

func checkSubjectSearch(t *testing.T, e *rbac.Engine, u searchUniverse, w rbac.Where, perm, resource string) {
	t.Helper()
	r := grn.MustParse(resource)
	var want, got []string
	for _, pr := range u.principals {
		if e.Decide(w, []string{pr}, perm, r).Allowed {
			want = append(want, pr)
		}
	}
	cands := e.SubjectCandidates(w, perm, r)
	if !slices.IsSorted(cands) {
		t.Errorf("candidates not sorted: %v", cands)
	}
	for _, pr := range cands {
		if e.Decide(w, []string{pr}, perm, r).Allowed {
			got = append(got, pr)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("who may %s on %s (where %v): search %v, decisions %v", perm, resource, w, got, want)
	}
}

func checkResourceSearch(t *testing.T, e *rbac.Engine, u searchUniverse, w rbac.Where, pr, perm, rtype string) {
	t.Helper()
	var want, got []string
	for _, text := range u.known[hex(w.Workspace)] {
		r := grn.MustParse(text)
		if r.ResourceType() == rtype && e.Decide(w, []string{pr}, perm, r).Allowed {
			want = append(want, text)
		}
	}
	cands, wide := e.ResourceCandidates(w, []string{pr}, perm, rtype)
	for _, text := range cands {
		if !strings.Contains(text, hex(w.Workspace)) {
			t.Fatalf("resource search in %s reported %s of another workspace", w.Workspace, text)
		}
		if e.Decide(w, []string{pr}, perm, grn.MustParse(text)).Allowed {
			got = append(got, text)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("what may %s do %s on among %s (where %v): search %v (wide %v), decisions %v", pr, perm, rtype, w, got, wide, want)
	}
}

// TestSearchIndexFollowsChanges checks that the index follows removals and compaction: a
// removed assignment is no longer a candidate, a resource no longer named is no longer known.
func TestSearchIndexFollowsChanges(t *testing.T) {
	f := groupFixture(t)
	ctx := context.Background()
	server1 := grn.MustParse(res(wsA, "servers/1"))
	if c := f.eng.SubjectCandidates(inA, permView, server1); !slices.Contains(c, principal.User(userResource)) {
		t.Fatalf("candidates %v lack the assignment on servers/1", c)
	}
	must(t, f.store.DeleteAssignment(ctx, f.assign["resource"]))
	must(t, f.feed.Sync(ctx))
	if c := f.eng.SubjectCandidates(inA, permView, server1); slices.Contains(c, principal.User(userResource)) {
		t.Fatalf("candidates %v still hold a removed assignment", c)
	}
	got, _ := f.eng.ResourceCandidates(inA, []string{principal.User(userWhole)}, permView, "svc/servers")
	if slices.Contains(got, res(wsA, "servers/1")) {
		t.Fatalf("servers/1 is no longer named anywhere but is still known: %v", got)
	}
	// A loaded engine answers as the one built by Apply.
	e2 := f.loaded(t)
	for _, r := range []string{res(wsA, "servers/2"), res(wsA, "servers/3"), res(wsA, "nics/5")} {
		g := grn.MustParse(r)
		if a, b := f.eng.SubjectCandidates(inA, permView, g), e2.SubjectCandidates(inA, permView, g); !slices.Equal(a, b) {
			t.Errorf("%s: applied %v, loaded %v", r, a, b)
		}
	}
}

// TestResourceSearchReportsWideGrants checks that grants wider than single resources come
// back as scopes: the whole workspace, a wildcard.
func TestResourceSearchReportsWideGrants(t *testing.T) {
	f := groupFixture(t)
	_, wide := f.eng.ResourceCandidates(inA, []string{principal.User(userWhole)}, permView, "svc/servers")
	if !slices.Equal(wide, []string{wsGRN(wsA)}) {
		t.Errorf("whole workspace: wide %v", wide)
	}
	_, wide = f.eng.ResourceCandidates(inA, []string{principal.User(userWildcard)}, permView, "svc/servers")
	if !slices.Equal(wide, []string{res(wsA, "servers/*")}) {
		t.Errorf("wildcard: wide %v", wide)
	}
	got, wide := f.eng.ResourceCandidates(inA, []string{principal.User(userScoped)}, permView, "svc/nics")
	if !slices.Equal(wide, []string{res(wsA, "nics/*"), res(wsA, "servers/3")}) || len(got) != 0 {
		t.Errorf("scope group: resources %v wide %v", got, wide)
	}
	// Another workspace's principal, or a question about a permission nobody can hold on the type.
	if got, wide := f.eng.ResourceCandidates(rbac.Where{Workspace: wsB}, []string{principal.User(userWhole)}, permView, "svc/servers"); len(got)+len(wide) != 0 {
		t.Errorf("in B: %v %v", got, wide)
	}
	if got, wide := f.eng.ResourceCandidates(inA, []string{principal.User(userWhole)}, permDisksOnly, "svc/servers"); len(got)+len(wide) != 0 {
		t.Errorf("not applicable: %v %v", got, wide)
	}
}
