package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The OpenID AuthZEN interop "search" scenario (github.com/openid/authzen, interop/
// authzen-search-demo): six users, twenty records, three actions, and the policy
//
//   - a user can view, edit and delete any record they own;
//   - a user can view any record in their department;
//   - a manager can view any record, and edit any record in their department.
//
// sadSetup builds it through keyhold's own API, in keyhold's model: a provider "sad" with
// the resource type "record" and the permissions sad.record.{view,edit,delete}; users whose
// identity provider subject (external id) is the scenario's name ("alice"); a scope group per
// department holding its records; the owner role on each owned record, the viewer role on the
// user's department, and for managers the viewer role on record/* and the editor role on
// their department. The tables below are written from the scenario's expected results (who,
// what and which actions), one line per case.
//
// The requests are the scenario's, unmodified: users by name ("alice"), records by type and
// id ("record", "101"), actions by name ("view"); and so are the answers compared: results
// {"type": "user", "id": "alice"}, {"type": "record", "id": "101"}, {"name": "view"}.

type sadCase struct{ a, b, want string }

var sadUsers = []struct{ name, role, dept string }{
	{"alice", "manager", "Sales"}, {"bob", "employee", "Legal"}, {"carol", "contractor", "Legal"},
	{"dan", "manager", "Finance"}, {"erin", "employee", "Finance"}, {"felix", "contractor", "Accounting"},
}

var sadRecords = []struct{ id, dept, owner string }{
	{"101", "Legal", "alice"}, {"102", "Legal", "bob"}, {"103", "Legal", "carol"}, {"104", "Accounting", "dan"},
	{"105", "Legal", "erin"}, {"106", "Accounting", "felix"}, {"107", "Sales", "alice"}, {"108", "Legal", "bob"},
	{"109", "Accounting", "carol"}, {"110", "Sales", "dan"}, {"111", "Accounting", "erin"}, {"112", "Legal", "felix"},
	{"113", "Sales", "alice"}, {"114", "Accounting", "bob"}, {"115", "Finance", "carol"}, {"116", "Legal", "dan"},
	{"117", "Legal", "erin"}, {"118", "Accounting", "felix"}, {"119", "Legal", "alice"}, {"120", "Accounting", "bob"},
}

// who: record id, action -> users (subject search)
var sadWho = []sadCase{
	{"101", "view", "alice bob carol dan"},
	{"101", "edit", "alice"},
	{"101", "delete", "alice"},
	{"102", "view", "alice bob carol dan"},
	{"102", "edit", "bob"},
	{"102", "delete", "bob"},
	{"103", "view", "alice bob carol dan"},
	{"103", "edit", "carol"},
	{"103", "delete", "carol"},
	{"104", "view", "alice dan felix"},
	{"104", "edit", "dan"},
	{"104", "delete", "dan"},
	{"105", "view", "alice bob carol dan erin"},
	{"105", "edit", "erin"},
	{"105", "delete", "erin"},
	{"106", "view", "alice dan felix"},
	{"106", "edit", "felix"},
	{"106", "delete", "felix"},
	{"107", "view", "alice dan"},
	{"107", "edit", "alice"},
	{"107", "delete", "alice"},
	{"108", "view", "alice bob carol dan"},
	{"108", "edit", "bob"},
	{"108", "delete", "bob"},
	{"109", "view", "alice carol dan felix"},
	{"109", "edit", "carol"},
	{"109", "delete", "carol"},
	{"110", "view", "alice dan"},
	{"110", "edit", "alice dan"},
	{"110", "delete", "dan"},
	{"111", "view", "alice dan erin felix"},
	{"111", "edit", "erin"},
	{"111", "delete", "erin"},
	{"112", "view", "alice bob carol dan felix"},
	{"112", "edit", "felix"},
	{"112", "delete", "felix"},
	{"113", "view", "alice dan"},
	{"113", "edit", "alice"},
	{"113", "delete", "alice"},
	{"114", "view", "alice bob dan felix"},
	{"114", "edit", "bob"},
	{"114", "delete", "bob"},
	{"115", "view", "alice carol dan erin"},
	{"115", "edit", "carol dan"},
	{"115", "delete", "carol"},
	{"116", "view", "alice bob carol dan"},
	{"116", "edit", "dan"},
	{"116", "delete", "dan"},
	{"117", "view", "alice bob carol dan erin"},
	{"117", "edit", "erin"},
	{"117", "delete", "erin"},
	{"118", "view", "alice dan felix"},
	{"118", "edit", "felix"},
	{"118", "delete", "felix"},
	{"119", "view", "alice bob carol dan"},
	{"119", "edit", "alice"},
	{"119", "delete", "alice"},
	{"120", "view", "alice bob dan felix"},
	{"120", "edit", "bob"},
	{"120", "delete", "bob"},
}
var sadWhat = []sadCase{
	{"alice", "view", "101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119 120"},
	{"alice", "edit", "101 107 110 113 119"},
	{"alice", "delete", "101 107 113 119"},
	{"bob", "view", "101 102 103 105 108 112 114 116 117 119 120"},
	{"bob", "edit", "102 108 114 120"},
	{"bob", "delete", "102 108 114 120"},
	{"carol", "view", "101 102 103 105 108 109 112 115 116 117 119"},
	{"carol", "edit", "103 109 115"},
	{"carol", "delete", "103 109 115"},
	{"dan", "view", "101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119 120"},
	{"dan", "edit", "104 110 115 116"},
	{"dan", "delete", "104 110 116"},
	{"erin", "view", "105 111 115 117"},
	{"erin", "edit", "105 111 117"},
	{"erin", "delete", "105 111 117"},
	{"felix", "view", "104 106 109 111 112 114 118 120"},
	{"felix", "edit", "106 112 118"},
	{"felix", "delete", "106 112 118"},
}
var sadActions = []sadCase{
	{"alice", "101", "view edit delete"},
	{"alice", "102", "view"},
	{"alice", "103", "view"},
	{"alice", "104", "view"},
	{"alice", "105", "view"},
	{"alice", "106", "view"},
	{"alice", "107", "view edit delete"},
	{"alice", "108", "view"},
	{"alice", "109", "view"},
	{"alice", "110", "view edit"},
	{"alice", "111", "view"},
	{"alice", "112", "view"},
	{"alice", "113", "view edit delete"},
	{"alice", "114", "view"},
	{"alice", "115", "view"},
	{"alice", "116", "view"},
	{"alice", "117", "view"},
	{"alice", "118", "view"},
	{"alice", "119", "view edit delete"},
	{"alice", "120", "view"},
	{"bob", "101", "view"},
	{"bob", "102", "view edit delete"},
	{"bob", "103", "view"},
	{"bob", "104", ""},
	{"bob", "105", "view"},
	{"bob", "106", ""},
	{"bob", "107", ""},
	{"bob", "108", "view edit delete"},
	{"bob", "109", ""},
	{"bob", "110", ""},
	{"bob", "111", ""},
	{"bob", "112", "view"},
	{"bob", "113", ""},
	{"bob", "114", "view edit delete"},
	{"bob", "115", ""},
	{"bob", "116", "view"},
	{"bob", "117", "view"},
	{"bob", "118", ""},
	{"bob", "119", "view"},
	{"bob", "120", "view edit delete"},
	{"carol", "101", "view"},
	{"carol", "102", "view"},
	{"carol", "103", "view edit delete"},
	{"carol", "104", ""},
	{"carol", "105", "view"},
	{"carol", "106", ""},
	{"carol", "107", ""},
	{"carol", "108", "view"},
	{"carol", "109", "view edit delete"},
	{"carol", "110", ""},
	{"carol", "111", ""},
	{"carol", "112", "view"},
	{"carol", "113", ""},
	{"carol", "114", ""},
	{"carol", "115", "view edit delete"},
	{"carol", "116", "view"},
	{"carol", "117", "view"},
	{"carol", "118", ""},
	{"carol", "119", "view"},
	{"carol", "120", ""},
	{"dan", "101", "view"},
	{"dan", "102", "view"},
	{"dan", "103", "view"},
	{"dan", "104", "view edit delete"},
	{"dan", "105", "view"},
	{"dan", "106", "view"},
	{"dan", "107", "view"},
	{"dan", "108", "view"},
	{"dan", "109", "view"},
	{"dan", "110", "view edit delete"},
	{"dan", "111", "view"},
	{"dan", "112", "view"},
	{"dan", "113", "view"},
	{"dan", "114", "view"},
	{"dan", "115", "view edit"},
	{"dan", "116", "view edit delete"},
	{"dan", "117", "view"},
	{"dan", "118", "view"},
	{"dan", "119", "view"},
	{"dan", "120", "view"},
	{"erin", "101", ""},
	{"erin", "102", ""},
	{"erin", "103", ""},
	{"erin", "104", ""},
	{"erin", "105", "view edit delete"},
	{"erin", "106", ""},
	{"erin", "107", ""},
	{"erin", "108", ""},
	{"erin", "109", ""},
	{"erin", "110", ""},
	{"erin", "111", "view edit delete"},
	{"erin", "112", ""},
	{"erin", "113", ""},
	{"erin", "114", ""},
	{"erin", "115", "view"},
	{"erin", "116", ""},
	{"erin", "117", "view edit delete"},
	{"erin", "118", ""},
	{"erin", "119", ""},
	{"erin", "120", ""},
	{"felix", "101", ""},
	{"felix", "102", ""},
	{"felix", "103", ""},
	{"felix", "104", "view"},
	{"felix", "105", ""},
	{"felix", "106", "view edit delete"},
	{"felix", "107", ""},
	{"felix", "108", ""},
	{"felix", "109", "view"},
	{"felix", "110", ""},
	{"felix", "111", "view"},
	{"felix", "112", "view edit delete"},
	{"felix", "113", ""},
	{"felix", "114", "view"},
	{"felix", "115", ""},
	{"felix", "116", ""},
	{"felix", "117", ""},
	{"felix", "118", "view edit delete"},
	{"felix", "119", ""},
	{"felix", "120", "view"},
}

// sadWorld is the scenario set up in a workspace: user ids by name and back.
type sadWorld struct {
	*iamWorld
	userID map[string]string
	name   map[string]string
}

func (w *sadWorld) record(id string) string {
	return wsGRN(w.ws) + "/regions/default/providers/sad/record/" + id
}

func sadSetup(t *testing.T) *sadWorld {
	t.Helper()
	w := &sadWorld{iamWorld: newIAMWorld(t), userID: map[string]string{}, name: map[string]string{}}
	w.call(t, http.MethodPost, "/authorization/v2alpha2/resource-providers", w.admin,
		map[string]any{"id": "sad", "name": "Search demo"}, http.StatusCreated)
	w.call(t, http.MethodPost, "/authorization/v2alpha2/resource-providers/sad/resource-types", w.admin,
		map[string]any{"name": "record", "displayName": "Record"}, http.StatusCreated)
	for _, action := range []string{"view", "edit", "delete"} {
		w.call(t, http.MethodPost, "/authorization/v2alpha2/resource-providers/sad/permissions", w.admin,
			map[string]any{"name": "sad.record." + action, "releaseStage": "STABLE", "customRoleUse": "ALLOW",
				"applicableResourceTypes": []string{"sad/record"}}, http.StatusCreated)
	}
	owner := w.customRole(t, w.admin, "Record owner", "sad.record.view", "sad.record.edit", "sad.record.delete")
	viewer := w.customRole(t, w.admin, "Record viewer", "sad.record.view")
	editor := w.customRole(t, w.admin, "Record editor", "sad.record.edit")
	for _, u := range sadUsers {
		id := w.scimMember(t, w.admin, u.name+"@search.test", u.name)
		w.userID[u.name], w.name[id] = id, u.name
	}
	dept := map[string]string{} // department -> scope group GRN
	for _, d := range []string{"Legal", "Accounting", "Sales", "Finance"} {
		sg := object(t, w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups", w.admin,
			map[string]any{"name": d}, http.StatusCreated))
		var items []map[string]string
		for _, r := range sadRecords {
			if r.dept == d {
				items = append(items, map[string]string{"grn": w.record(r.id), "description": "record " + r.id})
			}
		}
		w.call(t, http.MethodPost, "/authorization/v2alpha2/scope-groups/"+sg["id"].(string)+"/scopes/batch", w.admin,
			map[string]any{"items": items}, http.StatusOK)
		dept[d] = sg["grn"].(string)
	}
	for _, r := range sadRecords {
		w.assign(t, w.admin, "user:"+w.userID[r.owner], owner, w.record(r.id))
	}
	for _, u := range sadUsers {
		w.assign(t, w.admin, "user:"+w.userID[u.name], viewer, dept[u.dept])
		if u.role == "manager" {
			w.assign(t, w.admin, "user:"+w.userID[u.name], viewer, w.record("*"))
			w.assign(t, w.admin, "user:"+w.userID[u.name], editor, dept[u.dept])
		}
	}
	return w
}

