package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
)

// wantLastAdmin expects the 412 of the last-administrator rule.
func wantLastAdmin(t testing.TB, resp *http.Response, raw []byte) {
	t.Helper()
	wantIAMError(t, resp.StatusCode, raw, http.StatusPreconditionFailed, "")
	var body struct{ ErrorCode, Message string }
	if err := json.Unmarshal(raw, &body); err != nil || body.ErrorCode != "HPE_GL_ERROR_PRECONDITION_FAILED" ||
		!strings.Contains(body.Message, rbac.RuleLastAdministrator) {
		t.Fatalf("not the last-administrator refusal: %s", raw)
	}
}

// lastAdminWorld is a second workspace (its administrator holds no platform role) with its
// administrator's token, and a "full" user who holds all 15 workspace permissions through a
// custom role: everything an administrator may do, without being one.
type lastAdminWorld struct {
	*iamWorld
	b        string // the workspace
	adminB   string // its administrator's user id
	adminTok string
	fullTok  string
}

func newLastAdminWorld(t *testing.T, cfg app.Config) *lastAdminWorld {
	w := &lastAdminWorld{iamWorld: newIAMWorldWith(t, cfg)}
	c := w.e.CreateWorkspace(t, "Lonely Corp", storage.WorkspaceStandard, "lonely@example.test")
	w.b, w.adminB, w.adminTok = c.WorkspaceID, c.UserID, w.e.Token(t, c.WorkspaceID, c.ClientID, c.ClientSecret)
	all := []string{rbac.PermAuditView} // every workspace permission
	for _, a := range rbac.Areas {
		all = append(all, "glp."+a+".view", "glp."+a+".edit", "glp."+a+".delete")
	}
	full := w.e.UserWithRole(t, w.b, "")
	w.assign(t, w.adminTok, "user:"+full.UserID, w.customRole(t, w.adminTok, "Everything", all...), wsGRN(w.b))
	w.fullTok = w.e.TokenFor(t, full)
	return w
}

// adminAssignments lists the ids of the whole-workspace administrator assignments of
// subject in the workspace of tok.
func (w *lastAdminWorld) adminAssignments(t testing.TB, tok, subject string) []string {
	t.Helper()
	f := "role in ('" + predefined(rbac.RoleWorkspaceAdmin) + "') and subject in ('" + subject + "')"
	raw := w.call(t, http.MethodGet, assignmentsV2+"?filter="+url.QueryEscape(f), tok, nil, http.StatusOK)
	var list struct{ Items []struct{ ID string } }
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range list.Items {
		out = append(out, it.ID)
	}
	return out
}

