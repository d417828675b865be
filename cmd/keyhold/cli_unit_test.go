package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/keyhold/keyhold/client"
)

// model is the command tree kong builds from the cli struct.
func model(t *testing.T) *kong.Application {
	t.Helper()
	var c cli
	p, err := kong.New(&c, kong.Name("keyhold"))
	if err != nil {
		t.Fatal(err)
	}
	return p.Model
}

// commandPaths lists every command of the tree ("" is the root).
func commandPaths(app *kong.Application) []string {
	paths := []string{""}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, ch := range n.Children {
			if ch.Type == kong.CommandNode {
				paths = append(paths, ch.Path())
				walk(ch)
			}
		}
	}
	walk(app.Node)
	sort.Strings(paths)
	return paths
}

// Every command's --help ends with an example, and the examples name no command that does
// not exist.
func TestEveryCommandHasAnExample(t *testing.T) {
	paths := commandPaths(model(t))
	known := map[string]bool{}
	for _, p := range paths {
		known[p] = true
		if examples[p] == "" {
			t.Errorf("command %q has no example in cli_help.go", p)
			continue
		}
		var out, errOut bytes.Buffer
		args := append(strings.Fields(p), "--help")
		if code := run(args, &out, &errOut); code != 0 || !regexp.MustCompile(`\nExample:\n  .*keyhold `).MatchString(out.String()) {
			t.Errorf("keyhold %s: exit %d, no example:\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
		}
	}
	for p := range examples {
		if !known[p] {
			t.Errorf("example for %q, which is no command", p)
		}
	}
}

// No flag takes a secret as its value: a flag's value lands in shell history and in every
// process listing. Secrets come from a prompt, standard input or a file.
func TestNoFlagTakesASecret(t *testing.T) {
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, group := range n.AllFlags(false) {
			for _, f := range group {
				name := strings.ToLower(f.Name)
				if !strings.Contains(name, "secret") && !strings.Contains(name, "password") && !strings.Contains(name, "token") {
					continue
				}
				if !f.IsBool() && !strings.HasSuffix(name, "-file") && name != "token-ttl" && name != "token-cache-size" {
					t.Errorf("%s --%s takes a value that may be a secret", n.Path(), f.Name)
				}
			}
		}
		for _, ch := range n.Children {
			walk(ch)
		}
	}
	walk(model(t).Node)
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&client.Error{StatusCode: 400}, exitRefused},
		{&client.Error{StatusCode: 401}, exitRefused},
		{&client.Error{StatusCode: 404}, exitRefused},
		{&client.Error{StatusCode: 429}, exitUnavailable},
		{&client.Error{StatusCode: 500}, exitUnavailable},
		{&client.Error{StatusCode: 503}, exitUnavailable},
		{errDenied, exitDenied},
		{unreachable(&os.PathError{Op: "x", Err: os.ErrNotExist}), exitFailed},
		{os.ErrPermission, exitFailed},
	} {
		if got := exitCodeOf(tc.err); got != tc.want {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.want)
		}
	}
}

