package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/tlscert/tlscerttest"
)

// cliEnv runs the real binary as a CLI user whose configuration file is in a directory of
// the test (KEYHOLD_CONFIG), and whose home and XDG directories are there too.
type cliEnv struct {
	t    *testing.T
	dir  string
	conf string
}

func newCLIEnv(t *testing.T) *cliEnv {
	dir := t.TempDir()
	return &cliEnv{t: t, dir: dir, conf: filepath.Join(dir, "config", "keyhold", "config.json")}
}

// run runs keyhold args with stdin, returning what it did.
func (e *cliEnv) run(stdin string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, keyholdBinary(e.t), args...)
	cmd.Dir = e.dir
	cmd.Env = append(cleanEnv(), "KEYHOLD_CONFIG="+e.conf, "HOME="+e.dir, "XDG_CONFIG_HOME="+filepath.Join(e.dir, "xdg"))
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("%q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{code, out.String(), errOut.String()}
}

// ok runs a command that must succeed and returns its stdout.
func (e *cliEnv) ok(args ...string) string {
	e.t.Helper()
	r := e.run("", args...)
	if r.code != 0 {
		e.t.Fatalf("keyhold %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// jsonOf runs a command with -o json and decodes its answer.
func (e *cliEnv) jsonOf(v any, args ...string) {
	e.t.Helper()
	out := e.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("keyhold %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// expect checks a finished command's exit code and that its output matches.
func (e *cliEnv) expect(r result, code int, stream, pattern string) {
	e.t.Helper()
	got := r.stdout
	if stream == "stderr" {
		got = r.stderr
	}
	if r.code != code || !regexp.MustCompile(pattern).MatchString(got) {
		e.t.Fatalf("exit %d (want %d), %s should match %q\nstdout: %s\nstderr: %s", r.code, code, stream, pattern, r.stdout, r.stderr)
	}
}

// startBootstrapped starts a server and returns its bootstrap line.
func startBootstrapped(t *testing.T) recovered {
	t.Helper()
	return startBootstrappedIn(t, t.TempDir())
}

// startBootstrappedIn starts a server on the store in dir/keyhold-data.
func startBootstrappedIn(t *testing.T, dir string) recovered {
	t.Helper()
	port := freePort(t)
	s := startServer(t, dir, nil, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	s.waitFor(t, "the bootstrap line", func() bool { return strings.Contains(s.stdout.String(), "clientSecret") })
	line, _, _ := strings.Cut(s.stdout.String(), "\n")
	return parseLine(t, line)
}

// The session a new administrator goes through, with the real binary against a real server:
// log in with the secret on stdin, add a user, give it a credential, make a custom role,
// assign it, ask keyhold why the user may act (and why not), reset and delete the credential,
// remove the user; each output is checked, and so are the exit codes scripts branch on.
func TestCLISession(t *testing.T) {
	boot := startBootstrapped(t)
	e := newCLIEnv(t)
	ws := strings.ReplaceAll(boot.WorkspaceID, "-", "")
	wsGRN := "grn:glp/workspaces/" + ws

	// Not logged in yet: a clear message, exit 1.
	e.expect(e.run("", "users", "list"), exitFailed, "stderr", "not logged in: run keyhold login")

	// login: a wrong secret is refused by keyhold (exit 4) and nothing is stored.
	e.expect(e.run("not-the-secret\n", "login", "--issuer", boot.Issuer, "--client-id", boot.ClientID, "--secret-stdin"),
		exitRefused, "stderr", "401.*invalid_client.*run keyhold login again")
	if _, err := os.Stat(e.conf); !os.IsNotExist(err) {
		t.Fatalf("a failed login wrote the configuration: %v", err)
	}
	e.expect(e.run(boot.ClientSecret+"\n", "login", "--issuer", boot.Issuer, "--client-id", boot.ClientID, "--secret-stdin"),
		exitOK, "stdout", "logged in to http://127.0.0.1:[0-9]+ \\(workspace "+ws+"\\) as client "+boot.ClientID+"; context default saved")
	checkPrivate(t, e.conf)
	if raw, _ := os.ReadFile(e.conf); !strings.Contains(string(raw), boot.ClientSecret) {
		t.Fatal("the configuration does not hold the secret")
	}
	// context list never shows the secret.
	out := e.ok("context", "list")
	if !strings.Contains(out, "default  true") || strings.Contains(out, boot.ClientSecret) {
		t.Fatalf("context list:\n%s", out)
	}

	// A user, found in the table and by email.
	e.expect(e.run("", "users", "add", "ada@example.com"), exitOK, "stdout", "USERNAME: +ada@example.com")
	var users []struct{ ID, Username string }
	e.jsonOf(&users, "users", "list", "--filter", "username eq 'ada@example.com'")
	if len(users) != 1 || users[0].Username != "ada@example.com" {
		t.Fatalf("users list: %+v", users)
	}
	ada := users[0].ID
	if !strings.Contains(e.ok("users", "list"), ada+"  ada@example.com  VERIFIED") {
		t.Fatal("users list: ada's row is missing")
	}

	// A credential for ada: its secret shown once, on stdout; the reminder on stderr.
	r := e.run("", "credentials", "create", "ada-ci", "--owner", ada)
	e.expect(r, exitOK, "stdout", "CLIENT SECRET: +[0-9a-f]{64}\n")
	e.expect(r, exitOK, "stderr", "shown this once")
	var cred struct{ ID, ClientSecret, OwnerID string }
	e.jsonOf(&cred, "credentials", "create", "ada-ci-2", "--owner", ada)
	if cred.OwnerID != ada || len(cred.ClientSecret) != 64 {
		t.Fatalf("credentials create -o json: %+v", cred)
	}
	if strings.Contains(e.ok("credentials", "list", "--owner", ada), cred.ClientSecret) {
		t.Fatal("credentials list shows a secret")
	}

	// A custom role, assigned to ada on the whole workspace (by the role's name and ada's email).
	var role struct{ ID, Name, GRN string }
	e.jsonOf(&role, "roles", "create", "auditor", "--permission", "glp.workspace.view,glp.identity.view")
	if role.Name != "auditor" || !strings.Contains(role.GRN, "/custom-roles/"+role.ID) {
		t.Fatalf("roles create: %+v", role)
	}
	var asg struct {
		ID, Subject, Role string
		Scope             []string
	}
	e.jsonOf(&asg, "assignments", "create", "user:ada@example.com", "auditor")
	if asg.Subject != "user:"+ada || asg.Role != role.GRN || len(asg.Scope) != 1 || asg.Scope[0] != wsGRN {
		t.Fatalf("assignments create: %+v", asg)
	}
	if !strings.Contains(e.ok("assignments", "list", "--subject", "user:"+ada), asg.ID) {
		t.Fatal("assignments list --subject lacks the assignment")
	}

	// check --explain names the assignment and role that allow it; a denial exits 3 with its reason.
	r = e.run("", "check", "ada@example.com", "glp.identity.view", wsGRN, "--explain")
	e.expect(r, exitOK, "stdout", "^allowed\n")
	e.expect(r, exitOK, "stdout", "assignmentId: "+asg.ID)
	e.expect(r, exitOK, "stdout", "roleId: "+role.ID)
	e.expect(e.run("", "check", "user:"+ada, "glp.identity.edit", wsGRN, "--explain"), exitDenied, "stdout", "^denied\n  code: no_matching_assignment\n")
	// --scope: the roles allow it, the scope does not, and the explanation says so.
	e.expect(e.run("", "check", "ada@example.com", "glp.identity.view", wsGRN, "--explain", "--scope", "glp.workspace.view"),
		exitDenied, "stdout", "^denied\n  code: outside_token_scope\n")
	e.expect(e.run("", "check", "ada@example.com", "glp.identity.view", wsGRN, "--scope", "glp.identity.*"), exitOK, "stdout", "^allowed\n")
	var decision struct{ Decision bool }
	e.jsonOf(&decision, "check", "ada@example.com", "glp.workspace.view", wsGRN)
	if !decision.Decision {
		t.Fatal("check -o json: not allowed")
	}
	// can-i: ada holds exactly the role's two permissions; the administrator holds more.
	out = e.ok("can-i", "--subject", "ada@example.com")
	if got := strings.Fields(out); strings.Join(got, " ") != "PERMISSION glp.identity.view glp.workspace.view" {
		t.Fatalf("can-i --subject ada:\n%s", out)
	}
	if out := e.ok("can-i"); !strings.Contains(out, "glp.identity.delete") {
		t.Fatalf("can-i (me):\n%s", out)
	}
	// --condition: kept whole (CEL has commas), shown in the listing; a bad one is keyhold's 400.
	const cond = `context.ticket in ['T-1', 'T-2']`
	var condAsg struct{ ID, Condition string }
	e.jsonOf(&condAsg, "assignments", "create", "user:ada@example.com", "auditor", "--condition", cond)
	if condAsg.Condition != cond {
		t.Fatalf("assignments create --condition: %+v", condAsg)
	}
	if out := e.ok("assignments", "list", "--subject", "user:"+ada); !strings.Contains(out, "CONDITION") || !strings.Contains(out, cond) {
		t.Fatalf("assignments list lacks the condition:\n%s", out)
	}
	e.expect(e.run("", "assignments", "create", "user:ada@example.com", "auditor", "--condition", "context.x =="), exitRefused, "stderr", "400 .*condition")
	e.expect(e.run("", "assignments", "delete", condAsg.ID), exitOK, "stdout", "deleted")

	// reset: a new secret; delete: gone (a second delete is a 404, exit 4).
	var reset struct{ ClientSecret string }
	e.jsonOf(&reset, "credentials", "reset", cred.ID)
	if len(reset.ClientSecret) != 64 || reset.ClientSecret == cred.ClientSecret {
		t.Fatalf("credentials reset: %+v", reset)
	}
	e.expect(e.run("", "credentials", "delete", cred.ID), exitOK, "stdout", "^deleted "+cred.ID+"\n$")
	e.expect(e.run("", "credentials", "delete", cred.ID), exitRefused, "stderr", "404 Not Found HPE_GL_ERROR_NOT_FOUND")
	e.expect(e.run("", "assignments", "delete", asg.ID), exitOK, "stdout", "deleted")
	e.expect(e.run("", "roles", "delete", role.ID), exitOK, "stdout", "deleted")
	e.expect(e.run("", "users", "delete", ada), exitOK, "stdout", "^removed "+ada)
	e.expect(e.run("", "check", "ada@example.com", "glp.identity.view", wsGRN, "--explain"), exitDenied, "stdout", "code: unknown_subject")

	// Bad input is refused by keyhold with the field named (exit 4), a usage error exits 2.
	e.expect(e.run("", "roles", "create", "bad*name", "--permission", "glp.workspace.view"), exitRefused, "stderr", "400 .*name")
	e.expect(e.run("", "check", "nobody", "x", wsGRN), exitUsage, "stderr", "subject \"nobody\"")
	e.expect(e.run("", "credentials", "frobnicate"), exitUsage, "stderr", "unexpected argument")

	// A second context, to a server that is not there: exit 5; the first stays usable.
	e.expect(e.run(boot.ClientSecret, "login", "--context", "gone", "--base-url", "http://127.0.0.1:1", "--workspace", boot.WorkspaceID,
		"--client-id", boot.ClientID, "--secret-stdin"), exitUnavailable, "stderr", "keyhold unreachable")
	e.ok("context", "use", "default")
	e.ok("logout")
	e.expect(e.run("", "users", "list"), exitFailed, "stderr", "not logged in")
	if raw, _ := os.ReadFile(e.conf); strings.Contains(string(raw), boot.ClientSecret) {
		t.Fatal("logout left the secret in the configuration")
	}
}

// checkPrivate fails unless the file is 0600 in a directory 0700.
func checkPrivate(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: mode %04o, want 0600", path, st.Mode().Perm())
	}
	dst, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if dst.Mode().Perm() != 0o700 {
		t.Fatalf("%s: mode %04o, want 0700", filepath.Dir(path), dst.Mode().Perm())
	}
}

// A configuration others may read is refused, as ssh refuses such a key, and the message
// says how to fix it; a symbolic link is refused too.
func TestCLIConfigPermissions(t *testing.T) {
	boot := startBootstrapped(t)
	e := newCLIEnv(t)
	secretFile := filepath.Join(e.dir, "secret")
	if err := os.WriteFile(secretFile, []byte(boot.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok("login", "--issuer", boot.Issuer, "--client-id", boot.ClientID, "--secret-file", secretFile, "--context", "ops")
	checkPrivate(t, e.conf)
	// A secret file others may read works, with a warning.
	if err := os.Chmod(secretFile, 0o644); err != nil {
		t.Fatal(err)
	}
	e.expect(e.run("", "login", "--issuer", boot.Issuer, "--client-id", boot.ClientID, "--secret-file", secretFile, "--context", "ops"),
		exitOK, "stderr", "warning: .*secret.* may be read by others \\(permissions 0644\\)")
	e.ok("users", "list")
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660} {
		if err := os.Chmod(e.conf, mode); err != nil {
			t.Fatal(err)
		}
		e.expect(e.run("", "users", "list"), exitFailed, "stderr", fmt.Sprintf("permissions %04o are too open.*chmod 600", mode))
	}
	if err := os.Chmod(e.conf, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(e.dir, "link.json")
	if err := os.Symlink(e.conf, link); err != nil {
		t.Fatal(err)
	}
	r := e.run("", "users", "list", "--config", link)
	e.expect(r, exitFailed, "stderr", "symbolic link is refused")
	e.ok("users", "list")
}

// With no terminal and neither --secret-stdin nor --secret-file, login asks for nothing and
// stores nothing; no flag of any command takes a secret's value.
func TestCLISecretNeverInArgv(t *testing.T) {
	e := newCLIEnv(t)
	e.expect(e.run("", "login", "--base-url", "http://127.0.0.1:1", "--workspace", "01a24904c6737c23a6ce58d6200486b3", "--client-id", "x"),
		exitFailed, "stderr", "no terminal to ask for the client secret: use --secret-stdin or --secret-file")
	e.expect(e.run("", "login", "--issuer", "http://127.0.0.1:1/authorization/v2/oauth2/x", "--client-id", "x", "--client-secret", "s"),
		exitUsage, "stderr", "unknown flag --client-secret")
	// Plain HTTP off loopback would send the secret in the clear: refused before it is read.
	e.expect(e.run("s\n", "login", "--base-url", "http://192.0.2.1:8080", "--workspace", "01a24904c6737c23a6ce58d6200486b3", "--client-id", "x", "--secret-stdin"),
		exitUsage, "stderr", "plain http:// off loopback sends the client secret and tokens in the clear")
	if _, err := os.Stat(e.conf); !os.IsNotExist(err) {
		t.Fatal("a failed login wrote the configuration")
	}
}

// The other families, through the binary: user groups and members, scope groups and scopes,
// providers, resource types and permissions, and, in an MSP workspace, tenants and tenant
// groups; a standard workspace is refused tenants (403, exit 4).
func TestCLIFamilies(t *testing.T) {
	dir := t.TempDir()
	boot := startBootstrappedIn(t, dir)
	e := newCLIEnv(t)
	ws := strings.ReplaceAll(boot.WorkspaceID, "-", "")
	e.run(boot.ClientSecret, "login", "--issuer", boot.Issuer, "--client-id", boot.ClientID, "--secret-stdin")

	// User groups and members.
	var user struct{ ID string }
	e.jsonOf(&user, "users", "add", "bo@example.com")
	var group struct{ ID, Name, Principal string }
	e.jsonOf(&group, "user-groups", "create", "operators", "--description", "on call")
	if group.Name != "operators" || group.Principal != "user-group:"+group.ID {
		t.Fatalf("user-groups create: %+v", group)
	}
	e.expect(e.run("", "user-groups", "members", "add", group.ID, user.ID), exitOK, "stdout", "USERNAME: +bo@example.com")
	e.expect(e.run("", "user-groups", "members", "list", group.ID), exitOK, "stdout", user.ID+"  bo@example.com")
	e.expect(e.run("", "user-groups", "members", "remove", group.ID, user.ID), exitOK, "stdout", "^removed "+user.ID)
	e.expect(e.run("", "user-groups", "list"), exitOK, "stdout", group.ID+"  operators")
	e.expect(e.run("", "user-groups", "delete", group.ID), exitOK, "stdout", "^deleted "+group.ID)
	e.expect(e.run("", "user-groups", "get", group.ID), exitRefused, "stderr", "404")

	// Scope groups and scopes (a failed item of a batch fails the command).
	var sg struct{ ID, GRN string }
	e.jsonOf(&sg, "scope-groups", "create", "eu servers")
	grn := "grn:glp/workspaces/" + ws + "/regions/eu/providers/glp/workspaces/*"
	e.expect(e.run("", "scope-groups", "scopes", "add", sg.ID, grn, "--description", "all"), exitOK, "stdout", "^ok [0-9a-f-]+ "+regexp.QuoteMeta(grn))
	var scopes []struct{ ID, GRN string }
	e.jsonOf(&scopes, "scope-groups", "scopes", "list", sg.ID)
	if len(scopes) != 1 || scopes[0].GRN != grn {
		t.Fatalf("scopes list: %+v", scopes)
	}
	e.expect(e.run("", "scope-groups", "scopes", "add", sg.ID, grn, "--description", "again"), exitRefused, "stderr", "409")
	e.expect(e.run("", "scope-groups", "scopes", "remove", sg.ID, scopes[0].ID), exitOK, "stdout", "^ok "+scopes[0].ID)
	e.expect(e.run("", "scope-groups", "get", sg.ID), exitOK, "stdout", "NAME: +eu servers")
	e.expect(e.run("", "scope-groups", "delete", sg.ID), exitOK, "stdout", "deleted")

	// Providers, resource types and permissions of keyhold's own provider.
	e.expect(e.run("", "providers", "list"), exitOK, "stdout", "(?m)^glp ")
	e.expect(e.run("", "providers", "get", "glp"), exitOK, "stdout", "ID: +glp")
	e.expect(e.run("", "resource-types", "list", "glp"), exitOK, "stdout", "(?m)^glp/workspace +workspace")
	e.expect(e.run("", "permissions", "list", "glp"), exitOK, "stdout", "glp.identity.edit +STABLE")

	// Rotation with an overlap: both secrets work until the previous one is retired.
	var cred struct{ ID, ClientSecret string }
	e.jsonOf(&cred, "credentials", "create", "rotated")
	var rot struct {
		ClientSecret string
		Secrets      []struct{ Slot string }
	}
	e.jsonOf(&rot, "credentials", "rotate", cred.ID, "--overlap", "1h")
	if len(rot.ClientSecret) != 64 || rot.ClientSecret == cred.ClientSecret || len(rot.Secrets) != 2 {
		t.Fatalf("credentials rotate: %+v", rot)
	}
	e.expect(e.run("", "credentials", "secrets", cred.ID), exitOK, "stdout", "(?s)current.*previous")
	e.expect(e.run(cred.ClientSecret, "login", "--context", "old", "--issuer", boot.Issuer, "--client-id", cred.ID, "--secret-stdin"), exitOK, "stdout", "context old saved")
	e.ok("context", "use", "default")
	e.expect(e.run("", "credentials", "retire", cred.ID), exitOK, "stdout", "^retired the previous secret of "+cred.ID)
	e.expect(e.run("", "credentials", "secrets", cred.ID), exitOK, "stdout", "^SLOT +CREATED +EXPIRES\ncurrent ")
	e.expect(e.run("", "users", "list", "--context", "old"), exitRefused, "stderr", "invalid_client.*run keyhold login again")

	// Token settings: set replaces all three, get shows them, a scope narrows the next token.
	e.expect(e.run("", "credentials", "token-settings", "get", cred.ID), exitOK, "stdout", "LIFETIME: +0")
	e.expect(e.run("", "credentials", "token-settings", "set", cred.ID, "--lifetime", "5m", "--scope", "glp.workspace.view",
		"--audience", "https://reports.example.com/api"), exitOK, "stdout", "(?s)LIFETIME: +300.*reports.example.com.*glp.workspace.view")
	var ts struct {
		TokenLifetime int64
		Scopes        []string
	}
	e.jsonOf(&ts, "credentials", "token-settings", "get", cred.ID)
	if ts.TokenLifetime != 300 || len(ts.Scopes) != 1 || ts.Scopes[0] != "glp.workspace.view" {
		t.Fatalf("credentials token-settings get: %+v", ts)
	}
	e.expect(e.run("", "credentials", "token-settings", "set", cred.ID, "--scope", "not a scope"), exitRefused, "stderr", "scopes")
	e.expect(e.run("", "credentials", "token-settings", "set", cred.ID, "--lifetime", "1500ms"), exitUsage, "stderr", "whole seconds")
	e.expect(e.run("", "credentials", "token-settings", "set", cred.ID), exitOK, "stdout", "LIFETIME: +0")

	// private_key_jwt keys from a JWK set file.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	jwksFile := filepath.Join(e.dir, "jwks.json")
	if err := os.WriteFile(jwksFile, []byte(`{"keys":[`+string(jwk)+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e.expect(e.run("", "credentials", "keys", "set", cred.ID, "--jwks-file", jwksFile), exitOK, "stdout", `JWKS: .*"kid":"k1"`)
	e.expect(e.run("", "credentials", "keys", "get", cred.ID), exitOK, "stdout", `"kid":"k1"`)
	e.expect(e.run("", "credentials", "keys", "delete", cred.ID), exitOK, "stdout", "^deleted the keys of "+cred.ID)
	e.expect(e.run("", "credentials", "keys", "set", cred.ID), exitUsage, "stderr", "jwks-file|jwks-uri")

	// Mutual TLS: a subject DN, then a self-signed certificate (shown by its thumbprint).
	e.expect(e.run("", "credentials", "tls", "set", cred.ID, "--subject-dn", "CN=ci-job,O=Acme"), exitOK, "stdout", "SUBJECT DN: +CN=ci-job,O=Acme")
	e.expect(e.run("", "credentials", "tls", "get", cred.ID), exitOK, "stdout", "SUBJECT DN: +CN=ci-job,O=Acme")
	certFile := filepath.Join(e.dir, "ci-job.pem")
	// (keyhold keeps a registered certificate's thumbprint; who signed it does not matter.)
	certPEM, _ := tlscerttest.NewCA(t).Issue(t, "ci-job", time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	var mtls struct {
		SubjectDN              string
		CertificateThumbprints []string
	}
	e.jsonOf(&mtls, "credentials", "tls", "set", cred.ID, "--certificate", certFile)
	if mtls.SubjectDN != "" || len(mtls.CertificateThumbprints) != 1 {
		t.Fatalf("credentials tls set --certificate: %+v", mtls)
	}
	e.expect(e.run("", "credentials", "tls", "set", cred.ID), exitUsage, "stderr", "subject-dn|certificate")
	e.expect(e.run("", "credentials", "tls", "set", cred.ID, "--certificate", jwksFile), exitRefused, "stderr", "400 ")
	e.expect(e.run("", "credentials", "tls", "delete", cred.ID), exitOK, "stdout", "^removed the TLS client authentication of "+cred.ID)

	// The workspace's contact: set replaces it whole, get reads it back.
	e.expect(e.run("", "contact", "set", "--email", "ops@example.com", "--city", "Paris", "--country", "FR"), exitOK, "stdout", "(?s)EMAIL: +ops@example.com.*CITY: +Paris")
	var contact struct {
		Email   string
		Address struct{ City, CountryCode string }
	}
	e.jsonOf(&contact, "contact", "get")
	if contact.Email != "ops@example.com" || contact.Address.City != "Paris" || contact.Address.CountryCode != "FR" {
		t.Fatalf("contact get: %+v", contact)
	}
	e.expect(e.run("", "contact", "set", "--email", "not an email"), exitRefused, "stderr", "400 .*email")

	// A standard workspace has no tenants.
	e.expect(e.run("", "tenants", "list"), exitRefused, "stderr", "403 Forbidden")

	// An MSP workspace, made on the server's store, then its tenants and tenant groups.
	r := runBinary(t, dir, nil, "workspace", "create", "--name", "msp", "--type", "MSP", "--admin-email", "msp@example.com")
	if r.code != 0 {
		t.Fatalf("workspace create: %d %s", r.code, r.stderr)
	}
	msp := parseLine(t, r.stdout)
	e.expect(e.run(msp.ClientSecret, "login", "--context", "msp", "--issuer", msp.Issuer, "--client-id", msp.ClientID, "--secret-stdin"),
		exitOK, "stdout", "context msp saved")
	var tenant struct{ ID string }
	e.jsonOf(&tenant, "tenants", "create", "acme-eu", "--email", "ops@acme-eu.example")
	e.expect(e.run("", "tenants", "list"), exitOK, "stdout", tenant.ID+"  acme-eu  MSP_TENANT")
	e.expect(e.run("", "tenants", "get", tenant.ID), exitOK, "stdout", "NAME: +acme-eu")
	e.expect(e.run("", "contact", "get", tenant.ID), exitOK, "stdout", "EMAIL: +ops@acme-eu.example")
	var tg struct{ ID, Name string }
	e.jsonOf(&tg, "tenant-groups", "create", "europe", "--description", "EU tenants")
	var member struct{ ID string }
	e.jsonOf(&member, "tenant-groups", "members", "add", tg.ID, tenant.ID)
	e.expect(e.run("", "tenant-groups", "members", "list", tg.ID), exitOK, "stdout", member.ID+"  "+tenant.ID+"  acme-eu")
	e.expect(e.run("", "tenant-groups", "list"), exitOK, "stdout", tg.ID+"  europe  1")
	e.expect(e.run("", "tenant-groups", "members", "remove", tg.ID, member.ID), exitOK, "stdout", "removed")
	e.expect(e.run("", "tenant-groups", "delete", tg.ID), exitOK, "stdout", "deleted")
	e.expect(e.run("", "tenants", "delete", tenant.ID), exitOK, "stdout", "deleted")
	// The first context is still there, and --context picks it.
	e.expect(e.run("", "users", "list", "--context", "default"), exitOK, "stdout", "bo@example.com")
	e.expect(e.run("", "context", "list"), exitOK, "stdout", "(?m)^msp +true")
}

// login asks for the secret on a terminal: run under script(1), which gives it a
// pseudo-terminal, the secret typed after the prompt logs in.
func TestCLILoginPrompt(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed")
	}
	boot := startBootstrapped(t)
	e := newCLIEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	line := strings.Join([]string{keyholdBinary(t), "login", "--issuer", boot.Issuer, "--client-id", boot.ClientID}, " ")
	cmd := exec.CommandContext(ctx, scriptBin, "-qec", line, "/dev/null")
	cmd.Dir = e.dir
	cmd.Env = append(cleanEnv(), "KEYHOLD_CONFIG="+e.conf)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Client secret: ") {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := stdin.Write([]byte(boot.ClientSecret + "\n")); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login at the prompt: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "logged in to ") {
		t.Fatalf("login at the prompt:\n%s", out.String())
	}
	checkPrivate(t, e.conf)
	e.ok("users", "list")
}