// TestLastAdministratorIsKept replays issue 9 item 3: deleting the only whole-workspace
// administrator assignment, changing its scope, removing that user from the workspace, or
// removing the last member of a group that holds the role each answers 412 naming the rule,
// and the workspace stays manageable.
func TestLastAdministratorIsKept(t *testing.T) {
	w := newLastAdminWorld(t, app.Config{})
	ids := w.adminAssignments(t, w.adminTok, "user:"+w.adminB)
	if len(ids) != 1 {
		t.Fatalf("administrator assignments %v, want one", ids)
	}
	only := ids[0]
	for _, base := range []string{assignmentsV2, assignmentsV1} {
		for _, tok := range []string{w.adminTok, w.fullTok} {
			resp, raw := w.e.Do(t, http.MethodDelete, base+"/"+only, tok, nil)
			wantLastAdmin(t, resp, raw)
		}
	}
	resp, raw := w.e.Do(t, http.MethodPut, assignmentsV2+"/"+only, w.adminTok, map[string]any{"id": only,
		"subject": "user:" + w.adminB, "role": predefined(rbac.RoleWorkspaceAdmin), "scope": []string{res(w.b, "servers/1")}})
	wantLastAdmin(t, resp, raw)
	resp, raw = w.e.Do(t, http.MethodDelete, "/identity/v1/users/"+w.adminB, w.fullTok, nil)
	wantLastAdmin(t, resp, raw)
	w.call(t, http.MethodGet, "/identity/v1/users/"+w.adminB, w.adminTok, nil, http.StatusOK) // still there

	// Move the role to a group whose only member is the administrator: the direct assignment
	// may then go, the group's last member may not.
	g := object(t, w.call(t, http.MethodPost, "/identity/v1/user-groups", w.adminTok, map[string]any{"name": "admins"}, http.StatusCreated))["id"].(string)
	w.call(t, http.MethodPost, "/identity/v1/user-groups/"+g+"/members", w.adminTok, map[string]any{"userId": w.adminB}, http.StatusCreated)
	w.assign(t, w.adminTok, "user-group:"+g, predefined(rbac.RoleWorkspaceAdmin), wsGRN(w.b))
	w.call(t, http.MethodDelete, assignmentsV2+"/"+only, w.adminTok, nil, http.StatusNoContent)
	resp, raw = w.e.Do(t, http.MethodDelete, "/identity/v1/user-groups/"+g+"/members/"+w.adminB, w.fullTok, nil)
	wantLastAdmin(t, resp, raw)
	resp, raw = w.e.Do(t, http.MethodDelete, "/identity/v1/users/"+w.adminB, w.fullTok, nil)
	wantLastAdmin(t, resp, raw)

	// With a second administrator, the first may go.
	second := w.member(t, w.adminTok, "second@example.test")
	w.assign(t, w.adminTok, "user:"+second, predefined(rbac.RoleWorkspaceAdmin), wsGRN(w.b))
	w.call(t, http.MethodDelete, "/identity/v1/user-groups/"+g+"/members/"+w.adminB, w.fullTok, nil, http.StatusNoContent)
	w.call(t, http.MethodDelete, "/identity/v1/users/"+w.adminB, w.fullTok, nil, http.StatusNoContent)
	// And the second is now the last.
	last := w.adminAssignments(t, w.fullTok, "user:"+second)
	resp, raw = w.e.Do(t, http.MethodDelete, assignmentsV2+"/"+last[0], w.fullTok, nil)
	wantLastAdmin(t, resp, raw)
}

// TestLastAdministratorRace: with two administrators, deleting both assignments at once
// lets exactly one deletion through, on SQLite and on PostgreSQL.
func TestLastAdministratorRace(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			cfg := app.Config{}
			if backend == "postgres" {
				cfg.Database = pgtest.Database(t)
			}
			w := newLastAdminWorld(t, cfg)
			for round := range 5 {
				second := w.member(t, w.adminTok, "second"+string(rune('a'+round))+"@example.test")
				w.assign(t, w.adminTok, "user:"+second, predefined(rbac.RoleWorkspaceAdmin), wsGRN(w.b))
				ids := append(w.adminAssignments(t, w.fullTok, "user:"+w.adminB), w.adminAssignments(t, w.fullTok, "user:"+second)...)
				if len(ids) != 2 {
					t.Fatalf("administrator assignments %v, want two", ids)
				}
				codes := raceDeletes(t, w.e, w.fullTok, ids)
				if codes[http.StatusNoContent] != 1 || codes[http.StatusPreconditionFailed] != 1 {
					t.Fatalf("round %d: two concurrent deletions answered %v, want one 204 and one 412", round, codes)
				}
				// Restore the bootstrap administrator's assignment if it went, for the next round.
				if len(w.adminAssignments(t, w.fullTok, "user:"+w.adminB)) == 0 {
					w.assign(t, w.fullTok, "user:"+w.adminB, predefined(rbac.RoleWorkspaceAdmin), wsGRN(w.b))
				}
				for _, id := range w.adminAssignments(t, w.fullTok, "user:"+second) {
					w.call(t, http.MethodDelete, assignmentsV2+"/"+id, w.fullTok, nil, http.StatusNoContent)
				}
			}
		})
	}
}

// raceDeletes deletes the assignments ids concurrently and counts the answers by status.
func raceDeletes(t *testing.T, e *apptest.Env, tok string, ids []string) map[int]int {
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, err := http.NewRequest(http.MethodDelete, e.Base+assignmentsV2+"/"+id, nil)
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			apptest.CheckDocumented(t, req, nil, resp, body)
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}
