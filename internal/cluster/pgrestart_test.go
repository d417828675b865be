package cluster_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pgCluster is a PostgreSQL cluster of the test's own, in a temporary directory on a free
// port, so that the test can stop, kill and restart it without touching the machine's shared
// server. PostgreSQL refuses to run as root: as root, its commands run as the postgres user.
type pgCluster struct {
	bin, dir, data string
	port           int
	asUser         *user.User // nil: run as the test's own user
}

// postgresBinDir finds the newest PostgreSQL server binaries installed the Debian way. Without
// them the test is skipped, except in CI, which installs them (.ci/run) and must run it.
func postgresBinDir(t *testing.T) string {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(found, func(i, j int) bool { return pgVersion(found[i]) < pgVersion(found[j]) })
	if len(found) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are required in CI")
		}
		t.Skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
	}
	return filepath.Dir(found[len(found)-1])
}

func pgVersion(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// newPGCluster initialises a cluster (trust authentication on loopback) and starts it.
func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	c := &pgCluster{bin: postgresBinDir(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user to run PostgreSQL as: %v", err)
		}
		c.asUser = u
	}
	dir, err := os.MkdirTemp("", "keyhold-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir, c.data = dir, filepath.Join(dir, "data")
	if c.asUser != nil {
		uid, _ := strconv.Atoi(c.asUser.Uid)
		gid, _ := strconv.Atoi(c.asUser.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	port, err := strconv.Atoi(strings.TrimPrefix(freeAddrs(t, 1)[0], "127.0.0.1:"))
	if err != nil {
		t.Fatal(err)
	}
	c.port = port
	t.Cleanup(func() {
		_ = c.cmd("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop").Run()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "log")); err == nil {
				t.Logf("==== PostgreSQL log ====\n%s", b)
			}
		}
		os.RemoveAll(dir)
	})
	c.run(t, "initdb", "-D", c.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	c.start(t)
	return c
}

func (c *pgCluster) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.asUser != nil {
		return exec.Command("runuser", append([]string{"-u", c.asUser.Username, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *pgCluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := c.cmd(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", c.data, "-l", filepath.Join(c.dir, "log"), "-w", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.port, c.dir), "start")
}

// crash stops the server as a crash would (SIGQUIT to every process, no checkpoint, recovery
// at the next start): connections break at once.
func (c *pgCluster) crash(t *testing.T) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop")
}

func (c *pgCluster) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// readyz reads a node's /readyz: its status code and its "status" field.
func readyz(n *node) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, n.url+"/readyz", nil)
	if err != nil {
		return 0, "", err
	}
	r, err := send(req)
	if err != nil {
		return 0, "", err
	}
	var body struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(r.body, &body)
	return r.status, body.Status, nil
}

// waitStatus polls a node's /readyz until its status field is want.
func waitStatus(t *testing.T, n *node, wantCode int, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, status, err := readyz(n)
		if err == nil && code == wantCode && status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /readyz %d %q (%v), want %d %q within %s", n.name, code, status, err, wantCode, want, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDatabaseRestartUnderLoad runs two nodes on a PostgreSQL cluster of the test's own and
// crashes the cluster (immediate shutdown) under a load of token requests and credential
// creations, then starts it again. While it is down, tokens keep being issued from memory on
// both nodes, every write answers 503 with Retry-After (never 500, never a hang past the
// client's timeout), and /readyz says "degraded". Once it is back, the nodes reconnect by
// themselves, /readyz says "ready" again, writes succeed, and every credential whose creation
// was acknowledged is there.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	needProcesses(t)
	pg := newPGCluster(t)
	nodes := startCluster(t, pg.url(), 2, "--max-credentials-per-owner", "1000000", "--store-timeout", "3s")
	boot := bootstrapLine(t, nodes)
	adminTok := mustToken(t, nodes[0].url, boot.WorkspaceID, boot.ClientID, boot.ClientSecret)

	var (
		phase    atomic.Int32 // 0 up, 1 down, 2 back
		stop     atomic.Bool
		mu       sync.Mutex
		acked    []createdCredential
		failures []string
		byPhase  [3]map[int]int // write statuses seen per phase
		tokens   [3]int         // tokens issued per phase
	)
	for i := range byPhase {
		byPhase[i] = map[int]int{}
	}
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	var wg sync.WaitGroup
	for w := range 2 {
		n := nodes[w]
		wg.Go(func() { // writer: credential creations
			for i := 0; !stop.Load(); i++ {
				p := phase.Load()
				req, _ := http.NewRequest(http.MethodPost, n.url+"/workspaces/v1/credentials",
					strings.NewReader(fmt.Sprintf(`{"credentialName":"restart-%d-%d"}`, w, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+adminTok)
				resp, err := client.Do(req)
				if err != nil {
					fail("create on %s (phase %d): %v", n.name, p, err)
					continue
				}
				var c createdCredential
				var e struct{ ErrorCode string }
				dec := json.NewDecoder(resp.Body)
				switch resp.StatusCode {
				case http.StatusCreated:
					if err := dec.Decode(&c); err != nil || c.ClientSecret == "" {
						fail("create on %s: 201 without a credential: %v", n.name, err)
					}
				case http.StatusServiceUnavailable:
					_ = dec.Decode(&e)
					if resp.Header.Get("Retry-After") == "" || !strings.HasPrefix(e.ErrorCode, "HPE_GL_ERROR_") {
						fail("create on %s: 503 without Retry-After or error code (%q)", n.name, e.ErrorCode)
					}
					time.Sleep(100 * time.Millisecond)
				default:
					fail("create on %s (phase %d): status %d", n.name, p, resp.StatusCode)
				}
				resp.Body.Close()
				mu.Lock()
				byPhase[p][resp.StatusCode]++
				if c.ClientSecret != "" {
					acked = append(acked, c)
				}
				mu.Unlock()
			}
		})
		wg.Go(func() { // reader: tokens, served from memory whatever the database does
			for !stop.Load() {
				p := phase.Load()
				if _, r, err := requestToken(n.url, boot.WorkspaceID, boot.ClientID, boot.ClientSecret); err != nil || r.status != http.StatusOK {
					fail("token on %s (phase %d): %v %v", n.name, p, r, err)
					continue
				}
				mu.Lock()
				tokens[p]++
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}

	time.Sleep(time.Second)
	pg.crash(t)
	phase.Store(1)
	crashed := time.Now()
	for _, n := range nodes {
		waitStatus(t, n, http.StatusOK, "degraded", 30*time.Second)
	}
	t.Logf("both nodes reported degraded %s after the crash", time.Since(crashed).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // load against the stopped database
	pg.start(t)
	phase.Store(2)
	restarted := time.Now()
	for _, n := range nodes {
		waitStatus(t, n, http.StatusOK, "ready", 60*time.Second)
	}
	t.Logf("both nodes ready again %s after the restart", time.Since(restarted).Round(time.Millisecond))
	// Writes go through again on both nodes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		ok := byPhase[2][http.StatusCreated] >= 4
		mu.Unlock()
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()

	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("writes by phase (up, down, back): %v; tokens by phase: %v; %d creations acknowledged", byPhase, tokens, len(acked))
	if byPhase[0][http.StatusCreated] == 0 || byPhase[1][http.StatusServiceUnavailable] == 0 || byPhase[2][http.StatusCreated] == 0 {
		t.Fatalf("the load did not span the outage: writes by phase %v", byPhase)
	}
	if tokens[1] == 0 {
		t.Fatal("no token was issued while the database was down")
	}
	if t.Failed() {
		return
	}
	// Nothing acknowledged is lost: every acknowledged credential is listed and gets a token.
	listed, r, err := listCredentials(nodes[1].url, adminTok)
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("list: %v %v", r, err)
	}
	for _, c := range acked {
		if !slices.Contains(listed, c.ClientID) {
			t.Errorf("acknowledged credential %s is not listed after the restart", c.ClientID)
		}
	}
	for _, c := range acked[len(acked)-min(len(acked), 5):] {
		mustToken(t, nodes[0].url, boot.WorkspaceID, c.ClientID, c.ClientSecret)
	}
}
