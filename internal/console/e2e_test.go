package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
)

// chromium finds Debian's chromium (KEYHOLD_CHROMIUM overrides). In CI a missing browser
// fails the test: .ci/run installs it, and a skipped end-to-end test would hide that.
func chromium(t *testing.T) string {
	if p := os.Getenv("KEYHOLD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set and chromium is missing (apt-get install chromium)")
	}
	t.Skip("chromium is not installed: the console's end-to-end test needs it")
	return ""
}

// browser starts one headless chromium for the whole test, 1280 px wide.
func browser(t *testing.T) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// step runs browser actions with a deadline, failing the test with what went wrong.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	get(t, ctx, what, chromedp.Steps(actions...))
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		c2, cancel2 := context.WithTimeout(ctx, 2*time.Second)
		defer cancel2()
		body, _ := chromedp.Run(c2, chromedp.Evaluate[string](`"dialog open: " + document.getElementById("confirm").open + " returnValue " + document.getElementById("confirm").returnValue + "\\n" + document.body.innerText`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
	return v
}

// shot saves a screenshot of the page to docs/console/<name>.png when
// KEYHOLD_CONSOLE_SCREENSHOTS is set (the images docs/console.md shows).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("KEYHOLD_CONSOLE_SCREENSHOTS") == "" {
		return
	}
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := filepath.Join("..", "..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	step(t, ctx, "wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return strings.TrimSpace(get(t, ctx, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	return get(t, ctx, "evaluate "+js, chromedp.Evaluate[T](js))
}

// hash switches screens within the page (a navigation would reload it and end the session).
func hash(t *testing.T, ctx context.Context, h string) {
	t.Helper()
	eval[string](t, ctx, `location.hash = `+jsString(h))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// submit submits the form of an element (or the form itself) as pressing Enter would: the
// submit event fires (form.submit() would skip it).
func submit(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(() => { const el = document.querySelector(`+jsString(sel)+`); (el.form || el).requestSubmit(); return true })()`)(c, tg)
		return err
	})
}

// unnamedControls lists the page's visible controls that have no accessible name (a label,
// aria-label, aria-labelledby, or for buttons and links their text): axe-core's rule for
// form controls, in a few lines, since no npm package is fetched here.
const unnamedControls = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll('input, select, textarea, button, a[href]')) {
    if (el.closest('[hidden]') || el.type === 'hidden' || el.offsetParent === null) continue;
    const named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') ||
      (el.labels && el.labels.length > 0) ||
      ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim() !== '');
    if (!named) bad.push(el.outerHTML.slice(0, 120));
  }
  return bad;
})()`

// a11y fails the test for any control of the current screen without an accessible name.
func a11y(t *testing.T, ctx context.Context, screen string) {
	t.Helper()
	if bad := eval[[]string](t, ctx, unnamedControls); len(bad) > 0 {
		t.Errorf("%s: controls without an accessible name: %v", screen, bad)
	}
}

// choose picks an option of a select as a person would (the change event fires).
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(() => { const el = document.querySelector(`+jsString(sel)+`); el.value = `+jsString(value)+
			`; el.dispatchEvent(new Event('change')); return el.value === `+jsString(value)+` })()`)(c, tg)
		return err
	})
}

// filterList types a filter into a list's filter box and submits it.
func filterList(t *testing.T, ctx context.Context, label, filter string) {
	t.Helper()
	sel := `input[aria-label="Filter ` + label + `"]`
	step(t, ctx, "filter "+label, chromedp.WaitVisible(chromedp.CSS(sel)))
	eval[bool](t, ctx, `(() => { const el = document.querySelector(`+jsString(sel)+`); el.value = `+jsString(filter)+`; el.form.requestSubmit(); return true })()`)
	// The submit marks the list busy at once; the rows are the filtered ones once it is not.
	// Waiting on rows alone could catch the unfiltered answer's, which the filtered one replaces.
	step(t, ctx, "filtered "+label, chromedp.WaitReady(chromedp.CSS(`section[aria-label="`+label+`"] > div[aria-live]:not([aria-busy])`)))
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestConsoleEndToEnd drives the console in headless chromium against a running keyhold.
func TestConsoleEndToEnd(t *testing.T) {
	ctx := browser(t)
	e := apptest.Start(t, app.Config{})
	ws := e.Admin.WorkspaceID

	signInTo := func(t *testing.T, ws, clientID, secret string) {
		t.Helper()
		step(t, ctx, "open the sign-in page", chromedp.Navigate(e.Base+"/console/"),
			chromedp.WaitVisible(chromedp.CSS(`#signin-secret`)),
			chromedp.SendKeys(chromedp.CSS(`#signin-secret input[name=workspace]`), ws),
			chromedp.SendKeys(chromedp.CSS(`#signin-secret input[name=client_id]`), clientID),
			chromedp.SendKeys(chromedp.CSS(`#signin-secret input[name=client_secret]`), secret),
			submit(`#signin-secret`),
			chromedp.WaitVisible(chromedp.CSS(`#nav a[href="#/credentials"]`)))
	}

	var userID, clientID, secret, roleGRN string
	// A service registers its provider, type and permission (as a platform administrator).
	admin := e.AdminToken(t)
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/authorization/v2alpha2/resource-providers", map[string]any{"id": "todo", "name": "Todo"}},
		{"/authorization/v2alpha2/resource-providers/todo/resource-types", map[string]any{"name": "todo", "displayName": "Todo list"}},
		{"/authorization/v2alpha2/resource-providers/todo/permissions", map[string]any{"name": "todo.todo.read", "releaseStage": "STABLE",
			"customRoleUse": "ALLOW", "applicableResourceTypes": []string{"todo/todo"}}},
		{"/authorization/v2alpha2/resource-providers/todo/permissions", map[string]any{"name": "todo.todo.write", "releaseStage": "STABLE",
			"customRoleUse": "ALLOW", "applicableResourceTypes": []string{"todo/todo"}}},
	} {
		if resp, body := e.Do(t, "POST", c.path, admin, c.body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
		}
	}
	todoGRN := "grn:glp/workspaces/" + strings.ReplaceAll(ws, "-", "") + "/regions/default/providers/todo/todo/list_207"
	var observer apptest.Principal
	run := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // later steps build on this one
		}
	}

	run("sign in", func(t *testing.T) {
		step(t, ctx, "sign-in page", chromedp.Navigate(e.Base+"/console/"), chromedp.WaitVisible(chromedp.CSS(`#signin-secret`)))
		a11y(t, ctx, "sign-in")
		shot(t, ctx, "sign-in")
		// With the keyboard only: the workspace field has the focus, Tab moves on, Enter submits.
		if got := eval[string](t, ctx, `document.activeElement.name`); got != "workspace" {
			t.Errorf("focus on %q, want the workspace field", got)
		}
		// The accessible-name check finds an unnamed control (then the probe goes).
		if bad := eval[[]string](t, ctx, `(() => { const p = document.createElement('input'); p.id = 'probe'; document.getElementById('main').append(p); return `+unnamedControls+` })()`); len(bad) != 1 || !strings.Contains(bad[0], "probe") {
			t.Errorf("the accessible-name check found %v, want the probe", bad)
		}
		eval[bool](t, ctx, `(() => { document.getElementById('probe').remove(); document.querySelector('input[name=workspace]').focus(); return true })()`)
		step(t, ctx, "type", chromedp.KeyEvent(ws+"\t"+e.Admin.ClientID+"\t"+e.Admin.ClientSecret+"\r"),
			chromedp.WaitVisible(chromedp.CSS(`#nav a[href="#/credentials"]`)))
		if got := text(t, ctx, "#workspace-details"); !strings.Contains(got, e.Admin.WorkspaceName) {
			t.Errorf("workspace screen: %q", got)
		}
		a11y(t, ctx, "workspace")
		shot(t, ctx, "workspace")
	})

	run("token in memory only", func(t *testing.T) {
		n := eval[int](t, ctx, `localStorage.length + sessionStorage.length + document.cookie.length`)
		if n != 0 {
			t.Errorf("the console stored %d bytes/items in web storage or cookies", n)
		}
		cookies := get(t, ctx, "cookies", func(c context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
			return cdp.Call(c, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{e.Base + "/"}})
		})
		if len(cookies.Cookies) != 0 {
			t.Errorf("cookies: %v", cookies.Cookies)
		}
		if u := eval[string](t, ctx, `location.href`); strings.Contains(u, "ey") && strings.Contains(u, "token") {
			t.Errorf("the token is in the URL: %s", u)
		}
	})

	run("user", func(t *testing.T) {
		hash(t, ctx, "#/users")
		step(t, ctx, "add user", chromedp.WaitVisible(chromedp.CSS(`#new-user`)), chromedp.Click(chromedp.CSS(`#new-user`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "dana@example.test"),
			submit(`input[name=email]`))
		userID = text(t, ctx, "#new-user-id")
		hash(t, ctx, "#/users")
		filterList(t, ctx, "Users", "username eq 'dana@example.test'")
		step(t, ctx, "listed", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Remove dana@example.test"]`)))
		a11y(t, ctx, "users")
		shot(t, ctx, "users")
		// Paging: 22 more users make two pages of 20.
		for i := range 22 {
			if resp, body := e.Do(t, "POST", "/identity/v1/users", admin, map[string]any{"email": fmt.Sprintf("user%02d@example.test", i)}); resp.StatusCode != http.StatusCreated {
				t.Fatalf("user %d: %d %s", i, resp.StatusCode, body)
			}
		}
		filterList(t, ctx, "Users", "")
		step(t, ctx, "page 1", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Remove user17@example.test"]`)))
		if got := text(t, ctx, ".pager span"); !strings.HasPrefix(got, "1–20 of 2") {
			t.Errorf("pager: %q", got)
		}
		eval[bool](t, ctx, `(() => { [...document.querySelectorAll('.pager button')].find((b) => b.textContent === 'Next').click(); return true })()`)
		step(t, ctx, "page 2", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Remove user21@example.test"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`button[aria-label="Remove user00@example.test"]`)))
		if got := text(t, ctx, ".pager span"); !strings.HasPrefix(got, "21–") {
			t.Errorf("pager on page 2: %q", got)
		}
	})

	run("credential created with the secret shown once", func(t *testing.T) {
		hash(t, ctx, "#/credentials")
		step(t, ctx, "create link", chromedp.WaitVisible(chromedp.CSS(`#new-credential`)), chromedp.Click(chromedp.CSS(`#new-credential`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name=credentialName]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=credentialName]`), "dana-ci"),
			chromedp.SendKeys(chromedp.CSS(`input[name=ownerId]`), userID),
			submit(`input[name=credentialName]`))
		secret = text(t, ctx, "#new-secret")
		clientID = text(t, ctx, "#new-client-id")
		if !hex64.MatchString(secret) {
			t.Fatalf("secret %q", secret)
		}
		a11y(t, ctx, "credential-created")
		shot(t, ctx, "credential-created")
		// The secret works, and acts as the user.
		tok := e.Token(t, ws, clientID, secret)
		if tok == "" {
			t.Fatal("no token")
		}
		// Shown once: the list (filtered on the owner: an administrator sees its own unless it
		// asks for another owner's) does not show it.
		hash(t, ctx, "#/credentials")
		filterList(t, ctx, "API credentials", "ownerId eq '"+userID+"'")
		step(t, ctx, "list", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Delete dana-ci"]`)))
		if body := eval[string](t, ctx, `document.body.innerText`); strings.Contains(body, secret) {
			t.Error("the list shows the secret again")
		}
	})

	run("credential filter", func(t *testing.T) {
		filterList(t, ctx, "API credentials", "credentialName eq 'nope'")
		step(t, ctx, "filtered out", chromedp.WaitNotPresent(chromedp.CSS(`button[aria-label="Delete dana-ci"]`)))
		filterList(t, ctx, "API credentials", "credentialName zz 'x'")
		step(t, ctx, "bad filter", chromedp.WaitVisible(chromedp.CSS(`.error .debug`)))
		if got := text(t, ctx, ".error"); !strings.Contains(got, "400") || !strings.Contains(got, "filter") {
			t.Errorf("bad filter error: %q", got)
		}
		filterList(t, ctx, "API credentials", "ownerId eq '"+userID+"' and credentialName eq 'dana-ci'")
		step(t, ctx, "found", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Delete dana-ci"]`)))
		a11y(t, ctx, "credentials")
		shot(t, ctx, "credentials")
	})

	run("custom role", func(t *testing.T) {
		hash(t, ctx, "#/roles")
		step(t, ctx, "new role", chromedp.WaitVisible(chromedp.CSS(`#new-role`)), chromedp.Click(chromedp.CSS(`#new-role`)),
			chromedp.WaitVisible(chromedp.CSS(`input[data-perm="todo.todo.read"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=roleName]`), "Todo reader"),
			chromedp.SendKeys(chromedp.CSS(`input[aria-label="Narrow the permissions"]`), "todo."),
			chromedp.Click(chromedp.CSS(`input[data-perm="todo.todo.read"]`)))
		a11y(t, ctx, "role-edit")
		shot(t, ctx, "role-edit")
		step(t, ctx, "save", submit(`#role-form`), chromedp.WaitVisible(chromedp.CSS(`#role-saved`)))
		var role struct {
			Items []struct {
				GRN, Name   string
				Permissions []string
			}
		}
		_, body := e.Do(t, "GET", "/authorization/v2alpha2/roles?filter="+url.QueryEscape("name eq 'Todo reader'"), e.AdminToken(t), nil)
		if err := json.Unmarshal(body, &role); err != nil || len(role.Items) != 1 || strings.Join(role.Items[0].Permissions, ",") != "todo.todo.read" {
			t.Fatalf("role as stored: %s", body)
		}
		roleGRN = role.Items[0].GRN
		// Edit it: add a permission (PUT).
		step(t, ctx, "edit", chromedp.WaitVisible(chromedp.CSS(`input[data-perm="todo.todo.write"]`)),
			chromedp.Click(chromedp.CSS(`input[data-perm="todo.todo.write"]`)), submit(`#role-form`),
			chromedp.WaitVisible(chromedp.CSS(`#role-saved`)))
		if got := text(t, ctx, "#role-saved"); !strings.Contains(got, "2 permissions") {
			t.Errorf("after the edit: %q", got)
		}
		_, body = e.Do(t, "GET", "/authorization/v2alpha2/roles?filter="+url.QueryEscape("name eq 'Todo reader'"), e.AdminToken(t), nil)
		if err := json.Unmarshal(body, &role); err != nil || strings.Join(role.Items[0].Permissions, ",") != "todo.todo.read,todo.todo.write" {
			t.Fatalf("role after the edit: %s", body)
		}
	})

	run("assign the role on a resource", func(t *testing.T) {
		hash(t, ctx, "#/assignments")
		step(t, ctx, "new assignment", chromedp.WaitVisible(chromedp.CSS(`#new-assignment`)), chromedp.Click(chromedp.CSS(`#new-assignment`)),
			chromedp.WaitVisible(chromedp.CSS(`#assignment-form input[name=subjectId]`)),
			chromedp.SendKeys(chromedp.CSS(`#assignment-form input[name=subjectId]`), userID),
			chromedp.SetValue(chromedp.CSS(`#assignment-form select[name=role]`), roleGRN),
			chromedp.WaitReady(chromedp.CSS(`select[aria-label="Scope: which"] option[value="todo/todo"]`)),
			choose(`select[aria-label="Scope: which"]`, "todo/todo"),
			chromedp.SendKeys(chromedp.CSS(`input[aria-label="Scope: resource id"]`), "list 7"))
		if got := eval[string](t, ctx, `document.querySelector('#assignment-form input[name=scope]').value`); got != todoGRN {
			t.Fatalf("the picker built %q, want %q", got, todoGRN)
		}
		a11y(t, ctx, "assignment")
		shot(t, ctx, "assignment")
		step(t, ctx, "assign", submit(`#assignment-form`), chromedp.WaitVisible(chromedp.CSS(`#assignment-saved`)))
	})

	run("access checker explains the decision", func(t *testing.T) {
		hash(t, ctx, "#/checker")
		step(t, ctx, "check", chromedp.WaitVisible(chromedp.CSS(`#checker-form input[name=subjectId]`)),
			chromedp.SendKeys(chromedp.CSS(`#checker-form input[name=subjectId]`), userID),
			chromedp.SendKeys(chromedp.CSS(`#checker-form input[name=action]`), "todo.todo.read"),
			chromedp.SetValue(chromedp.CSS(`#checker-form input[name=resource]`), todoGRN),
			submit(`#checker-form`), chromedp.WaitVisible(chromedp.CSS(`#decision-value`)))
		got := text(t, ctx, "#decision")
		if !strings.Contains(got, "ALLOWED") || !strings.Contains(got, todoGRN) || !strings.Contains(got, "user:"+userID) {
			t.Errorf("decision: %q", got)
		}
		step(t, ctx, "effective", chromedp.Click(chromedp.CSS(`#effective-button`)), chromedp.WaitVisible(chromedp.CSS(`#effective table`)))
		if got := text(t, ctx, "#effective"); !strings.Contains(got, "todo.todo.read") {
			t.Errorf("effective permissions: %q", got)
		}
		a11y(t, ctx, "checker")
		shot(t, ctx, "checker")
		// Another resource of the type: denied, with keyhold's reason.
		eval[bool](t, ctx, `(() => { const el = document.querySelector('#checker-form input[name=resource]'); el.value = `+jsString(todoGRN+"x")+`; return true })()`)
		step(t, ctx, "check denied", submit(`#checker-form`), chromedp.WaitVisible(chromedp.CSS(`#decision .deny`)))
		if got := text(t, ctx, "#decision"); !strings.Contains(got, "no_matching_assignment") {
			t.Errorf("denial: %q", got)
		}
	})

	run("conditional assignment", func(t *testing.T) {
		hash(t, ctx, "#/assignments/new")
		fill := func(cond string) {
			step(t, ctx, "fill", chromedp.WaitVisible(chromedp.CSS(`#assignment-form textarea[name=condition]`)),
				chromedp.SetValue(chromedp.CSS(`#assignment-form input[name=subjectId]`), userID),
				chromedp.SetValue(chromedp.CSS(`#assignment-form select[name=role]`), roleGRN),
				chromedp.SetValue(chromedp.CSS(`#assignment-form input[name=scope]`), todoGRN),
				chromedp.SetValue(chromedp.CSS(`#assignment-form textarea[name=condition]`), cond))
		}
		// A condition that does not compile: keyhold's 400, shown with the field.
		fill("context.ticket ==")
		step(t, ctx, "refused", submit(`#assignment-form`), chromedp.WaitVisible(chromedp.CSS(`.error .debug`)))
		if got := text(t, ctx, ".error"); !strings.Contains(got, "400") || !strings.Contains(got, "condition") {
			t.Errorf("a bad condition: %q", got)
		}
		fill("context.ticket == 'T-1'")
		step(t, ctx, "assign", submit(`#assignment-form`), chromedp.WaitVisible(chromedp.CSS(`#assignment-saved`)))
		hash(t, ctx, "#/assignments")
		filterList(t, ctx, "Role assignments", "subject in ('user:"+userID+"')")
		if got := text(t, ctx, `section[aria-label="Role assignments"] table`); !strings.Contains(got, "context.ticket == 'T-1'") {
			t.Errorf("the list lacks the condition: %q", got)
		}
	})

	run("edit an assignment's scopes", func(t *testing.T) {
		// The conditional assignment: its scope goes from the todo list to the whole workspace.
		type asg struct {
			ID, Condition string
			Scope         []string
		}
		var list struct{ Items []asg }
		_, body := e.Do(t, "GET", "/authorization/v2alpha2/role-assignments?filter="+url.QueryEscape("subject in ('user:"+userID+"')"), e.AdminToken(t), nil)
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		var id string
		for _, a := range list.Items {
			if a.Condition != "" {
				id = a.ID
			}
		}
		step(t, ctx, "open", chromedp.WaitVisible(chromedp.CSS(`a[aria-label="Edit scopes of assignment `+id+`"]`)),
			chromedp.Click(chromedp.CSS(`a[aria-label="Edit scopes of assignment `+id+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Remove scope `+todoGRN+`"]`)))
		if got := text(t, ctx, "#assignment-edit-form dl"); !strings.Contains(got, "context.ticket == 'T-1'") {
			t.Errorf("the form lacks the condition: %q", got)
		}
		a11y(t, ctx, "assignment-edit")
		wsGRN := "grn:glp/workspaces/" + strings.ReplaceAll(ws, "-", "")
		step(t, ctx, "rescope", chromedp.Click(chromedp.CSS(`button[aria-label="Remove scope `+todoGRN+`"]`)),
			choose(`select[aria-label="Scope: kind"]`, "workspace"), chromedp.Click(chromedp.CSS(`#add-scope`)),
			chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Remove scope `+wsGRN+`"]`)),
			submit(`#assignment-edit-form`), chromedp.WaitVisible(chromedp.CSS(`#assignment-updated`)))
		var got asg
		_, body = e.Do(t, "GET", "/authorization/v2alpha2/role-assignments/"+id, e.AdminToken(t), nil)
		if err := json.Unmarshal(body, &got); err != nil || got.Condition != "context.ticket == 'T-1'" || len(got.Scope) != 1 || got.Scope[0] != wsGRN {
			t.Fatalf("after the edit: %s", body)
		}
	})

	run("scope group with a scope", func(t *testing.T) {
		hash(t, ctx, "#/scope-groups")
		step(t, ctx, "create", chromedp.WaitVisible(chromedp.CSS(`input[name=scopeGroupName]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=scopeGroupName]`), "Lab"), submit(`#scope-group-form`),
			chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Delete scope group Lab"]`)))
		eval[string](t, ctx, `document.querySelector('a[href^="#/scope-groups/"]').click(); location.hash`)
		step(t, ctx, "add scope", chromedp.WaitReady(chromedp.CSS(`select[aria-label="Scope: which"] option[value="todo/todo"]`)),
			choose(`select[aria-label="Scope: which"]`, "todo/todo"),
			chromedp.SendKeys(chromedp.CSS(`input[aria-label="Scope: resource id"]`), "lab-list"),
			chromedp.SendKeys(chromedp.CSS(`input[name=scopeDescription]`), "the lab's list"), submit(`#scope-form`))
		labGRN := strings.Replace(todoGRN, "list_207", "lab-list", 1)
		step(t, ctx, "listed", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Remove scope `+labGRN+`"]`)))
		a11y(t, ctx, "scope-group")
		shot(t, ctx, "scope-group")
	})

	run("providers", func(t *testing.T) {
		hash(t, ctx, "#/providers/todo")
		step(t, ctx, "permissions", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Delete permission todo.todo.read"]`)))
		a11y(t, ctx, "provider")
		shot(t, ctx, "provider")
	})

	run("audit log", func(t *testing.T) {
		hash(t, ctx, "#/audit")
		filterList(t, ctx, "Audit log", "category eq 'API Gateway'")
		step(t, ctx, "records", chromedp.WaitVisible(chromedp.CSS(`button[aria-label^="Details of"]`)), chromedp.Click(chromedp.CSS(`button[aria-label^="Details of"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#audit-detail li`)))
		if got := text(t, ctx, "#audit-detail"); !strings.Contains(got, "Action:") || !strings.Contains(got, "API Gateway") {
			t.Errorf("details: %q", got)
		}
		a11y(t, ctx, "audit")
		shot(t, ctx, "audit")
	})

	run("provisions", func(t *testing.T) {
		hash(t, ctx, "#/provisions")
		provisions := func() (ids []string) {
			var out struct{ Items []struct{ ID string } }
			_, body := e.Do(t, "GET", "/service-catalog/v1/service-manager-provisions", e.AdminToken(t), nil)
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatal(err)
			}
			for _, p := range out.Items {
				ids = append(ids, p.ID)
			}
			return ids
		}
		provision := func(what string, index int) {
			eval[bool](t, ctx, `(() => { document.getElementById('provision-saved')?.remove(); const el = document.querySelector('#provision-form select[name=provision]'); el.selectedIndex = `+fmt.Sprint(index)+`; return true })()`)
			step(t, ctx, what, submit(`#provision-form`), chromedp.WaitVisible(chromedp.CSS(`#provision-saved`)))
		}
		step(t, ctx, "the catalogue's choices", chromedp.WaitReady(chromedp.CSS(`#provision-form select[name=provision] option`)))
		provision("first", 0)
		provision("second", 1)
		if got := provisions(); len(got) != 2 {
			t.Fatalf("provisions after two: %v", got)
		}
		// The same manager in the same region again: keyhold's 409, shown.
		eval[bool](t, ctx, `(() => { document.querySelector('#provision-form select[name=provision]').selectedIndex = 0; return true })()`)
		step(t, ctx, "again", submit(`#provision-form`), chromedp.WaitVisible(chromedp.CSS(`.error .debug`)))
		if got := text(t, ctx, ".error"); !strings.Contains(got, "409") {
			t.Errorf("a second provision of the same: %q", got)
		}
		a11y(t, ctx, "provisions")
		shot(t, ctx, "provisions")
		first := provisions()[0]
		step(t, ctx, "delete", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Delete provision `+first+`"]`)),
			chromedp.Click(chromedp.CSS(`button[aria-label="Delete provision `+first+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#confirm-ok`)), chromedp.Click(chromedp.CSS(`#confirm-ok`)),
			chromedp.WaitNotPresent(chromedp.CSS(`button[aria-label="Delete provision `+first+`"]`)))
		if got := provisions(); len(got) != 1 || got[0] == first {
			t.Fatalf("provisions after the delete: %v", got)
		}
	})

	run("narrow window, dark mode", func(t *testing.T) {
		hash(t, ctx, "#/credentials")
		step(t, ctx, "narrow and dark", chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(c, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 420, Height: 900, DeviceScaleFactor: 1}); err != nil {
				return err
			}
			_, err := cdp.Call(c, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		}), chromedp.WaitVisible(chromedp.CSS(`form[role=search]`)))
		if dir := eval[string](t, ctx, `getComputedStyle(document.querySelector('.layout')).flexDirection`); dir != "column" {
			t.Errorf("narrow layout: flex-direction %q", dir)
		}
		if bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 20, 25)" {
			t.Errorf("dark background: %q", bg)
		}
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 420 {
			t.Errorf("the page is %d px wide in a 420 px window", w)
		}
		a11y(t, ctx, "narrow-dark")
		shot(t, ctx, "narrow-dark")
		step(t, ctx, "back", chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(c, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
				return err
			}
			_, err := cdp.Call(c, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	})

	run("reset and delete the credential", func(t *testing.T) {
		hash(t, ctx, "#/credentials")
		filterList(t, ctx, "API credentials", "ownerId eq '"+userID+"'")
		step(t, ctx, "listed", chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Reset secret of dana-ci"]`)))
		step(t, ctx, "reset", chromedp.Click(chromedp.CSS(`button[aria-label="Reset secret of dana-ci"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#confirm-ok`)), chromedp.Click(chromedp.CSS(`#confirm-ok`)),
			chromedp.WaitVisible(chromedp.CSS(`#new-secret`)))
		newSecret := text(t, ctx, "#new-secret")
		if !hex64.MatchString(newSecret) || newSecret == secret {
			t.Fatalf("reset secret %q", newSecret)
		}
		resp, _ := e.PostForm(t, e.TokenURL(ws), map[string][]string{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("old secret after reset: %d", resp.StatusCode)
		}
		e.Token(t, ws, clientID, newSecret)
		// Cancelling the confirmation deletes nothing.
		step(t, ctx, "delete, cancelled", chromedp.Click(chromedp.CSS(`button[aria-label="Delete dana-ci"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#confirm-cancel`)), chromedp.Click(chromedp.CSS(`#confirm-cancel`)),
			chromedp.WaitNotVisible(chromedp.CSS(`#confirm`)))
		e.Token(t, ws, clientID, newSecret)
		step(t, ctx, "delete", chromedp.Click(chromedp.CSS(`button[aria-label="Delete dana-ci"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#confirm-ok`)), chromedp.Click(chromedp.CSS(`#confirm-ok`)),
			chromedp.WaitNotPresent(chromedp.CSS(`button[aria-label="Delete dana-ci"]`)))
		resp, _ = e.PostForm(t, e.TokenURL(ws), map[string][]string{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {newSecret}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("secret after delete: %d", resp.StatusCode)
		}
	})

	run("sign out", func(t *testing.T) {
		step(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`#signout`)), chromedp.WaitVisible(chromedp.CSS(`#signin-secret`)))
		if n := eval[int](t, ctx, `document.querySelectorAll('#nav a').length`); n != 0 {
			t.Errorf("nav still offers %d links", n)
		}
	})

	run("observer sees no write buttons and a forced write shows the 403", func(t *testing.T) {
		observer = e.UserWithRole(t, ws, "glp.workspace-observer")
		// The observer pastes a token instead of a secret.
		step(t, ctx, "paste a token", chromedp.WaitVisible(chromedp.CSS(`#signin-token textarea`)),
			chromedp.SetValue(chromedp.CSS(`#signin-token textarea`), e.TokenFor(t, observer)), submit(`#signin-token`),
			chromedp.WaitVisible(chromedp.CSS(`#nav a[href="#/credentials"]`)))
		if n := eval[int](t, ctx, `localStorage.length + sessionStorage.length + document.cookie.length`); n != 0 {
			t.Errorf("a pasted token left %d items in storage", n)
		}
		hash(t, ctx, "#/credentials")
		step(t, ctx, "list", chromedp.WaitVisible(chromedp.CSS(`form[role=search] button`)), chromedp.WaitVisible(chromedp.CSS(`section table tbody tr`)))
		if n := eval[int](t, ctx, `document.querySelectorAll('#new-credential, button[aria-label^="Reset"], button[aria-label^="Delete"]').length`); n != 0 {
			t.Errorf("the observer is offered %d write controls", n)
		}
		for _, screen := range []string{"#/users", "#/groups", "#/roles", "#/assignments", "#/scope-groups", "#/providers/todo", "#/provisions"} {
			hash(t, ctx, screen)
			step(t, ctx, screen, chromedp.WaitVisible(chromedp.CSS(`section table tbody tr`)))
			a11y(t, ctx, screen)
			if n := eval[int](t, ctx, `document.querySelectorAll('main form:not([role=search]), #new-user, #new-role, #new-assignment, main button.danger, main button[aria-label^="Reset"], main a[aria-label^="Edit scopes"]').length`); n != 0 {
				t.Errorf("%s: the observer is offered %d write controls", screen, n)
			}
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('#nav a[href="#/tenants"]').length`); n != 0 {
			t.Errorf("a standard workspace offers tenants")
		}
		hash(t, ctx, "#/credentials/new")
		step(t, ctx, "forced create", chromedp.WaitVisible(chromedp.CSS(`input[name=credentialName]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=credentialName]`), "sneaky"),
			submit(`input[name=credentialName]`),
			chromedp.WaitVisible(chromedp.CSS(`.error .debug`)))
		if got := text(t, ctx, ".error"); !strings.Contains(got, "403") || !strings.Contains(got, "glp.workspace.edit") {
			t.Errorf("forced write: %q", got)
		}
		a11y(t, ctx, "forbidden")
		shot(t, ctx, "forbidden")
	})

	run("a revoked token signs the console out", func(t *testing.T) {
		// The observer's credential is deleted behind the console's back: the next call
		// answers 401 and the console signs out, saying why.
		resp, body := e.Do(t, "DELETE", "/workspaces/v1/credentials/"+observer.ClientID, e.AdminToken(t), nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d %s", resp.StatusCode, body)
		}
		hash(t, ctx, "#/workspace")
		step(t, ctx, "signed out", chromedp.WaitVisible(chromedp.CSS(`#signout-reason`)))
		if got := text(t, ctx, "#signout-reason"); !strings.Contains(got, "refused the token") {
			t.Errorf("reason: %q", got)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('#nav a').length`); n != 0 {
			t.Errorf("nav still offers %d links", n)
		}
	})

	run("MSP: create a tenant and switch into it by token exchange", func(t *testing.T) {
		msp := e.CreateWorkspace(t, "Acme MSP", "MSP", "msp-admin@example.test")
		signInTo(t, msp.WorkspaceID, msp.ClientID, msp.ClientSecret)
		hash(t, ctx, "#/tenants")
		step(t, ctx, "create tenant", chromedp.WaitVisible(chromedp.CSS(`input[name=workspaceName]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=workspaceName]`), "Globex"), submit(`input[name=workspaceName]`),
			chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Switch into Globex"]`)))
		a11y(t, ctx, "tenants")
		shot(t, ctx, "tenants")
		step(t, ctx, "switch", chromedp.Click(chromedp.CSS(`button[aria-label="Switch into Globex"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#workspace-details`)))
		if got := text(t, ctx, "#workspace-details"); !strings.Contains(got, "Globex") || !strings.Contains(got, "MSP_TENANT") {
			t.Errorf("after the switch: %q", got)
		}
		if got := text(t, ctx, "#who"); !strings.Contains(got, "through the MSP") {
			t.Errorf("header: %q", got)
		}
		step(t, ctx, "back", chromedp.Click(chromedp.CSS(`#who button`)), chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Switch into Globex"]`)))
		if got := text(t, ctx, "#who"); !strings.Contains(got, "Acme MSP") || strings.Contains(got, "through the MSP") {
			t.Errorf("header after going back: %q", got)
		}
	})
}
