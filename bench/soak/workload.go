package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhold/keyhold/internal/iamload"
)

// The operations of the mix. A credential operation is three requests (create, reset,
// delete) and an assignment operation two (create, delete); each request is reported under
// its own name.
const (
	opToken      = "token"
	opBearer     = "bearer"
	opAuthZEN    = "authzen"
	opExchange   = "exchange"
	opCredential = "credential"
	opAssignment = "assignment"
)

var opNames = []string{opToken, opBearer, opAuthZEN, opExchange, opCredential, opAssignment}

// reportNames are the rows of the tables, in order.
var reportNames = []string{"token", "bearer", "authzen", "exchange", "cred_create", "cred_reset", "cred_delete",
	"assign_create", "assign_delete"}

// defaultMix weighs the operations: reads and tokens dominate, as in production; writes are a
// steady trickle that still adds thousands of change-log rows per minute.
const defaultMix = "token=30,bearer=20,authzen=30,exchange=15,credential=3,assignment=2"

func opNamesHelp() string { return strings.Join(opNames, ", ") + " (name=weight,...)" }

type mix struct {
	names   []string
	cumul   []int
	total   int
	weights map[string]int
}

func parseMix(s string) (mix, error) {
	m := mix{weights: map[string]int{}}
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return m, fmt.Errorf("-mix: %q is not name=weight", part)
		}
		known := false
		for _, o := range opNames {
			known = known || o == name
		}
		if !known {
			return m, fmt.Errorf("-mix: unknown operation %q (known: %s)", name, strings.Join(opNames, ", "))
		}
		if _, dup := m.weights[name]; dup {
			return m, fmt.Errorf("-mix: %q given twice", name)
		}
		m.weights[name] = n
		if n > 0 {
			m.total += n
			m.names = append(m.names, name)
			m.cumul = append(m.cumul, m.total)
		}
	}
	if m.total == 0 {
		return m, fmt.Errorf("-mix: no operation has a weight")
	}
	return m, nil
}

func (m mix) pick(r *rand.Rand) string {
	x := r.IntN(m.total)
	i := sort.SearchInts(m.cumul, x+1)
	return m.names[i]
}

// world is what the workload needs to know about the store: the first workspace's
// administrator (who may ask about every workspace), the MSP and its tenant, and the
// credentials that assignments are made to.
type world struct {
	nodes      []string // node base URLs
	wsHex      string   // the first workspace, 32 hex
	admin      *bootstrap
	msp        *bootstrap
	tenantHex  string
	workspaces int

	adminToken atomic.Pointer[string]
	mspToken   atomic.Pointer[string]
	subjects   chan string // credential ids free for an assignment
	seq        atomic.Int64
}

func hex32(id string) string { return strings.ReplaceAll(id, "-", "") }

func tokenPath(wsHex string) string { return "/authorization/v2/oauth2/" + wsHex + "/token" }

// answer is one response as the workload saw it.
type answer struct {
	status int
	body   []byte
	err    error
}

type client struct {
	http *http.Client
	rec  *recorder
}

func newClient(workers int, rec *recorder) *client {
	tr := &http.Transport{MaxIdleConns: 4 * workers, MaxIdleConnsPerHost: 2 * workers, IdleConnTimeout: 90 * time.Second}
	return &client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, rec: rec}
}

func (c *client) do(ctx context.Context, method, u, bearer, ctype string, body []byte) answer {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return answer{status: resp.StatusCode, body: b, err: err}
}

func form(kv ...string) []byte {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return []byte(v.Encode())
}

const formType = "application/x-www-form-urlencoded"

