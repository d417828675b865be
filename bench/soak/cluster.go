package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to count the change log
	_ "modernc.org/sqlite"             // the "sqlite" driver, likewise

	"github.com/keyhold/keyhold/bench/internal/repo"
	"github.com/keyhold/keyhold/internal/iamload"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage/postgres"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
)

// baseURL is the public base URL every node is given (the same on all of them, as a cluster
// needs); requests go to each node's own address.
const baseURL = "http://keyhold.soak"

// cluster is the keyhold processes of a run and the store they share.
type cluster struct {
	cfg      Config
	tmp      string
	bin      string
	dataDir  string // SQLite
	database string // PostgreSQL URL
	dropDB   func()
	nodes    []*node
	log      io.Writer
	changes  *sql.DB // counts the change log
}

// node is one `keyhold serve` process.
type node struct {
	name   string
	addr   string
	url    string
	cmd    *exec.Cmd
	stdout string
	stderr string
	done   chan struct{}
}

// bootstrap is keyhold's first-start line (and `workspace create`'s output).
type bootstrap struct {
	WorkspaceID  string `json:"workspaceId"`
	UserID       string `json:"userId"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

func newCluster(ctx context.Context, cfg Config, logw io.Writer) (*cluster, error) {
	tmp, err := os.MkdirTemp("", "keyhold-soak-")
	if err != nil {
		return nil, err
	}
	c := &cluster{cfg: cfg, tmp: tmp, log: logw, dropDB: func() {}}
	if c.bin, err = c.binary(ctx); err != nil {
		return c, err
	}
	count := 1
	switch cfg.Backend {
	case "sqlite":
		c.dataDir = cfg.DataDir
		if c.dataDir == "" {
			c.dataDir = filepath.Join(tmp, "data")
		} else if _, err := os.Stat(c.dataDir); err == nil {
			return c, fmt.Errorf("-data-dir %s exists: the soak needs a fresh store", c.dataDir)
		}
	case "postgres":
		count = cfg.Nodes
		if c.database = cfg.Database; c.database == "" {
			if c.database, err = c.createDatabase(ctx); err != nil {
				return c, err
			}
		}
	}
	addrs, err := freeAddrs(count)
	if err != nil {
		return c, err
	}
	for i, a := range addrs {
		c.nodes = append(c.nodes, &node{name: fmt.Sprintf("node%d", i+1), addr: a, url: "http://" + a})
	}
	return c, nil
}

// binary returns cfg.Keyhold or builds cmd/keyhold into the temporary directory.
func (c *cluster) binary(ctx context.Context) (string, error) {
	if c.cfg.Keyhold != "" {
		return c.cfg.Keyhold, nil
	}
	root := c.cfg.RepoRoot
	if root == "" {
		var err error
		if root, err = repo.Root(); err != nil {
			return "", fmt.Errorf("%w: give -repo or -keyhold", err)
		}
	}
	bin := filepath.Join(c.tmp, "keyhold")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/keyhold")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/keyhold in %s: %v\n%s", root, err, out)
	}
	return bin, nil
}

func (c *cluster) createDatabase(ctx context.Context) (string, error) {
	admin, err := sql.Open("pgx", c.cfg.PGAdmin)
	if err != nil {
		return "", err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "keyhold_soak_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", fmt.Errorf("creating a database on %s: %w", c.cfg.PGAdmin, err)
	}
	c.dropDB = func() {
		if !c.cfg.KeepTmp {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		}
		admin.Close()
	}
	u, err := url.Parse(c.cfg.PGAdmin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// storeArgs names the store for keyhold's commands.
func (c *cluster) storeArgs() []string {
	if c.database != "" {
		return []string{"--database", c.database}
	}
	return []string{"--data-dir", c.dataDir}
}

// setup starts the first node to create the first workspace, stops it, loads the IAM data
// set (which writes no change log, so nodes must start after it) and starts every node.
func (c *cluster) setup(ctx context.Context) (*bootstrap, error) {
	first := c.nodes[0]
	if err := c.start(first); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, first, 2*time.Minute); err != nil {
		return nil, err
	}
	boot, err := readBootstrap(first.stdout)
	if err != nil {
		return nil, err
	}
	c.stop(first)
	fmt.Fprintf(c.log, "soak: loading %d workspaces (%d role assignments)\n", c.cfg.Workspaces, c.cfg.Workspaces*100)
	if err := c.loadIAM(ctx); err != nil {
		return nil, fmt.Errorf("loading the IAM data set: %w", err)
	}
	for _, n := range c.nodes {
		if err := c.start(n); err != nil {
			return nil, err
		}
	}
	for _, n := range c.nodes {
		if err := c.waitReady(ctx, n, 5*time.Minute); err != nil {
			return nil, err
		}
	}
	if c.database != "" {
		c.changes, err = sql.Open("pgx", c.database)
	} else {
		c.changes, err = sql.Open("sqlite", "file:"+filepath.Join(c.dataDir, sqlite.FileName)+"?mode=ro&_pragma=busy_timeout(5000)")
	}
	return boot, err
}

func (c *cluster) loadIAM(ctx context.Context) error {
	var (
		st      *sqlstore.Store
		dialect *sqlstore.Dialect
		err     error
	)
	if c.database != "" {
		st, err = postgres.Open(ctx, c.database)
		dialect = postgres.Dialect(false)
	} else {
		st, err = sqlite.Open(ctx, c.dataDir)
		dialect = sqlite.Dialect()
	}
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	if err := rbac.EnsureBuiltins(ctx, st, now); err != nil {
		return err
	}
	shape := iamload.Default
	shape.Workspaces = c.cfg.Workspaces
	_, err = iamload.Load(ctx, st, dialect, shape, now)
	return err
}

func (c *cluster) start(n *node) error {
	n.stdout = filepath.Join(c.tmp, n.name+".stdout")
	n.stderr = filepath.Join(c.tmp, n.name+".stderr")
	out, err := os.OpenFile(n.stdout, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	errf, err := os.OpenFile(n.stderr, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		out.Close()
		return err
	}
	args := append([]string{"serve", "--listen", n.addr, "--base-url", baseURL,
		"--max-credentials-per-owner", "1000"}, c.storeArgs()...)
	n.cmd = exec.Command(c.bin, args...)
	n.cmd.Stdout, n.cmd.Stderr = out, errf
	n.cmd.Env = cleanEnv()
	if err := n.cmd.Start(); err != nil {
		out.Close()
		errf.Close()
		return err
	}
	n.done = make(chan struct{})
	go func() {
		_ = n.cmd.Wait()
		out.Close()
		errf.Close()
		close(n.done)
	}()
	return nil
}

// cleanEnv drops KEYHOLD_* variables, so that only the flags configure the nodes.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KEYHOLD_") {
			env = append(env, kv)
		}
	}
	return env
}

func (c *cluster) waitReady(ctx context.Context, n *node, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			return fmt.Errorf("%s exited before it was ready:\n%s", n.name, tail(n.stderr))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := http.Get(n.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s:\n%s", n.name, timeout, tail(n.stderr))
}

func (c *cluster) stop(n *node) {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// close stops the nodes, drops a database the run created and removes the temporary
// directory unless -keep.
func (c *cluster) close() {
	for _, n := range c.nodes {
		c.stop(n)
	}
	if c.changes != nil {
		c.changes.Close()
	}
	c.dropDB()
	if c.cfg.KeepTmp {
		fmt.Fprintf(c.log, "soak: kept %s\n", c.tmp)
		return
	}
	os.RemoveAll(c.tmp)
}

// workspaceCreate runs `keyhold workspace create` beside the running nodes.
func (c *cluster) workspaceCreate(ctx context.Context, name, typ, email string) (*bootstrap, error) {
	args := append([]string{"workspace", "create", "--name", name, "--type", typ, "--admin-email", email,
		"--base-url", baseURL}, c.storeArgs()...)
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("keyhold workspace create: %v: %s", err, stderr.String())
	}
	var b bootstrap
	if err := json.Unmarshal(out, &b); err != nil {
		return nil, fmt.Errorf("keyhold workspace create printed %q: %v", out, err)
	}
	return &b, nil
}

func readBootstrap(path string) (*bootstrap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var b bootstrap
		if json.Unmarshal(sc.Bytes(), &b) == nil && b.ClientSecret != "" {
			return &b, nil
		}
	}
	return nil, fmt.Errorf("no bootstrap line in %s", path)
}

// procStats is what the soak reads about one keyhold process.
type procStats struct {
	RSS        int64 // bytes
	HeapInuse  int64 // bytes of Go heap in use (go_memstats_heap_inuse_bytes): RSS less what the runtime keeps unused
	FDs        int
	Goroutines int
}

func (c *cluster) procStats(n *node) (procStats, error) {
	var s procStats
	pid := n.cmd.Process.Pid
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				s.RSS = kb * 1024
			}
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.FDs = len(fds)
	m, err := metrics(n.url+"/metrics", "go_goroutines", "go_memstats_heap_inuse_bytes")
	s.Goroutines, s.HeapInuse = int(m[0]), int64(m[1])
	return s, err
}

// metrics reads unlabelled samples from a Prometheus text page, in the order named.
func metrics(u string, names ...string) ([]float64, error) {
	out := make([]float64, len(names))
	resp, err := http.Get(u)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	found := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		for i, name := range names {
			if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
				if out[i], err = strconv.ParseFloat(strings.TrimSpace(rest), 64); err != nil {
					return out, fmt.Errorf("%s: %s: %w", u, name, err)
				}
				found++
			}
		}
	}
	if found != len(names) {
		return out, fmt.Errorf("%s: not all of %v", u, names)
	}
	return out, sc.Err()
}

// changeRows counts the change log.
func (c *cluster) changeRows(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var n int64
	err := c.changes.QueryRowContext(ctx, "SELECT count(*) FROM changes").Scan(&n)
	return n, err
}

// exited reports a node that is no longer running.
func (c *cluster) exited() error {
	for _, n := range c.nodes {
		select {
		case <-n.done:
			return fmt.Errorf("%s exited:\n%s", n.name, tail(n.stderr))
		default:
		}
	}
	return nil
}

func freeAddrs(count int) ([]string, error) {
	var addrs []string
	for range count {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// tail is the end of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

var errUnexpected = errors.New("unexpected answer")
