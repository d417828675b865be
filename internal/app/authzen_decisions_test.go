package app_test

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
)

// decisionWorld is everything the decision table needs, made through the API.
type decisionWorld struct {
	*iamWorld
	role                                   string // custom role: view, power, legacy
	direct, grouped, wild, whole, inGroup  string // user ids
	scoped, owner, nobody                  string
	group, scopeGroup, scopeGroupGRN       string
	client, clientSecret, clientOwnGrant   string // owner's credential; a credential with its own assignment
	assignDirect, assignGroup, assignScope string
	sgScope                                string // id of servers/3 in the scope group
}

func newDecisionWorld(t *testing.T) *decisionWorld {
	t.Helper()
	w := &decisionWorld{iamWorld: newIAMWorldWith(t, app.Config{SyncInterval: time.Hour})}
	w.role = w.customRole(t, w.admin, "Servers", permView, permPower, permLegacy)
	for _, u := range []*string{&w.direct, &w.grouped, &w.wild, &w.whole, &w.inGroup, &w.scoped, &w.owner, &w.nobody} {
		*u = w.member(t, w.admin, newEmail())
	}
	w.assignDirect = w.assign(t, w.admin, "user:"+w.direct, w.role, res(w.ws, "servers/1"))
	w.assign(t, w.admin, "user:"+w.wild, w.role, res(w.ws, "servers/*"))
	w.assign(t, w.admin, "user:"+w.whole, w.role, wsGRN(w.ws))
	w.assign(t, w.admin, "user:"+w.owner, w.role, res(w.ws, "servers/4"))

	w.group = object(t, w.call(t, http.MethodPost, "/identity/v1/user-groups", w.admin,
		map[string]any{"name": "operators"}, http.StatusCreated))["id"].(string)
	w.call(t, http.MethodPost, "/identity/v1/user-groups/"+w.group+"/members", w.admin,
		map[string]any{"userId": w.inGroup}, http.StatusCreated)
	w.assignGroup = w.assign(t, w.admin, "user-group:"+w.group, w.role, res(w.ws, "servers/2"))

	sg := object(t, w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups", w.admin,
		map[string]any{"name": "lab"}, http.StatusCreated))
	w.scopeGroup, w.scopeGroupGRN = sg["id"].(string), sg["grn"].(string)
	added := object(t, w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups/"+w.scopeGroup+"/scopes/batch", w.admin,
		map[string]any{"items": []map[string]string{{"grn": res(w.ws, "servers/3"), "description": "lab server"},
			{"grn": res(w.ws, "nics/*"), "description": "every nic"}}}, http.StatusOK))
	w.sgScope = added["successes"].([]any)[0].(map[string]any)["id"].(string)
	w.assignScope = w.assign(t, w.admin, "user:"+w.scoped, w.role, w.scopeGroupGRN)

	cred := object(t, w.call(t, http.MethodPost, "/workspaces/v1/credentials", w.admin,
		map[string]any{"credentialName": "owned", "ownerId": w.owner}, http.StatusCreated))
	w.client, w.clientSecret = cred["clientId"].(string), cred["clientSecret"].(string)
	own := object(t, w.call(t, http.MethodPost, "/workspaces/v1/credentials", w.admin,
		map[string]any{"credentialName": "own-grant", "ownerId": w.nobody}, http.StatusCreated))
	w.clientOwnGrant = own["clientId"].(string)
	w.assign(t, w.admin, "api-client:"+w.clientOwnGrant, w.role, res(w.ws, "servers/5"))
	return w
}

var emailSeq atomic.Int64

// newEmail returns an address no other call returns.
func newEmail() string {
	return "user" + strconv.FormatInt(emailSeq.Add(1), 10) + "@example.test"
}

