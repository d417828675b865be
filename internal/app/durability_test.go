//go:build unix

package app_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/workspace"
)

// TestBinaryDurability builds the real keyhold binary once and runs it as a subprocess: what
// it acknowledged survives a SIGKILL, and SIGTERM drains in-flight requests and exits 0.
func TestBinaryDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the keyhold binary; skipped with -short")
	}
	bin := buildKeyhold(t)
	t.Run("acknowledged writes survive SIGKILL", func(t *testing.T) { testCrashRecovery(t, bin) })
	for _, tc := range []struct {
		name     string
		inFlight bool
	}{
		{"SIGTERM when idle", false},
		{"SIGTERM with a slow request in flight", true},
	} {
		t.Run(tc.name, func(t *testing.T) { testGracefulShutdown(t, bin, tc.inFlight) })
	}
}

func testCrashRecovery(t *testing.T, bin string) {
	dir := t.TempDir()
	p := startKeyhold(t, bin, dir, "", "--max-credentials-per-owner", "30")
	boot := p.bootstrap(t)
	e := &apptest.Env{Base: p.base, Admin: boot}
	tok := e.AdminToken(t)

	type cred struct {
		id, secret, oldSecret string
		deleted               bool
	}
	creds := make([]*cred, 20)
	for i := range creds {
		c := createCred(t, e, tok, map[string]string{"credentialName": fmt.Sprintf("durable-%02d", i)})
		creds[i] = &cred{id: c.ID, secret: c.ClientSecret}
	}
	for _, c := range creds[:5] {
		resp, raw := e.Do(t, http.MethodPost, credsPath+"/"+c.id+"/reset", tok, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reset: %d %s", resp.StatusCode, raw)
		}
		var r credResp
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		c.oldSecret, c.secret = c.secret, r.ClientSecret
	}
	// The last of the resets is deleted too, with two that were never reset.
	for _, c := range []*cred{creds[4], creds[10], creds[11]} {
		resp, raw := e.Do(t, http.MethodDelete, credsPath+"/"+c.id, tok, nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d %s", resp.StatusCode, raw)
		}
		c.deleted = true
	}
	p.kill(t, syscall.SIGKILL)

	q := startKeyhold(t, bin, dir, p.listen)
	e2 := &apptest.Env{Base: q.base, Admin: boot}
	for i, c := range creds {
		st, code := credTokenStatus(t, e2, boot.WorkspaceID, c.id, c.secret)
		switch {
		case c.deleted && (st != http.StatusUnauthorized || code != "invalid_client"):
			t.Errorf("deleted credential %d: %d %s, want 401 invalid_client", i, st, code)
		case !c.deleted && st != http.StatusOK:
			t.Errorf("credential %d with its latest secret: %d %s", i, st, code)
		}
		if c.oldSecret != "" && !c.deleted {
			if st, code := credTokenStatus(t, e2, boot.WorkspaceID, c.id, c.oldSecret); st != http.StatusUnauthorized || code != "invalid_client" {
				t.Errorf("reset credential %d with its old secret: %d %s, want 401 invalid_client", i, st, code)
			}
		}
	}
	// The token minted before the crash still verifies: the signing key was persisted.
	l, raw := listCreds(t, e2, tok, "")
	if l.Count != 1+len(creds)-3 {
		t.Errorf("after the restart the administrator holds %d credentials, want %d: %s", l.Count, 1+len(creds)-3, raw)
	}
	for i, c := range creds {
		found := false
		for _, it := range l.Items {
			if it.ID == c.id {
				found = true
				if want := map[bool]int64{true: 2, false: 1}[c.oldSecret != ""]; it.Generation != want {
					t.Errorf("credential %d has generation %d, want %d", i, it.Generation, want)
				}
			}
		}
		if found == c.deleted {
			t.Errorf("credential %d: listed %v, deleted %v", i, found, c.deleted)
		}
	}
	q.kill(t, syscall.SIGTERM)
	if out := q.stdout.String(); out != "" {
		t.Errorf("the restarted node printed on stdout (a second bootstrap?): %q", out)
	}
}