// Subjects and resources as the command line gives them; the entries found by fuzzing stay
// here as cases.
func TestParseSubjectResource(t *testing.T) {
	for _, tc := range []struct {
		in, typ, id string
		bad         bool
	}{
		{in: "me", typ: "api-client", id: "ME"},
		{in: "ada@example.com", typ: "user", id: "ada@example.com"},
		{in: "user:ada@example.com", typ: "user", id: "ada@example.com"},
		{in: "user-group:0190", typ: "user-group", id: "0190"},
		{in: "api-client:x:y", typ: "api-client", id: "x:y"},
		{in: "token:eyJ", bad: true},
		{in: "nobody", bad: true},
		{in: "user:", bad: true},
		{in: ":", bad: true},
		{in: "", bad: true},
	} {
		got, err := parseSubject(tc.in, "ME")
		if (err != nil) != tc.bad || (!tc.bad && (got.Type != tc.typ || got.ID != tc.id)) {
			t.Errorf("parseSubject(%q) = %v, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		in, typ, id string
		bad         bool
	}{
		{in: "grn:glp/workspaces/ab", typ: "grn", id: "grn:glp/workspaces/ab"},
		{in: "todo/todo:42", typ: "todo/todo", id: "42"},
		{in: "todo:a:b", typ: "todo", id: "a:b"},
		{in: "todo", bad: true},
		{in: ":42", bad: true},
		{in: "todo:", bad: true},
	} {
		got, err := parseResource(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && (got.Type != tc.typ || got.ID != tc.id)) {
			t.Errorf("parseResource(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func FuzzParseSubjectResource(f *testing.F) {
	for _, s := range []string{"me", "ada@example.com", "user:x", "grn:glp", "todo/todo:42", ":", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sub, err := parseSubject(s, "me-id"); err == nil && (sub.Type == "" || sub.ID == "" || sub.Type == "token") {
			t.Fatalf("parseSubject(%q) = %v", s, sub)
		}
		if res, err := parseResource(s); err == nil && (res.Type == "" || res.ID == "") {
			t.Fatalf("parseResource(%q) = %v", s, res)
		}
	})
}

// Table cells keep a row on its line and escape what a terminal would interpret.
func TestCell(t *testing.T) {
	for in, want := range map[string]string{"plain": "plain", "a\tb": `"a\tb"`, "x\x1b[2Jy": `"x\x1b[2Jy"`, "line\nbreak": `"line\nbreak"`} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
	if got := cell([]any{"a", 1.0, true}); got != "a,1,true" {
		t.Errorf("cell(list) = %q", got)
	}
}

// The completion scripts of the three shells complete this binary's commands and flags; the
// bash one is run by bash, and each is checked by its shell's syntax check where the shell is
// installed (bash must be).
func TestCompletionScripts(t *testing.T) {
	scripts := map[string]string{}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		var out, errOut bytes.Buffer
		if code := run([]string{"completion", sh}, &out, &errOut); code != 0 {
			t.Fatalf("completion %s: exit %d: %s", sh, code, errOut.String())
		}
		for _, want := range []string{"credentials", "tenant-groups", "can-i", "secret-stdin"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("completion %s lacks %q", sh, want)
			}
		}
		scripts[sh] = out.String()
	}
	if !strings.HasPrefix(scripts["zsh"], "#compdef keyhold\n") {
		t.Error("the zsh script does not start with #compdef")
	}
	for sh, script := range scripts {
		bin, err := exec.LookPath(sh)
		if err != nil {
			if sh == "bash" {
				t.Fatal("bash is needed to check the bash completion")
			}
			t.Logf("%s not installed: its script's syntax is not checked", sh)
			continue
		}
		cmd := exec.Command(bin, "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, out)
		}
	}
	// What bash offers after a few command lines.
	for line, want := range map[string]string{
		"keyhold cred":                     "credentials",
		"keyhold credentials ":             "--help create delete keys list reset retire rotate secrets tls token-settings",
		"keyhold credentials create x --o": "--output --owner",
		"keyhold user-groups members ":     "--help add list remove",
		"keyhold login --secret-":          "--secret-file --secret-stdin",
		// "users" is an argument of check here, not the users command.
		"keyhold check --context prod users ":   "--config --context --explain --help --output --scope",
		"keyhold completion ":                   "--help bash fish zsh",
		"keyhold users list -o ":                "json table",
		"keyhold serve --signing-alg E":         "ES256 EdDSA",
		"keyhold scope-groups scopes add g x -": "--config --context --description --help --output",
	} {
		words := strings.Split(line, " ")
		script := scripts["bash"] + "\nCOMP_WORDS=(" + strings.Join(quoteAll(words), " ") + ")\nCOMP_CWORD=" +
			strconv.Itoa(len(words)-1) + "\n_keyhold\nprintf '%s\\n' \"${COMPREPLY[@]}\" | sort | tr '\\n' ' '\n"
		out, err := exec.Command("bash", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		got := strings.Join(strings.Fields(string(out)), " ")
		if got != want {
			t.Errorf("bash completes %q with %q, want %q", line, got, want)
		}
	}
}

// What fish offers, where fish is installed (its `complete -C` runs the completions).
func TestCompletionFish(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish is not installed")
	}
	var script, errOut bytes.Buffer
	if code := run([]string{"completion", "fish"}, &script, &errOut); code != 0 {
		t.Fatal(errOut.String())
	}
	for line, want := range map[string]string{
		"keyhold cred":                  "credentials",
		"keyhold credentials ":          "create delete keys list reset retire rotate secrets token-settings",
		"keyhold users list --output ":  "json table",
		"keyhold tenant-groups members": "members",
	} {
		out, err := exec.Command(fish, "--no-config", "-c", script.String()+"\ncomplete -C "+strconv.Quote(line)).CombinedOutput()
		if err != nil {
			t.Fatalf("fish: %v\n%s", err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			w, _, _ := strings.Cut(l, "\t")
			got = append(got, w)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != want {
			t.Errorf("fish completes %q with %q, want %q", line, got, want)
		}
	}
}

func quoteAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = "'" + w + "'"
	}
	return out
}

// login --issuer splits the issuer URL the bootstrap line prints into base URL and workspace.
func TestSplitIssuer(t *testing.T) {
	for _, tc := range []struct{ in, base, ws string }{
		{"http://127.0.0.1:8080/authorization/v2/oauth2/01a24904c6737c23a6ce58d6200486b3", "http://127.0.0.1:8080", "01a24904c6737c23a6ce58d6200486b3"},
		{"https://iam.example.com/keyhold/authorization/v2/oauth2/abc", "https://iam.example.com/keyhold", "abc"},
	} {
		base, ws, err := splitIssuer(tc.in)
		if err != nil || base != tc.base || ws != tc.ws {
			t.Errorf("splitIssuer(%q) = %q, %q, %v", tc.in, base, ws, err)
		}
	}
	for _, in := range []string{"http://h/authorization/v2/oauth2/ws/token", "http://h/", "http://h/oauth2/ws", "%zz"} {
		if _, _, err := splitIssuer(in); err == nil {
			t.Errorf("splitIssuer(%q) accepted", in)
		}
	}
}

func FuzzSplitIssuer(f *testing.F) {
	f.Add("http://127.0.0.1:8080/authorization/v2/oauth2/01a24904c6737c23a6ce58d6200486b3")
	f.Add("http://h/authorization/v2/oauth2//x")
	f.Fuzz(func(t *testing.T, s string) {
		base, ws, err := splitIssuer(s)
		if err == nil && (strings.Contains(ws, "/") || strings.Contains(base, "/authorization/v2/oauth2/"+ws+"?")) {
			t.Fatalf("splitIssuer(%q) = %q, %q", s, base, ws)
		}
	})
}