func TestDecisionTable(t *testing.T) {
	w := newDecisionWorld(t)
	tok := w.e.Token(t, w.ws, w.client, w.clientSecret)
	group := map[string]string{"type": "user-group", "id": w.group}
	client := func(id string) map[string]string { return map[string]string{"type": "api-client", "id": id} }
	bearer := map[string]string{"type": "token", "id": tok}
	cases := []struct {
		name     string
		subject  map[string]string
		action   string
		resource string
		allowed  bool
		// checked when allowed
		principal, scopeGroup string
		deprecated            bool
	}{
		{"direct: the scope itself", user(w.direct), permView, res(w.ws, "servers/1"), true, "user:" + w.direct, "", false},
		{"direct: a descendant", user(w.direct), permView, res(w.ws, "servers/1/nics/0"), true, "user:" + w.direct, "", false},
		{"direct: a sibling is denied", user(w.direct), permView, res(w.ws, "servers/10"), false, "", "", false},
		{"group: a member through its group", user(w.inGroup), permView, res(w.ws, "servers/2"), true, "user-group:" + w.group, "", false},
		{"group: the group itself", group, permView, res(w.ws, "servers/2"), true, "user-group:" + w.group, "", false},
		{"group: a non-member", user(w.grouped), permView, res(w.ws, "servers/2"), false, "", "", false},
		{"owner: a token acts with its owner's grants", bearer, permView, res(w.ws, "servers/4"), true, "user:" + w.owner, "", false},
		{"owner: an api-client subject acts with its owner's grants", client(w.client), permView, res(w.ws, "servers/4"), true, "user:" + w.owner, "", false},
		{"owner: the token does not reach beyond the owner", bearer, permView, res(w.ws, "servers/1"), false, "", "", false},
		{"api-client: its own assignment", client(w.clientOwnGrant), permView, res(w.ws, "servers/5"), true, "api-client:" + w.clientOwnGrant, "", false},
		{"scope group: a scope in it", user(w.scoped), permView, res(w.ws, "servers/3"), true, "user:" + w.scoped, w.scopeGroupGRN, false},
		{"scope group: a wildcard scope in it", user(w.scoped), permView, res(w.ws, "nics/7"), true, "user:" + w.scoped, w.scopeGroupGRN, false},
		{"scope group: outside it", user(w.scoped), permView, res(w.ws, "servers/30"), false, "", "", false},
		{"scope group: fixed-scope permission", user(w.scoped), permPower, res(w.ws, "servers/3"), false, "", "", false},
		{"wildcard: any server", user(w.wild), permView, res(w.ws, "servers/99"), true, "user:" + w.wild, "", false},
		{"wildcard: another type", user(w.wild), permView, res(w.ws, "disks/1"), false, "", "", false},
		{"fixed scope: through the whole workspace", user(w.whole), permPower, res(w.ws, "servers/1"), true, "user:" + w.whole, "", false},
		{"fixed scope: not through a resource scope", user(w.direct), permPower, res(w.ws, "servers/1"), false, "", "", false},
		{"deprecated: still allowed", user(w.direct), permLegacy, res(w.ws, "servers/1"), true, "user:" + w.direct, "", true},
		{"type: not applicable to disks", user(w.whole), permView, res(w.ws, "disks/1"), false, "", "", false},
		{"deny by default: no assignment", user(w.nobody), permView, res(w.ws, "servers/1"), false, "", "", false},
		{"deny by default: unknown permission", user(w.whole), "svc.servers.nope", res(w.ws, "servers/1"), false, "", "", false},
		{"deny by default: held by no role", user(w.whole), permAdmin, res(w.ws, "servers/1"), false, "", "", false},
		{"deny by default: another workspace", user(w.whole), permView, res(w.other, "servers/1"), false, "", "", false},
		{"deny by default: an unknown user", user("00000000-0000-4000-8000-000000000099"), permView, res(w.ws, "servers/1"), false, "", "", false},
		{"deny by default: an invalid token", map[string]string{"type": "token", "id": "not-a-token"}, permView, res(w.ws, "servers/4"), false, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := w.callExplained(t, http.MethodPost, "/access/v1/evaluation", w.admin, map[string]any{
				"subject": tc.subject, "action": map[string]string{"name": tc.action},
				"resource": map[string]string{"type": "svc/servers", "id": tc.resource}, "context": map[string]any{"explain": "the PEP's own"}},
				http.StatusOK)
			d := object(t, raw)
			if d["decision"] != tc.allowed {
				t.Fatalf("decision %v, want %v: %s", d["decision"], tc.allowed, raw)
			}
			ctx, _ := d["context"].(map[string]any)
			reason, _ := ctx["reason"].(map[string]any)
			if !tc.allowed {
				if reason["code"] == nil || reason["assignmentId"] != nil {
					t.Fatalf("a denial explains %s", raw)
				}
				return
			}
			if reason["principal"] != tc.principal || reason["assignmentId"] == nil || reason["roleId"] == nil || reason["scope"] == nil {
				t.Fatalf("explanation %v, want principal %s", reason, tc.principal)
			}
			if got, _ := reason["scopeGroup"].(string); got != tc.scopeGroup {
				t.Fatalf("scopeGroup %q, want %q", got, tc.scopeGroup)
			}
			if _, dep := ctx["deprecation"]; dep != tc.deprecated {
				t.Fatalf("deprecation reported %v, want %v: %s", dep, tc.deprecated, raw)
			}
		})
	}
}