func testGracefulShutdown(t *testing.T, bin string, inFlight bool) {
	dir := t.TempDir()
	const timeout = 10 * time.Second
	p := startKeyhold(t, bin, dir, "", "--shutdown-timeout", timeout.String())
	boot := p.bootstrap(t)
	e := &apptest.Env{Base: p.base, Admin: boot}
	tok := e.AdminToken(t)

	var conn net.Conn
	body := `{"credentialName": "sent slowly"}`
	if inFlight {
		// A client that has sent its headers and half its body when SIGTERM arrives.
		var err error
		if conn, err = net.Dial("tcp", p.listen); err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\n\r\n%s", credsPath, p.listen, tok, len(body), body[:10])
		time.Sleep(300 * time.Millisecond)
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if inFlight {
		p.waitLog(t, "shutting down")
		time.Sleep(300 * time.Millisecond)
		select {
		case <-p.exited:
			t.Fatalf("exited with a request in flight; stderr:\n%s", p.stderr)
		default:
		}
		if _, err := conn.Write([]byte(body[10:])); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("the in-flight request got no answer: %v; stderr:\n%s", err, p.stderr)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("the in-flight request: %d", resp.StatusCode)
		}
	}
	select {
	case <-p.exited:
	case <-time.After(timeout + 5*time.Second):
		t.Fatalf("still running %s after SIGTERM; stderr:\n%s", time.Since(start), p.stderr)
	}
	if p.waitErr != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", p.waitErr, p.stderr)
	}
	if !inFlight && time.Since(start) > timeout/2 {
		t.Errorf("an idle node took %s to stop", time.Since(start))
	}
	for _, msg := range []string{`"msg":"drained"`, `"msg":"stopped"`} {
		if !strings.Contains(p.stderr.String(), msg) {
			t.Errorf("no %s log line; stderr:\n%s", msg, p.stderr)
		}
	}

	// The node restarts on the same data, without a second bootstrap, and kept the write.
	q := startKeyhold(t, bin, dir, p.listen)
	e2 := &apptest.Env{Base: q.base, Admin: boot}
	l, raw := listCreds(t, e2, e2.AdminToken(t), "")
	if want := map[bool]int{true: 2, false: 1}[inFlight]; l.Count != want {
		t.Errorf("after the restart: %s, want %d credentials", raw, want)
	}
	q.kill(t, syscall.SIGTERM)
	if q.waitErr != nil {
		t.Errorf("restarted node's exit: %v", q.waitErr)
	}
	if out := q.stdout.String(); out != "" {
		t.Errorf("the restarted node printed on stdout: %q", out)
	}
}

// keyholdProc is a `keyhold serve` subprocess.
type keyholdProc struct {
	cmd            *exec.Cmd
	listen, base   string
	stdout, stderr *apptest.SafeBuffer
	exited         chan struct{}
	waitErr        error // set when exited is closed
}

// buildKeyhold builds ./cmd/keyhold from the module root into a temporary directory.
func buildKeyhold(t *testing.T) string {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(root) == root {
			t.Fatal("no go.mod above the test's working directory")
		}
		root = filepath.Dir(root)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build keyhold: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "keyhold")
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/keyhold")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startKeyhold runs `keyhold serve` on dataDir, on listen (a free port when ""), and waits
// until /readyz answers 200.
func startKeyhold(t *testing.T, bin, dataDir, listen string, extra ...string) *keyholdProc {
	t.Helper()
	if listen == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listen = l.Addr().String()
		l.Close()
	}
	p := &keyholdProc{listen: listen, base: "http://" + listen, stdout: &apptest.SafeBuffer{},
		stderr: &apptest.SafeBuffer{}, exited: make(chan struct{})}
	args := append([]string{"serve", "--listen", listen, "--data-dir", dataDir, "--log-level", "info"}, extra...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.Env = append(os.Environ(), "KEYHOLD_BASE_URL=") // the base URL follows --listen
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("keyhold serve %s stderr:\n%s", listen, p.stderr)
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("keyhold exited before it was ready (%v); stderr:\n%s", p.waitErr, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("keyhold not ready after 30s; stderr:\n%s", p.stderr)
		}
	}
}

// bootstrap reads the one-time bootstrap line of a first start.
func (p *keyholdProc) bootstrap(t *testing.T) workspace.Created {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stdout.String(), "\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no bootstrap line on stdout (got %q); stderr:\n%s", p.stdout, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	line, rest, _ := strings.Cut(p.stdout.String(), "\n")
	if rest != "" {
		t.Errorf("more than one line on stdout: %q", rest)
	}
	var c workspace.Created
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("bootstrap line %q: %v", line, err)
	}
	if c.WorkspaceID == "" || c.ClientID == "" || !credHexSecret.MatchString(c.ClientSecret) || c.UserID == "" ||
		!strings.HasPrefix(c.TokenURL, p.base+"/authorization/v2/oauth2/") {
		t.Fatalf("bootstrap line %q is incomplete", line)
	}
	return c
}

// kill sends sig and waits for the process to exit.
func (p *keyholdProc) kill(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("keyhold still running 30s after %v", sig)
	}
	if sig == syscall.SIGKILL {
		var ee *exec.ExitError
		if !errors.As(p.waitErr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("keyhold was not killed by SIGKILL: %v", p.waitErr)
		}
	}
}

// waitLog waits until the process has logged msg.
func (p *keyholdProc) waitLog(t *testing.T, msg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), msg) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log; stderr:\n%s", msg, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
