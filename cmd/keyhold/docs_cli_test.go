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

// docs/cli.md's session runs as written: its sh blocks between the cli-tour markers, with
// bash, the binary on the PATH as keyhold, HOME in an empty directory (the configuration file
// goes there), against the server the first block starts.
func TestDocsCLISessionRuns(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(doc), "<!-- cli-tour:")
	end := strings.Index(string(doc), "<!-- /cli-tour -->")
	if start < 0 || end < start {
		t.Fatal("docs/cli.md has no cli-tour markers")
	}
	blocks := shBlocks(string(doc)[start:end])
	if len(blocks) < 3 {
		t.Fatalf("the session has %d sh blocks", len(blocks))
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", strings.Join(blocks, "\n"))
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), fmt.Sprintf("PORT=%d", freePort(t)), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"),
		"PATH="+filepath.Dir(keyholdBinary(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("the session failed: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	stdout := out.String()
	for _, want := range []string{
		"logged in to http://127.0.0.1:",
		"default  true",
		"USERNAME:  ada@example.com",
		"CLIENT SECRET:",
		"KIND:         CUSTOM",
		"SOURCE:     LOCAL",
		"allowed\n  principal: user:",
		"denied\n  code: no_matching_assignment\ncheck exited 3\n",
		"PERMISSION\nglp.identity.view\nglp.workspace.view\n",
		"deleted ",
		"logged out of context default",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the session's output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".config", "keyhold", "config.json")); err != nil {
		t.Errorf("the configuration is not where docs/cli.md says: %v", err)
	}
}
