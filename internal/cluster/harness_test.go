package cluster_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/workspace"
)

// syncInterval is passed to every node explicitly; the documented bound on staleness for a
// write made elsewhere is this interval. bound adds slack for a loaded test machine.
const (
	syncInterval = time.Second
	bound        = syncInterval + time.Second
	// baseURL is the public URL every node is given: the issuer and the audience of tokens, so
	// it must be the same on every node of a cluster (docs/operations.md).
	baseURL = "http://keyhold.cluster.test"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/keyhold once per test run and returns its path.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, err = os.MkdirTemp("", "keyhold-cluster-"); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(binDir, "keyhold")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/keyhold")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/keyhold: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// needProcesses skips tests that build and run the real binary in -short mode.
func needProcesses(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real keyhold processes; skipped with -short")
	}
}

// freeAddrs picks n distinct free loopback addresses. All listeners are held until every
// port is chosen, so the n are distinct.
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}

// node is one `keyhold serve` process. Its stdout and stderr go to files, printed when the
// test fails.
type node struct {
	name     string
	addr     string // host:port it listens on
	url      string // http://addr: where the test reaches it
	database string
	dir      string
	extra    []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	runs   int
	stdout string // file of the current run
	stderr string
}

// newNode describes a node; start runs it.
func newNode(t *testing.T, name, addr, database string, extra ...string) *node {
	n := &node{name: name, addr: addr, url: "http://" + addr, database: database, dir: t.TempDir(), extra: extra}
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			n.dump(t)
		}
	})
	return n
}

// start launches the process (again, after a kill) without waiting for it to be ready.
func (n *node) start(t testing.TB) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.runs++
	n.stdout = filepath.Join(n.dir, fmt.Sprintf("stdout.%d", n.runs))
	n.stderr = filepath.Join(n.dir, fmt.Sprintf("stderr.%d", n.runs))
	out, err := os.Create(n.stdout)
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.Create(n.stderr)
	if err != nil {
		out.Close()
		t.Fatal(err)
	}
	args := append([]string{"serve", "--database", n.database, "--listen", n.addr, "--base-url", baseURL,
		"--sync-interval", syncInterval.String(), "--log-level", "debug"}, n.extra...)
	cmd := exec.Command(binary(t), args...)
	cmd.Stdout, cmd.Stderr = out, errf
	cmd.Env = cleanEnv()
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		errf.Close()
		t.Fatalf("%s: start: %v", n.name, err)
	}
	out.Close() // the child holds its own descriptors
	errf.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
}

// cleanEnv is the test's environment without KEYHOLD_* settings, so that only the flags the
// test passes configure the nodes.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KEYHOLD_") {
			env = append(env, kv)
		}
	}
	return env
}

