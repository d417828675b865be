package rbac

import (
	"slices"
	"strings"

	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
)

// TenantGroupLister lists the tenant groups that hold a tenant. The engine's Groups may
// implement it (workspace.TenantGroups does); without it, a subject search does not find the
// MSP assignments that reach a tenant through a tenant group.
type TenantGroupLister interface {
	GroupsOf(tenantID string) []string
}

// SubjectCandidates lists, sorted, the principals that may hold permission on resource through
// the assignments w names (AuthZEN's subject search): the subjects of the assignments whose
// role holds the permission and whose scope covers the resource (the platform, the resource's
// workspace, the resource or one of its parents, a wildcard over one of those, a scope group
// of the resource's workspace that covers it) and, for a resource of an MSP tenant, the MSP's
// assignments that reach the tenant; and the members of every user group among them. It reads
// only the index lists of those scopes, never every assignment.
//
// Candidates are not decisions: a fixed-scope permission, a group's assignment that counts
// only for its members, a condition, may still deny. Callers confirm each candidate with the
// decision they would evaluate (so that a search never reports what an evaluation denies).
func (e *Engine) SubjectCandidates(w Where, permission string, resource grn.GRN) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.perms[permission]
	if !ok || resource.IsZero() || w.Workspace == "" {
		return nil
	}
	if rtype := resource.ResourceType(); rtype != "" && !slices.Contains(p.types, rtype) {
		return nil
	}
	in := e.resolve(w, e.Groups)
	found := map[strID]struct{}{}
	for _, text := range coveringTexts(resource) {
		e.collectSubjects(found, text, in.ws, permission)
	}
	if resource.Workspace != "" {
		e.collectGroupScopes(found, &in, permission, resource)
	}
	if in.msp != 0 && ids.IsHexOf(resource.Workspace, in.tenant) {
		e.collectMSP(found, &in, w.MSP, permission)
	}
	return e.expandGroups(found)
}

// collectSubjects adds the subjects of the assignments made in ws that name text as a scope
// and whose role holds permission.
func (v *view) collectSubjects(found map[strID]struct{}, text string, ws strID, permission string) {
	id, ok := v.strs.find(text)
	if !ok || ws == 0 {
		return
	}
	for s := v.strs.ents[id].shead; s != 0; s = v.links[s-1].next {
		a := &v.recs[v.links[s-1].rec]
		if a.ws != ws {
			continue
		}
		if r, ok := v.roles[a.role]; ok && r.has(permission) {
			found[a.subject] = struct{}{}
		}
	}
}

// collectGroupScopes adds the subjects of assignments naming a scope group of the resource's
// workspace one of whose scopes covers the resource.
func (v *view) collectGroupScopes(found map[strID]struct{}, in *where, permission string, resource grn.GRN) {
	ws, ok := v.strs.find(resource.Workspace)
	if !ok {
		return
	}
	for _, gid := range v.wsGroups[ws] {
		for _, s := range v.scopeGroups[gid].scopes {
			if grn.CoversText(v.strs.str(s.text), resource) {
				v.collectSubjects(found, ScopeGroupGRN(resource.Workspace, v.strs.str(gid)), in.ws, permission)
				break
			}
		}
	}
}

// collectMSP adds the subjects of the MSP's assignments that reach the tenant: those on the
// MSP's whole workspace and on its tenant groups that hold the tenant.
func (v *view) collectMSP(found map[strID]struct{}, in *where, msp, permission string) {
	whole, err := grn.Workspace(grn.DefaultPlatform, msp)
	if err != nil {
		return
	}
	v.collectSubjects(found, whole.String(), in.msp, permission)
	if l, ok := in.groups.(TenantGroupLister); ok {
		for _, g := range l.GroupsOf(in.tenant) {
			v.collectSubjects(found, TenantGroupGRN(msp, g), in.msp, permission)
		}
	}
}

// expandGroups returns the principals found, with the members of the user groups among them,
// sorted.
func (v *view) expandGroups(found map[strID]struct{}) []string {
	out := make([]string, 0, len(found))
	seen := make(map[strID]struct{}, len(found))
	add := func(id strID) {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, v.strs.str(id))
		}
	}
	for id := range found {
		add(id)
		for _, u := range v.groupUsers[id] {
			add(u)
		}
	}
	slices.Sort(out)
	return out
}

// coveringTexts lists the canonical texts of every scope that can cover resource: the
// platform, its workspace, and each prefix of its path with the last id as given or as the
// wildcard.
func coveringTexts(r grn.GRN) []string {
	out := []string{grn.Platform(r.Platform).String()}
	if ws := r.WorkspaceGRN(); !ws.IsZero() {
		out = append(out, ws.String())
	}
	for k := 1; k <= len(r.Path); k++ {
		c := r
		c.Path = slices.Clone(r.Path[:k])
		out = append(out, c.String())
		if c.Path[k-1].ID != grn.Wildcard {
			c.Path[k-1].ID = grn.Wildcard
			out = append(out, c.String())
		}
	}
	return out
}

