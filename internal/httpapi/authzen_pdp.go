package httpapi

import (
	"net/http"
	"strings"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
)

// A PDP is where AuthZEN requests are decided. keyhold serves one per workspace, under
// /authzen/workspaces/{workspaceId} (every resource provider's types) and
// /authzen/workspaces/{workspaceId}/providers/{providerId} (that provider's types), and the
// root PDP at the base URL, which is the PDP of the asking token's workspace (and, for GRN
// resources, of any workspace the caller may ask about). Each has its metadata at
// /.well-known/authzen-configuration followed by its path (RFC 8414-style insertion, as
// AuthZEN 1.0 §9 asks).
const (
	pdpWorkspacePrefix = "/authzen/workspaces/{workspaceId}"
	pdpProviderPrefix  = pdpWorkspacePrefix + "/providers/{providerId}"
	defaultRegion      = "default"
)

// pdp is the PDP a request was sent to.
type pdp struct {
	// workspace is the canonical id of the PDP's workspace; "" for the root PDP, which uses
	// the caller's workspace for (type, id) resources and takes GRNs of any workspace.
	workspace string
	// provider, when set, is the one resource provider whose types bare type names resolve to.
	provider string
}

// pdpOf reads the PDP from the request's path. A malformed workspace id is a 404: no PDP
// lives there.
func pdpOf(r *http.Request) (pdp, error) {
	ws := r.PathValue("workspaceId")
	if ws == "" {
		return pdp{}, nil
	}
	canonical, err := ids.Parse(ws)
	if err != nil {
		return pdp{}, apperr.New(apperr.NotFound, "no policy decision point at this path")
	}
	return pdp{workspace: canonical, provider: r.PathValue("providerId")}, nil
}

// resolved is an evaluation resolved against its PDP: what the engine is asked.
type resolved struct {
	resource grn.GRN
	// provider and typ name the resource type that short action names are read against.
	provider, typ string
	// deny, when set, decides the evaluation false with this reason without asking the
	// engine (an unknown resource type or subject).
	deny string
}

// Reasons of denials that the PDP decides before the engine (keyhold's explanation codes).
const (
	denyUnknownType      = "unknown_resource_type"
	denyUnknownSubject   = "unknown_subject"
	denyAmbiguousSubject = "ambiguous_subject"
	denyInactiveSubject  = "inactive_subject"
)

// resolveResource maps the query's resource to a GRN: its GRN when it gives one (which on a
// workspace PDP must be of that workspace), else (type, id) to
// grn:glp/workspaces/<ws>/regions/default/providers/<provider>/<type>/<EscapeID(id)> with
// the type resolved among the types permissions apply to (of the PDP's provider, if any).
// An unknown type is a denial (nothing can be allowed on it), reported with the workspace
// GRN so that the caller's right to ask is still checked; a bare type that several
// providers declare is a 400.
func (a *API) resolveResource(c *principal.Caller, p pdp, q *evalQuery) (resolved, error) {
	if q.grnMember != "" {
		g := q.grn
		if p.workspace != "" && !ids.IsHexOf(g.Workspace, p.workspace) {
			return resolved{}, apperr.Field(q.grnField(), "must name a resource of this PDP's workspace")
		}
		out := resolved{resource: g, provider: g.Provider}
		if len(g.Path) > 0 {
			out.typ = g.Path[len(g.Path)-1].Type
		}
		return out, nil
	}
	ws := p.workspace
	if ws == "" {
		ws = c.WorkspaceID
	}
	wsGRN, err := grn.Workspace("", ws)
	if err != nil {
		return resolved{}, apperr.New(apperr.Forbidden, "the caller acts in no workspace")
	}
	keys := a.Authz.ResourceTypes(p.provider, q.resType)
	switch len(keys) {
	case 0:
		return resolved{resource: wsGRN, deny: denyUnknownType}, nil
	case 1:
	default:
		return resolved{}, apperr.Field("resource.type", "names a resource type of several providers (%s): send <provider>/<type> or use a provider's PDP", strings.Join(keys, ", "))
	}
	provider, typ, _ := strings.Cut(keys[0], "/")
	g := wsGRN
	g.Region, g.Provider, g.Path = defaultRegion, provider, []grn.Pair{{Type: typ, ID: grn.EscapeID(q.resID)}}
	return resolved{resource: g, provider: provider, typ: typ}, nil
}

// resolveUser finds the user a subject id names among the users that can hold assignments
// counted where w decides: by id, email or external id (identity.Directory.Find). A UUID
// the directory does not know stays that user's principal (it holds nothing there).
func (a *API) resolveUser(id string, w rbac.Where) (string, string) {
	if a.Users != nil {
		p, res := a.Users.Find(id, w.Workspace, w.MSP)
		switch res {
		case identity.Found:
			if !p.Active {
				return "", denyInactiveSubject
			}
			return p.Principal, ""
		case identity.Ambiguous:
			return "", denyAmbiguousSubject
		}
	}
	if canonical, err := ids.Parse(id); err == nil {
		return principal.User(canonical), ""
	}
	return "", denyUnknownSubject
}