// exited reports whether the current process has exited.
func (n *node) exited() bool {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone. Killing a node that is not running
// does nothing.
func (n *node) kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// output is what the current run wrote to stdout.
func (n *node) output(t testing.TB) string {
	t.Helper()
	n.mu.Lock()
	path := n.stdout
	n.mu.Unlock()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dump prints every run's stdout and stderr.
func (n *node) dump(t testing.TB) {
	t.Helper()
	for run := 1; run <= n.runs; run++ {
		for _, s := range []string{"stdout", "stderr"} {
			b, err := os.ReadFile(filepath.Join(n.dir, fmt.Sprintf("%s.%d", s, run)))
			if err != nil {
				t.Logf("%s run %d %s: %v", n.name, run, s, err)
				continue
			}
			t.Logf("==== %s (%s) run %d %s ====\n%s", n.name, n.addr, run, s, b)
		}
	}
}

// waitReady polls /readyz until it answers 200, failing if the process exits first.
func (n *node) waitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if n.exited() {
			t.Fatalf("%s exited before it became ready", n.name)
		}
		resp, err := client.Get(n.url + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s (last: %v)", n.name, timeout, statusOrErr(resp, err))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statusOrErr(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// startCluster starts count nodes on database at the same time and waits until each is ready.
func startCluster(t *testing.T, database string, count int, extra ...string) []*node {
	t.Helper()
	addrs := freeAddrs(t, count)
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = newNode(t, fmt.Sprintf("node%d", i+1), addrs[i], database, extra...)
	}
	binary(t) // build before starting, so that the nodes start together
	began := time.Now()
	for _, n := range nodes {
		n.start(t)
	}
	for _, n := range nodes {
		n.waitReady(t, 60*time.Second)
	}
	t.Logf("%d nodes started together were all ready after %s", count, time.Since(began).Round(time.Millisecond))
	return nodes
}

// bootstrapLine finds the one bootstrap line among the nodes' stdouts.
func bootstrapLine(t *testing.T, nodes []*node) workspace.Created {
	t.Helper()
	var found []workspace.Created
	for _, n := range nodes {
		for _, line := range strings.Split(strings.TrimSpace(n.output(t)), "\n") {
			if line == "" {
				continue
			}
			var c workspace.Created
			if err := json.Unmarshal([]byte(line), &c); err != nil || c.WorkspaceID == "" || c.ClientSecret == "" {
				t.Fatalf("%s printed a line on stdout that is not a bootstrap line: %q (%v)", n.name, line, err)
			}
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one bootstrap line among %d nodes, got %d: %+v", len(nodes), len(found), found)
	}
	return found[0]
}

// client is the tests' HTTP client. Requests carry no retries of their own.
var client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
	Proxy: nil, MaxIdleConns: 100, MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second,
	DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
}}

// reply is an HTTP answer with its body read.
type reply struct {
	status int
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// send performs a request; err is a transport error (no HTTP answer).
func send(req *http.Request) (reply, error) {
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, body: body}, nil
}

// tokenURL is a workspace's token endpoint on one node.
func tokenURL(nodeURL, workspaceID string) string {
	return nodeURL + "/authorization/v2/oauth2/" + ids.Hex(workspaceID) + "/token"
}

// requestToken asks a node for a client_credentials token (client_secret_post).
func requestToken(nodeURL, workspaceID, clientID, secret string) (string, reply, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	req, err := http.NewRequest(http.MethodPost, tokenURL(nodeURL, workspaceID), strings.NewReader(form.Encode()))
	if err != nil {
		return "", reply{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err := send(req)
	if err != nil || r.status != http.StatusOK {
		return "", r, err
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tr); err != nil || tr.AccessToken == "" {
		return "", r, fmt.Errorf("token response %s: %v", r.body, err)
	}
	return tr.AccessToken, r, nil
}

// mustToken gets a token or fails the test.
func mustToken(t testing.TB, nodeURL, workspaceID, clientID, secret string) string {
	t.Helper()
	tok, r, err := requestToken(nodeURL, workspaceID, clientID, secret)
	if err != nil || tok == "" {
		t.Fatalf("token from %s for %s: %v %v", nodeURL, clientID, r, err)
	}
	return tok
}

// call sends a JSON API request with a bearer token.
func call(method, u, tok string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return send(req)
}

// createdCredential is the part of a 201 (or a reset's 200) the tests use.
type createdCredential struct {
	ID           string `json:"id"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	Generation   int64  `json:"generation"`
}

// createCredential posts a credential; ok is false unless the node answered 201 with a secret.
func createCredential(nodeURL, tok, name string) (createdCredential, reply, error) {
	var c createdCredential
	r, err := call(http.MethodPost, nodeURL+"/workspaces/v1/credentials", tok, map[string]string{"credentialName": name})
	if err != nil || r.status != http.StatusCreated {
		return c, r, err
	}
	if err := json.Unmarshal(r.body, &c); err != nil || c.ClientID == "" || c.ClientSecret == "" {
		return c, r, fmt.Errorf("create response %s: %v", r.body, err)
	}
	return c, r, nil
}

// listCredentials lists the caller's credentials; it returns the client ids listed.
func listCredentials(nodeURL, tok string) ([]string, reply, error) {
	r, err := call(http.MethodGet, nodeURL+"/workspaces/v1/credentials", tok, nil)
	if err != nil || r.status != http.StatusOK {
		return nil, r, err
	}
	var l struct {
		Items []struct {
			ClientID string `json:"clientId"`
		} `json:"items"`
		Count *int `json:"count"`
	}
	if err := json.Unmarshal(r.body, &l); err != nil || l.Count == nil || *l.Count != len(l.Items) {
		return nil, r, fmt.Errorf("list response %s: %v", r.body, err)
	}
	var out []string
	for _, it := range l.Items {
		out = append(out, it.ClientID)
	}
	return out, r, nil
}