// requestToken gets a client_credentials token from a node.
func (c *client) requestToken(ctx context.Context, node, wsHex, id, secret string) (string, answer) {
	a := c.do(ctx, http.MethodPost, node+tokenPath(wsHex), "", formType,
		form("grant_type", "client_credentials", "client_id", id, "client_secret", secret))
	if a.err != nil || a.status != http.StatusOK {
		return "", a
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(a.body, &t); err != nil || t.AccessToken == "" {
		a.err = fmt.Errorf("token answer without access_token: %s", a.body)
	}
	return t.AccessToken, a
}

// until retries f until it succeeds or timeout passes (a write made on one node reaches the
// others within the sync interval).
func until(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func describe(what string, a answer) error {
	if a.err != nil {
		return fmt.Errorf("%s: %w", what, a.err)
	}
	return fmt.Errorf("%s answered %d: %.500s", what, a.status, a.body)
}

// prepare makes the MSP, its tenant and the assignment subjects, and checks that every node
// serves each operation once before the load starts.
func prepare(ctx context.Context, c *cluster, cl *client, admin *bootstrap) (*world, error) {
	w := &world{admin: admin, wsHex: hex32(admin.WorkspaceID), workspaces: c.cfg.Workspaces}
	for _, n := range c.nodes {
		w.nodes = append(w.nodes, n.url)
	}
	msp, err := c.workspaceCreate(ctx, "soak-msp", "MSP", "soak@msp.example")
	if err != nil {
		return nil, err
	}
	w.msp = msp
	if err := w.refreshTokens(ctx, cl, 30*time.Second); err != nil {
		return nil, err
	}
	first := w.nodes[0]
	a := cl.do(ctx, http.MethodPost, first+"/workspaces/v1/msp-tenants", *w.mspToken.Load(), "application/json",
		[]byte(`{"workspaceName":"soak tenant"}`))
	if a.err != nil || a.status != http.StatusCreated {
		return nil, describe("creating the MSP tenant", a)
	}
	var tenant struct{ ID string }
	if err := json.Unmarshal(a.body, &tenant); err != nil {
		return nil, err
	}
	w.tenantHex = hex32(tenant.ID)
	const subjects = 16
	w.subjects = make(chan string, subjects)
	for i := range subjects {
		id, _, a := w.createCredential(ctx, cl, first, fmt.Sprintf("soak-subject-%d", i))
		if id == "" {
			return nil, describe("creating an assignment subject", a)
		}
		w.subjects <- id
	}
	// Every node must serve every operation before the clock starts: writes of one node
	// reach the others within the sync interval.
	for _, n := range w.nodes {
		for _, op := range opNames {
			err := until(ctx, 30*time.Second, func() error { return w.run(ctx, cl, op, n, nil) })
			if err != nil {
				return nil, fmt.Errorf("preflight %s on %s: %w", op, n, err)
			}
		}
	}
	return w, nil
}

// refreshTokens gets new administrator and MSP tokens (they live 15 minutes; the workload
// refreshes them every 5).
func (w *world) refreshTokens(ctx context.Context, cl *client, timeout time.Duration) error {
	for _, p := range []struct {
		who *bootstrap
		dst *atomic.Pointer[string]
	}{{w.admin, &w.adminToken}, {w.msp, &w.mspToken}} {
		err := until(ctx, timeout, func() error {
			tok, a := cl.requestToken(ctx, w.nodes[0], hex32(p.who.WorkspaceID), p.who.ClientID, p.who.ClientSecret)
			if tok == "" {
				return describe("token for "+p.who.ClientID, a)
			}
			p.dst.Store(&tok)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *world) createCredential(ctx context.Context, cl *client, node, name string) (string, string, answer) {
	body, _ := json.Marshal(map[string]string{"credentialName": name})
	a := cl.do(ctx, http.MethodPost, node+"/workspaces/v1/credentials", *w.adminToken.Load(), "application/json", body)
	if a.err != nil || a.status != http.StatusCreated {
		return "", "", a
	}
	var cred struct {
		ID           string `json:"id"`
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.Unmarshal(a.body, &cred); err != nil || cred.ID == "" || cred.ClientSecret == "" {
		a.err = fmt.Errorf("credential answer without id or secret: %.300s", a.body)
		return "", "", a
	}
	return cred.ID, cred.ClientSecret, a
}

// run performs one operation on node. rec, when not nil, records each request; the error
// names the first unexpected answer.
func (w *world) run(ctx context.Context, cl *client, op, node string, due *time.Time) error {
	r := newStep(cl.rec, node, due)
	switch op {
	case opToken:
		_, a := cl.requestToken(ctx, node, w.wsHex, w.admin.ClientID, w.admin.ClientSecret)
		return r.check("token", a, http.StatusOK)
	case opBearer:
		a := cl.do(ctx, http.MethodGet, node+"/workspaces/v1/credentials", *w.adminToken.Load(), "", nil)
		return r.check("bearer", a, http.StatusOK)
	case opAuthZEN:
		return w.authzen(ctx, cl, r, node)
	case opExchange:
		a := cl.do(ctx, http.MethodPost, node+tokenPath(w.tenantHex), "", formType,
			form("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange", "subject_token", *w.mspToken.Load(),
				"subject_token_type", "urn:ietf:params:oauth:token-type:access_token"))
		return r.check("exchange", a, http.StatusOK)
	case opCredential:
		return w.credentialCycle(ctx, cl, r, node)
	case opAssignment:
		return w.assignmentCycle(ctx, cl, r, node)
	}
	return fmt.Errorf("unknown operation %q", op)
}

// authzen asks about a random user of the data set: three times in four about a nic of the
// user's own server (allowed), else about a server of the next workspace (denied). A wrong
// decision is an unexpected answer.
func (w *world) authzen(ctx context.Context, cl *client, r *step, node string) error {
	ws, k := rand.IntN(w.workspaces), rand.IntN(iamload.Default.Users)
	target, allowed := ws, true
	if rand.IntN(4) == 0 {
		target, allowed = (ws+1)%w.workspaces, false
	}
	body := fmt.Sprintf(`{"subject":{"type":"user","id":"%s"},"action":{"name":"%s"},"resource":{"type":"svc/nics","id":"%s"}}`,
		iamload.ID(iamload.KindUser, ws, k), iamload.PermView, iamload.ResourceGRN(target, fmt.Sprintf("servers/%d/nics/0", k)))
	a := cl.do(ctx, http.MethodPost, node+"/access/v1/evaluation", *w.adminToken.Load(), "application/json", []byte(body))
	if a.err == nil && a.status == http.StatusOK {
		var d struct {
			Decision *bool `json:"decision"`
		}
		if err := json.Unmarshal(a.body, &d); err != nil || d.Decision == nil || *d.Decision != allowed {
			a.err = fmt.Errorf("%w: decision %.200s, want %v", errUnexpected, a.body, allowed)
		}
	}
	return r.check("authzen", a, http.StatusOK)
}

// credentialCycle creates a credential, resets its secret, checks that the new secret gets a
// token on this node, and deletes it.
func (w *world) credentialCycle(ctx context.Context, cl *client, r *step, node string) error {
	r.begin()
	id, _, a := w.createCredential(ctx, cl, node, fmt.Sprintf("soak-%d", w.seq.Add(1)))
	if err := r.check("cred_create", a, http.StatusCreated); err != nil {
		return err
	}
	r.begin()
	a = cl.do(ctx, http.MethodPost, node+"/workspaces/v1/credentials/"+id+"/reset", *w.adminToken.Load(), "application/json", nil)
	if err := r.check("cred_reset", a, http.StatusOK); err != nil {
		return err
	}
	r.begin()
	a = cl.do(ctx, http.MethodDelete, node+"/workspaces/v1/credentials/"+id, *w.adminToken.Load(), "", nil)
	return r.check("cred_delete", a, http.StatusNoContent)
}

// assignmentCycle gives one of the subject credentials the observer role on the first
// workspace and takes it away again. A subject is used by one cycle at a time, so that no
// cycle meets another's duplicate.
func (w *world) assignmentCycle(ctx context.Context, cl *client, r *step, node string) error {
	var subject string
	select {
	case subject = <-w.subjects:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { w.subjects <- subject }()
	r.begin()
	body, _ := json.Marshal(map[string]any{"subject": "api-client:" + subject,
		"role": "grn:glp/providers/authorization/roles/glp.workspace-observer", "scope": []string{"grn:glp/workspaces/" + w.wsHex}})
	const path = "/authorization/v2alpha2/role-assignments"
	a := cl.do(ctx, http.MethodPost, node+path, *w.adminToken.Load(), "application/json", body)
	var created struct {
		ID string `json:"id"`
	}
	if a.err == nil && a.status == http.StatusCreated {
		if err := json.Unmarshal(a.body, &created); err != nil || created.ID == "" {
			a.err = fmt.Errorf("%w: assignment answer without id: %.200s", errUnexpected, a.body)
		}
	}
	if err := r.check("assign_create", a, http.StatusCreated); err != nil {
		return err
	}
	r.begin()
	a = cl.do(ctx, http.MethodDelete, node+path+"/"+created.ID, *w.adminToken.Load(), "", nil)
	return r.check("assign_delete", a, http.StatusNoContent)
}

// step times the requests of one operation: the first from the time it was due (so that a
// request the client could not send on time counts its wait), the next ones from their start.
type step struct {
	rec   *recorder
	node  string
	start time.Time
}

func newStep(rec *recorder, node string, due *time.Time) *step {
	s := &step{rec: rec, node: node, start: time.Now()}
	if due != nil {
		s.start = *due
	}
	return s
}

func (s *step) begin() {
	if s.start.IsZero() {
		s.start = time.Now()
	}
}

func (s *step) check(name string, a answer, want int) error {
	elapsed := time.Since(s.start)
	s.start = time.Time{}
	ok := a.err == nil && a.status == want
	if s.rec != nil {
		s.rec.record(name, s.node, a, elapsed, ok)
	}
	if !ok {
		return describe(name, a)
	}
	return nil
}

// scheduler sends operations at the configured rate to the nodes in turn. Reads and token
// requests go to one pool of workers, writes (credential and assignment operations) to
// another, so that writes queued behind the store's write lock never hold up the operations
// served from memory. An operation due while every worker of its pool is busy and as many
// operations wait is counted as late and skipped: the rate stays what was asked, and a slow
// server shows as latency and late operations, never as a growing queue.
type scheduler struct {
	rate             float64
	mix              mix
	workers, writers int
	w                *world
	cl               *client
	late             atomic.Int64
}

type job struct {
	op   string
	node string
	due  time.Time
}

func isWrite(op string) bool { return op == opCredential || op == opAssignment }

func (s *scheduler) pool(wg *sync.WaitGroup, n int) chan job {
	jobs := make(chan job, n)
	for range n {
		wg.Go(func() {
			for j := range jobs {
				// Not the load's context: a request in flight when the load stops finishes
				// and is counted.
				_ = s.w.run(context.Background(), s.cl, j.op, j.node, &j.due)
			}
		})
	}
	return jobs
}

func (s *scheduler) run(ctx context.Context) {
	var wg sync.WaitGroup
	reads, writes := s.pool(&wg, s.workers), s.pool(&wg, s.writers)
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	start := time.Now()
	var sent int64
	tick := time.NewTicker(5 * time.Millisecond)
	defer func() {
		tick.Stop()
		close(reads)
		close(writes)
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			due := int64(s.rate * now.Sub(start).Seconds())
			for ; sent < due; sent++ {
				at := start.Add(time.Duration(float64(sent) / s.rate * float64(time.Second)))
				j := job{op: s.mix.pick(r), node: s.w.nodes[sent%int64(len(s.w.nodes))], due: at}
				q := reads
				if isWrite(j.op) {
					q = writes
				}
				select {
				case q <- j:
				default:
					s.late.Add(1)
				}
			}
		}
	}
}
