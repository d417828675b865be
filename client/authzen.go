package client

import (
	"context"
	"iter"
	"net/http"
)

// Subject is an AuthZEN subject: Type "user" (ID a user id, email or external id),
// "user-group", "api-client", or keyhold's "token" (ID an access token).
type Subject struct {
	Type       string         `json:"type"`
	ID         string         `json:"id,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Resource is an AuthZEN resource: ID a GRN, or Type "<provider>/<type>" and any ID.
type Resource struct {
	Type       string         `json:"type"`
	ID         string         `json:"id,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Action is an AuthZEN action: Name a permission's full or short name.
type Action struct {
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Evaluation is one access request.
type Evaluation struct {
	Subject  *Subject       `json:"subject,omitempty"`
	Action   *Action        `json:"action,omitempty"`
	Resource *Resource      `json:"resource,omitempty"`
	Context  map[string]any `json:"context,omitempty"`
}

// Decision is an AuthZEN answer. With Explain, Context["reason"] says which assignment
// allowed it, or the code of a denial.
type Decision struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context,omitempty"`
}

// ReasonCode is the code of a denial's reason ("no_matching_assignment", ...), when the
// decision was explained; "" otherwise.
func (d *Decision) ReasonCode() string {
	r, _ := d.Context["reason"].(map[string]any)
	code, _ := r["code"].(string)
	return code
}

// Evaluations is a batch: top-level Subject, Action, Resource and Context are the defaults
// of each item. Semantic is "execute_all" (default), "deny_on_first_deny" or
// "permit_on_first_permit".
type Evaluations struct {
	Evaluation
	Items    []Evaluation
	Semantic string
}

// AuthZENOptions chooses the PDP and asks for explanations.
type AuthZENOptions struct {
	// PDP is the path of the policy decision point: "" for keyhold's root PDP, or
	// WorkspacePDP(...) / ProviderPDP(...).
	PDP string
	// Explain asks for the reason of each decision (header Keyhold-Explain: true).
	Explain bool
}

// WorkspacePDP is the path of a workspace's PDP.
func WorkspacePDP(workspaceID string) string { return "/authzen/workspaces/" + escape(workspaceID) }

// ProviderPDP is the path of a provider's PDP in a workspace.
func ProviderPDP(workspaceID, providerID string) string {
	return WorkspacePDP(workspaceID) + "/providers/" + escape(providerID)
}

func (o *AuthZENOptions) prefix() (string, http.Header) {
	if o == nil {
		return "", nil
	}
	var h http.Header
	if o.Explain {
		h = http.Header{"Keyhold-Explain": {"true"}}
	}
	return o.PDP, h
}

// Evaluate asks for one decision. The caller needs glp.authorization.view in the resource's
// workspace (403 otherwise).
func (c *Client) Evaluate(ctx context.Context, e Evaluation, opts *AuthZENOptions) (*Decision, error) {
	pdp, h := opts.prefix()
	var out Decision
	if _, err := c.do(ctx, request{method: http.MethodPost, path: pdp + "/access/v1/evaluation", body: e, header: h, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// EvaluateBatch asks for several decisions, answered in order. An item that is malformed or
// not the caller's to ask about is a false decision with Context["error"].
func (c *Client) EvaluateBatch(ctx context.Context, b Evaluations, opts *AuthZENOptions) ([]Decision, error) {
	pdp, h := opts.prefix()
	body := map[string]any{"evaluations": b.Items}
	if b.Items == nil {
		body["evaluations"] = []Evaluation{}
	}
	if b.Subject != nil {
		body["subject"] = b.Subject
	}
	if b.Action != nil {
		body["action"] = b.Action
	}
	if b.Resource != nil {
		body["resource"] = b.Resource
	}
	if b.Context != nil {
		body["context"] = b.Context
	}
	if b.Semantic != "" {
		body["options"] = map[string]string{"evaluations_semantic": b.Semantic}
	}
	var out struct {
		Evaluations []Decision `json:"evaluations"`
	}
	if _, err := c.do(ctx, request{method: http.MethodPost, path: pdp + "/access/v1/evaluations", body: body, header: h, out: &out}); err != nil {
		return nil, err
	}
	return out.Evaluations, nil
}

// Search is an AuthZEN search request. For an action search give Subject and Resource; for
// a subject search Subject.Type, Action and Resource; for a resource search Subject, Action
// and Resource.Type.
type Search struct {
	Subject  *Subject
	Action   *Action
	Resource *Resource
	Context  map[string]any
	// PageSize is page.limit (1 to 1000; 0: keyhold's 100).
	PageSize int
}

// SearchResult is one result of a search: an action (Name), or a subject or resource (Type,
// ID).
type SearchResult struct {
	Type       string         `json:"type,omitempty"`
	ID         string         `json:"id,omitempty"`
	Name       string         `json:"name,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// SearchPage is one page of a search's answer. Context of a resource search carries
// "wildcard_scopes", the grants under which the subject may act on every resource of the
// type.
type SearchPage struct {
	Page struct {
		NextToken string `json:"next_token"`
		Count     int    `json:"count"`
	} `json:"page"`
	Results []SearchResult `json:"results"`
	Context map[string]any `json:"context,omitempty"`
}

// Search kinds, the last segment of the search endpoints.
const (
	SearchActions   = "action"
	SearchSubjects  = "subject"
	SearchResources = "resource"
)

// SearchPageOf fetches one page of a search (kind SearchActions, SearchSubjects or
// SearchResources); token is "" for the first page, then the previous page's NextToken.
func (c *Client) SearchPageOf(ctx context.Context, kind string, s Search, token string, opts *AuthZENOptions) (*SearchPage, error) {
	pdp, h := opts.prefix()
	body := map[string]any{}
	if s.Subject != nil {
		body["subject"] = s.Subject
	}
	if s.Action != nil {
		body["action"] = s.Action
	}
	if s.Resource != nil {
		body["resource"] = s.Resource
	}
	if s.Context != nil {
		body["context"] = s.Context
	}
	page := map[string]any{}
	if s.PageSize > 0 {
		page["limit"] = s.PageSize
	}
	if token != "" {
		page["token"] = token
	}
	if len(page) > 0 {
		body["page"] = page
	}
	var out SearchPage
	if _, err := c.do(ctx, request{method: http.MethodPost, path: pdp + "/access/v1/search/" + kind, body: body, header: h, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// SearchAll iterates over every result of a search, page after page (kind SearchActions,
// SearchSubjects or SearchResources). Results that exist throughout are returned exactly
// once, whatever changes in between (keyhold's page tokens hold the last key returned).
func (c *Client) SearchAll(ctx context.Context, kind string, s Search, opts *AuthZENOptions) iter.Seq2[SearchResult, error] {
	return func(yield func(SearchResult, error) bool) {
		token := ""
		for {
			p, err := c.SearchPageOf(ctx, kind, s, token, opts)
			if err != nil {
				yield(SearchResult{}, err)
				return
			}
			for _, r := range p.Results {
				if !yield(r, nil) {
					return
				}
			}
			if p.Page.NextToken == "" {
				return
			}
			token = p.Page.NextToken
		}
	}
}