// sadRequest is a scenario request, as the scenario sends it.
func sadRequest(kind string, c sadCase) map[string]any {
	switch kind {
	case "subject":
		return map[string]any{"resource": map[string]string{"type": "record", "id": c.a},
			"action": map[string]string{"name": c.b}, "subject": map[string]string{"type": "user"}}
	case "resource":
		return map[string]any{"subject": map[string]string{"type": "user", "id": c.a},
			"action": map[string]string{"name": c.b}, "resource": map[string]string{"type": "record"}}
	}
	return map[string]any{"subject": map[string]string{"type": "user", "id": c.a},
		"resource": map[string]string{"type": "record", "id": c.b}}
}

// sadExpected is the scenario's expected results of a case, as it writes them.
func sadExpected(kind string, c sadCase) []map[string]string {
	out := []map[string]string{}
	for _, x := range strings.Fields(c.want) {
		switch kind {
		case "subject":
			out = append(out, map[string]string{"type": "user", "id": x})
		case "resource":
			out = append(out, map[string]string{"type": "record", "id": x})
		default:
			out = append(out, map[string]string{"name": x})
		}
	}
	return out
}

// sameResults compares result lists as sets (the scenario does not fix an order).
func sameResults(got, want []map[string]string) bool {
	key := func(m map[string]string) string { raw, _ := json.Marshal(m); return string(raw) }
	a, b := make([]string, len(got)), make([]string, len(want))
	for i := range got {
		a[i] = key(got[i])
	}
	for i := range want {
		b[i] = key(want[i])
	}
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestInteropSearchScenario runs every case of the scenario's subject, resource and action
// searches (60 + 18 + 120), as the scenario's runner sends them, against the root PDP (the
// token's workspace) and the workspace's PDP, and requires each answer to be the expected
// set, as the scenario writes it.
func TestInteropSearchScenario(t *testing.T) {
	w := sadSetup(t)
	for _, pdp := range []string{"", "/authzen/workspaces/" + w.ws} {
		pass, total := 0, 0
		for _, run := range []struct {
			kind  string
			cases []sadCase
		}{{"subject", sadWho}, {"resource", sadWhat}, {"action", sadActions}} {
			for _, c := range run.cases {
				total++
				raw := w.call(t, http.MethodPost, pdp+"/access/v1/search/"+run.kind, w.admin, sadRequest(run.kind, c), http.StatusOK)
				var got struct{ Results []map[string]string }
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("%s: %v", raw, err)
				}
				if want := sadExpected(run.kind, c); !sameResults(got.Results, want) {
					t.Errorf("%s%s search %s %s: got %v, want %v", pdp, run.kind, c.a, c.b, got.Results, want)
					continue
				}
				pass++
			}
		}
		t.Logf("search scenario at %q: %d of %d cases pass", pdp, pass, total)
	}
}
