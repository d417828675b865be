package client_test

// The code blocks of docs/sdk.md are copied from the functions of this file (a test checks
// that every block appears here verbatim), and TestSDKDocExamples runs them against a real
// keyhold. Edit both together.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/client/enforce"
	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
)

func docConnect(baseURL, workspaceID, clientID, clientSecret string) (*client.Client, error) {
	c, err := client.New(client.Config{
		BaseURL:      baseURL,     // keyhold's --base-url
		WorkspaceID:  workspaceID, // the workspace whose issuer issues the tokens
		ClientID:     clientID,
		ClientSecret: clientSecret, // read it from a file or a secret store, not a flag
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func docListUsers(ctx context.Context, c *client.Client, out io.Writer) error {
	for u, err := range c.ListUsers(ctx, &client.ListOptions{Filter: "username eq 'ada@example.com'"}) {
		if err != nil {
			return err // the first error ends the iteration
		}
		fmt.Fprintln(out, u.ID, u.Username)
	}
	return nil
}

func docCredential(ctx context.Context, c *client.Client, out io.Writer) (*client.Credential, error) {
	cred, err := c.CreateCredential(ctx, client.CredentialInput{Name: "ci-pipeline"})
	if err != nil {
		return nil, err
	}
	// cred.ClientSecret is shown now and never again: hand it over, do not log it.
	fmt.Fprintln(out, "client id:", cred.ClientID)
	return cred, nil
}

func docErrors(ctx context.Context, c *client.Client, out io.Writer) {
	_, err := c.CreateCredential(ctx, client.CredentialInput{Name: ""})
	var ke *client.Error
	if errors.As(err, &ke) {
		fmt.Fprintln(out, ke.StatusCode, ke.ErrorCode, ke.Fields())
		// 400 HPE_GL_ERROR_BAD_REQUEST [credentialName]; ke.DebugID names the server's log line
	}
}

func docAssign(ctx context.Context, c *client.Client, userID, workspaceGRN string) error {
	role, err := c.CreateRole(ctx, client.RoleInput{
		Name:        "report-reader",
		Permissions: []string{"reports.report.read"},
	})
	if err != nil {
		return err
	}
	_, err = c.CreateAssignment(ctx, client.AssignmentInput{
		Subject: client.UserSubject(userID),
		Role:    role.GRN,
		Scope:   []string{workspaceGRN}, // "grn:glp/workspaces/<32 hex digits>"
	})
	return err
}

func docEvaluate(ctx context.Context, c *client.Client) (bool, error) {
	d, err := c.Evaluate(ctx, client.Evaluation{
		Subject:  &client.Subject{Type: "user", ID: "ada@example.com"},
		Action:   &client.Action{Name: "reports.report.read"},
		Resource: &client.Resource{Type: "reports/report", ID: "q3"},
	}, &client.AuthZENOptions{Explain: true})
	if err != nil {
		return false, err
	}
	return d.Decision, nil
}

func docGuard(baseURL, workspaceID string, pdp *client.Client, reports http.Handler) (http.Handler, error) {
	v, err := enforce.NewVerifier(enforce.Config{
		BaseURL:      baseURL,
		WorkspaceIDs: []string{workspaceID}, // accept tokens of this workspace only
	})
	if err != nil {
		return nil, err
	}
	g := &enforce.Guard{
		Verifier: v,
		PDP:      pdp, // the service's own client: needs glp.authorization.view
		CacheTTL: 5 * time.Second,
	}
	mux := http.NewServeMux()
	mux.Handle("GET /reports/{id}", g.Require("reports.report.read", func(r *http.Request) client.Resource {
		return client.Resource{Type: "reports/report", ID: r.PathValue("id")}
	})(reports))
	return mux, nil
}

// TestSDKDocExamples runs the page's examples against a real keyhold.
func TestSDKDocExamples(t *testing.T) {
	e := apptest.Start(t, app.Config{})
	ctx := context.Background()
	ws := e.Admin.WorkspaceID
	c := must[*client.Client](t)(docConnect(e.Base, ws, e.Admin.ClientID, e.Admin.ClientSecret))
	uid := must[string](t)(c.AddUser(ctx, "ada@example.com"))
	var out strings.Builder
	if err := docListUsers(ctx, c, &out); err != nil || out.String() != uid+" ada@example.com\n" {
		t.Fatalf("list users: %q %v", out.String(), err)
	}
	out.Reset()
	cred := must[*client.Credential](t)(docCredential(ctx, c, &out))
	if out.String() != "client id: "+cred.ClientID+"\n" || strings.Contains(out.String(), cred.ClientSecret) {
		t.Fatalf("credential printed %q", out.String())
	}
	out.Reset()
	docErrors(ctx, c, &out)
	if out.String() != "400 HPE_GL_ERROR_BAD_REQUEST [credentialName]\n" {
		t.Fatalf("errors printed %q", out.String())
	}
	registerReports(t, c)
	if err := docAssign(ctx, c, uid, "grn:glp/workspaces/"+ids.Hex(ws)); err != nil {
		t.Fatal(err)
	}
	if ok, err := docEvaluate(ctx, c); err != nil || !ok {
		t.Fatalf("evaluate: %v %v", ok, err)
	}
	// The guard: ada's credential reads report q3; the administrator's own (no report role) may not.
	adaCred := must[*client.Credential](t)(c.CreateCredential(ctx, client.CredentialInput{Name: "ada", OwnerID: uid}))
	h := must[http.Handler](t)(docGuard(e.Base, ws, c, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "report "+r.PathValue("id"))
	})))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tc := range []struct {
		tok    string
		status int
	}{{e.Token(t, ws, adaCred.ClientID, adaCred.ClientSecret), 200}, {e.AdminToken(t), 403}, {"", 401}} {
		req, _ := http.NewRequest("GET", srv.URL+"/reports/q3", nil)
		if tc.tok != "" {
			req.Header.Set("Authorization", "Bearer "+tc.tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("guarded call: %d, want %d", resp.StatusCode, tc.status)
		}
	}
}

func registerReports(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	must[*client.Provider](t)(c.CreateProvider(ctx, client.ProviderInput{ID: "reports", Name: "Reports"}))
	must[*client.ResourceType](t)(c.CreateResourceType(ctx, "reports", client.ResourceTypeInput{Name: "report"}))
	must[*client.Permission](t)(c.CreatePermission(ctx, "reports", client.PermissionInput{Name: "reports.report.read",
		ReleaseStage: "STABLE", CustomRoleUse: "ALLOW", ApplicableResourceTypes: []string{"reports/report"}}))
}

// TestSDKDocBlocksAreTested checks that every Go block of docs/sdk.md appears in this file,
// line for line (indentation aside), so the page shows only code the test above runs.
func TestSDKDocBlocksAreTested(t *testing.T) {
	page, err := os.ReadFile("../docs/sdk.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("sdkdoc_test.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(page), -1)
	if len(blocks) < 5 {
		t.Fatalf("docs/sdk.md has %d Go blocks", len(blocks))
	}
	body := normalise(string(src))
	for _, b := range blocks {
		if !strings.Contains(body, normalise(b[1])) {
			t.Errorf("this block of docs/sdk.md is not in sdkdoc_test.go:\n%s", b[1])
		}
	}
}

// normalise trims each line and drops empty ones.
func normalise(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + "\n"
}