// ResourceCandidates lists what principals (and their user groups) may do permission on,
// among the resources of type rtype ("<provider>/<type>") of the workspace w names (AuthZEN's
// resource search). resources are the single resources, sorted: those an assignment or its
// scope group names, and the known resources of the type (named by any assignment or scope
// group of the workspace) that a wider grant covers. wide are the scopes of those wider grants
// (the platform, the whole workspace, a wildcard or a parent resource, an MSP grant reaching a
// tenant as the tenant's whole workspace), sorted: they cover every resource of the type under
// them, including resources keyhold has never heard of. It reads only the principals'
// assignments and the workspace's known resources of the type.
//
// As with SubjectCandidates, each resource is a candidate to confirm with a decision.
func (e *Engine) ResourceCandidates(w Where, principals []string, permission, rtype string) (resources, wide []string) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.perms[permission]
	if !ok || w.Workspace == "" || !slices.Contains(p.types, rtype) {
		return nil, nil
	}
	rs := resourceSearch{view: e.view, in: e.resolve(w, e.Groups), permission: permission, rtype: rtype,
		want: knownKeyOf(ids.Hex(w.Workspace), rtype), found: map[strID]struct{}{}, wide: map[string]struct{}{}}
	rs.provider, _, _ = strings.Cut(rtype, "/")
	for _, pr := range principals {
		id, ok := e.strs.find(pr)
		if !ok {
			continue
		}
		rs.visit(id, true)
		for _, g := range e.memberOf[id] {
			rs.visit(g, false) // MSP assignments count for the principals themselves only
		}
	}
	return rs.results()
}

// resourceSearch is one ResourceCandidates under the read lock.
type resourceSearch struct {
	*view
	in                          where
	permission, rtype, provider string
	want                        knownKey
	found                       map[strID]struct{}
	wide                        map[string]struct{}
}

// visit classifies the scopes of subject's assignments that count here and grant permission.
func (rs *resourceSearch) visit(subject strID, external bool) {
	for i := rs.firstOf(subject); i != 0; i = rs.recs[i].next {
		a := &rs.recs[i]
		local := a.ws == rs.in.ws && rs.in.ws != 0
		ext := external && rs.in.msp != 0 && a.ws == rs.in.msp
		if !local && !ext {
			continue
		}
		if r, ok := rs.roles[a.role]; !ok || !r.has(rs.permission) {
			continue
		}
		for _, s := range rs.scopesOf(a) {
			switch {
			case ext && rs.reaches(rs.in.groups, s, rs.strs.str(a.ws), rs.in.tenant):
				whole, _ := grn.Workspace(grn.DefaultPlatform, rs.in.tenant)
				rs.wide[whole.String()] = struct{}{}
			case local:
				rs.classify(s, true)
			}
		}
	}
}

// classify files one scope: a single resource of the type searched, or a wider grant that may
// cover resources of it. A scope group stands for its scopes (one level: groups hold no groups).
func (rs *resourceSearch) classify(s scopeRef, expandGroup bool) {
	text := rs.strs.str(s.text)
	switch s.kind {
	case scopeScopeGroup:
		if !expandGroup {
			return
		}
		id, ok := rs.strs.find(text[s.last:])
		if g, found := rs.scopeGroups[id]; ok && found && rs.strs.str(g.workspace) == s.workspaceOf(text) {
			for _, gs := range g.scopes {
				rs.classify(gs, false)
			}
		}
	case scopeWorkspace, scopePlatform:
		rs.wide[text] = struct{}{}
	case scopeTenantGroup:
		if rs.rtype == TenantGroupProvider+"/"+TenantGroupType {
			rs.found[s.text] = struct{}{}
		}
	case scopeResource:
		if key, _, ok := rs.knownOf(s); ok && key == rs.want {
			rs.found[s.text] = struct{}{}
		} else if providerOf(text) == rs.provider {
			rs.wide[text] = struct{}{} // a wildcard, or a resource that may hold resources of the type
		}
	}
}

// providerOf returns the provider segment of a canonical resource GRN's text.
func providerOf(text string) string {
	_, rest, ok := strings.Cut(text, "/providers/")
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, "/")
	return p
}

// results expands the wide grants over the known resources of the type and sorts both lists.
func (rs *resourceSearch) results() (resources, wide []string) {
	for text := range rs.wide {
		wide = append(wide, text)
	}
	slices.Sort(wide)
	for _, id := range rs.known[rs.want] {
		if _, ok := rs.found[id]; ok {
			continue
		}
		r := rs.strs.str(id)
		for _, w := range wide {
			if coversText(w, r) {
				rs.found[id] = struct{}{}
				break
			}
		}
	}
	resources = make([]string, 0, len(rs.found))
	for id := range rs.found {
		resources = append(resources, rs.strs.str(id))
	}
	slices.Sort(resources)
	return resources, wide
}

// coversText reports whether canonical scope text covers canonical resource text r: the
// platform root covers what is on its platform, a whole workspace or a resource what lies
// under it, a wildcard what lies under its type. Texts being canonical, this is a prefix test
// that answers as grn.Covers; the decision that confirms each candidate is the authority.
func coversText(scope, r string) bool {
	if w, ok := strings.CutSuffix(scope, "/*"); ok {
		return strings.HasPrefix(r, w+"/")
	}
	return r == scope || strings.HasPrefix(r, scope+"/")
}
