package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README's tour once lost the bootstrap secret: its first command printed the one-time
// line to the terminal and a second server wrote an empty bootstrap.json, so every call
// answered 401. This test runs the tour's commands as README.md has them (the sh blocks
// between the tour markers), with bash, against a fresh build in an empty directory, and
// fails when any of them fails.
func TestReadmeTourRuns(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is required in CI for the README tour")
		}
		t.Skip("the README tour needs curl")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	build, tour := tourBlocks(t, string(readme))
	// The tour runs ./bin/keyhold as the build block before it makes it; the test builds the
	// same binary itself (from this checkout) rather than writing into the repository.
	if strings.TrimSpace(build) != "go build -o bin/keyhold ./cmd/keyhold" {
		t.Fatalf("the block before the tour is %q; the test stands in for exactly `go build -o bin/keyhold ./cmd/keyhold`", build)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(keyholdBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "keyhold"), bin, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", tour)
	cmd.Dir = dir
	// HOME (and XDG_CONFIG_HOME) in the directory: the CLI's login stores its configuration
	// there, not in the configuration of whoever runs the test.
	cmd.Env = append(cleanEnv(), fmt.Sprintf("PORT=%d", freePort(t)), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The server the tour starts in the background is in the script's process group; it goes
	// with it, whatever happens.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// The background server keeps the script's stderr open after the script ends; Wait stops
	// waiting for it this long after the script exits.
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("the README tour failed: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}

	// What the tour shows is what it claims.
	stdout := out.String()
	for _, want := range []string{
		`"credentialName":"ci-pipeline"`, // 3: created, with its secret
		`"active":true`,                  // 5: introspection of the token
		"204\n",                          // 4: deleted
		"200\n",                          // 5: revoked
		`"jwks_uri"`,                     // 5: metadata
		`"workspaceName":"acme"`,         // workspace create
		"/authorization/v2/oauth2/",      // issuers printed
		"logged in to http://127.0.0.1:", // the CLI's login
		"CLIENT SECRET:",                 // the CLI's credentials create
		"allowed\n  principal: user:",    // the CLI's check --explain
		"denied (exit 3)",                // and a denial
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the tour's output lacks %q:\n%s", want, stdout)
		}
	}
	boot, err := os.ReadFile(filepath.Join(dir, "bootstrap.json"))
	if err != nil || !strings.Contains(string(boot), `"clientSecret":"`) {
		t.Errorf("bootstrap.json: %q, %v", boot, err)
	}
}

// tourBlocks returns the sh block just before the tour's start marker and the tour's sh
// blocks joined in order.
func tourBlocks(t *testing.T, readme string) (build, tour string) {
	t.Helper()
	start := strings.Index(readme, "<!-- tour:")
	end := strings.Index(readme, "<!-- /tour -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no tour markers (<!-- tour: ... --> ... <!-- /tour -->)")
	}
	before := shBlocks(readme[:start])
	if len(before) == 0 {
		t.Fatal("no sh block before the tour")
	}
	blocks := shBlocks(readme[start:end])
	if len(blocks) < 3 {
		t.Fatalf("the tour has %d sh blocks", len(blocks))
	}
	return before[len(before)-1], strings.Join(blocks, "\n")
}

// shBlocks extracts the bodies of the ```sh fenced blocks of a Markdown text.
func shBlocks(md string) []string {
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```sh":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}
