package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
)

// TestReportsService starts keyhold and the example, registers the service's provider, gives
// a reader read access to report 1, and checks allowed and denied calls.
func TestReportsService(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	ctx := context.Background()
	ws := e.Admin.WorkspaceID
	admin, err := client.New(client.Config{BaseURL: e.Base, WorkspaceID: ws, ClientID: e.Admin.ClientID, ClientSecret: e.Admin.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = admin.CreateProvider(ctx, client.ProviderInput{ID: "reports", Name: "Reports"})
	check(err)
	_, err = admin.CreateResourceType(ctx, "reports", client.ResourceTypeInput{Name: "report"})
	check(err)
	for _, a := range []string{"read", "write"} {
		_, err = admin.CreatePermission(ctx, "reports", client.PermissionInput{Name: "reports.report." + a, ReleaseStage: "STABLE",
			CustomRoleUse: "ALLOW", ApplicableResourceTypes: []string{"reports/report"}})
		check(err)
	}
	// The service's own credential: an observer (glp.authorization.view) and nothing else.
	svc := e.UserWithRole(t, ws, "glp.workspace-observer")
	// A writer of every report, and a reader of report 1 only.
	role := func(name string, perms ...string) string {
		r, err := admin.CreateRole(ctx, client.RoleInput{Name: name, Permissions: perms})
		check(err)
		return r.GRN
	}
	reportGRN := "grn:glp/workspaces/" + ids.Hex(ws) + "/regions/default/providers/reports/report/"
	writer := e.UserWithRole(t, ws, "")
	_, err = admin.CreateAssignment(ctx, client.AssignmentInput{Subject: client.UserSubject(writer.UserID),
		Role: role("report-writer", "reports.report.read", "reports.report.write"), Scope: []string{reportGRN + "*"}})
	check(err)
	reader := e.UserWithRole(t, ws, "")
	_, err = admin.CreateAssignment(ctx, client.AssignmentInput{Subject: client.UserSubject(reader.UserID),
		Role: role("report-reader", "reports.report.read"), Scope: []string{reportGRN + "1"}})
	check(err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(sctx, config{KeyholdURL: e.Base, WorkspaceID: ws, ClientID: svc.ClientID, ClientSecret: svc.Secret}, ln)
	}()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + ln.Addr().String()

	call := func(method, path, tok, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		check(err)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		check(err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	wTok, rTok := e.TokenFor(t, writer), e.TokenFor(t, reader)
	other := e.CreateWorkspace(t, "other", "STANDARD_ENTERPRISE", "o@example.test")
	oTok := e.Token(t, other.WorkspaceID, other.ClientID, other.ClientSecret)
	for _, c := range []struct {
		name, method, path, tok, body string
		status                        int
		answer                        string
	}{
		{"health is open", "GET", "/healthz", "", "", 200, "ok\n"},
		{"no token", "GET", "/reports/1", "", "", 401, ""},
		{"garbage token", "GET", "/reports/1", "x.y.z", "", 401, ""},
		{"writer writes 1", "PUT", "/reports/1", wTok, "q1", 204, ""},
		{"writer writes 2", "PUT", "/reports/2", wTok, "q2", 204, ""},
		{"reader reads 1", "GET", "/reports/1", rTok, "", 200, "q1"},
		{"reader may not read 2", "GET", "/reports/2", rTok, "", 403, ""},
		{"reader may not write 1", "PUT", "/reports/1", rTok, "evil", 403, ""},
		{"report 1 unchanged", "GET", "/reports/1", wTok, "", 200, "q1"},
		{"service credential holds no report permission", "GET", "/reports/1", e.TokenFor(t, svc), "", 403, ""},
		{"another workspace's token", "GET", "/reports/1", oTok, "", 401, ""},
		{"another workspace's whoami", "GET", "/whoami", oTok, "", 401, ""},
		{"whoami offline", "GET", "/whoami", rTok, "", 200, "api-client:" + reader.ClientID + "\n"},
	} {
		status, answer := call(c.method, c.path, c.tok, c.body)
		if status != c.status || (c.answer != "" && answer != c.answer) {
			t.Errorf("%s: %d %q, want %d %q", c.name, status, answer, c.status, c.answer)
		}
	}
}
