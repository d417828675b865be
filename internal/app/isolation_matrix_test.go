package app_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	jose "github.com/go-jose/go-jose/v4"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/app/apptest"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/token"
)

// The isolation matrix: every endpoint keyhold serves × every kind of caller × every
// workspace (or resource of a workspace) of one fixture, each cell with its expected answer.
//
// The fixture (isoWorld) is a standard workspace S (the bootstrap one) and two MSPs, M1 and
// M2, each with two tenants (T1a, T1b; T2a, T2b) and a tenant group holding the first of them
// (G1 ∋ T1a as membership m1; G2 ∋ T2a as m2). Every workspace, tenants included, has a
// service-manager provision (P.<ws>); credentials: an extra one of each administrator
// (C.S, C.M1, C.M2), the MSPs' credentials made for each of their tenants (C.M1T1a, C.M1T1b,
// C.M2T2a, C.M2T2b; they are the clients of the tenants' issuers here), and the tenant
// administrator's second credential in T1a (C.T1a).
//
// Callers:
//
//	A   M1's bootstrap administrator          O   an observer of M1 (whole-workspace role)
//	X   A's token exchanged into T1a          TA  an administrator of T1a (member of the tenant, local assignment)
//	SA  S's bootstrap administrator           B   M2's bootstrap administrator
//	*   nobody (public endpoints)
//
// Seen from A: M1 is its own workspace, T1a and T1b its own tenants, M2 the other MSP, T2a and
// T2b the other MSP's tenants, S the standard workspace, "?" an id that exists nowhere. From X
// and TA, T1a is their own workspace and T1b a sibling tenant.
//
// Expected answers, one per target in the row's order:
//
//	200 201 204 400 403 404 409   status of a JSON API call (error bodies in GreenLake's format)
//	ig   400 invalid_request (an exchange refused, RFC 8693 §2.2.2)        ic   401 invalid_client       uc  400 unauthorized_client
//	nf   404 invalid_request (an issuer that does not exist)
//	on   200 {"active": true, …}  off  200 {"active": false} and nothing else
//	-    not applicable (an exchanged token has no client credential of its own)
//
// Beyond the status, every cell checks that the answer names no workspace the caller may not
// know (its id, hyphenated or as 32 hex digits, or its name) and no record of such a
// workspace (user, credential, group, membership or provision id); error bodies carry the
// error fields only (no items, count or total); every list answers exactly the caller's own
// records, with count and total to match; an error about another workspace's record is the
// same, byte for byte but for debugId, as the error about an id that exists nowhere; and a
// call that is refused changes nothing in the store. Cells that change the store run after the
// row's other cells, each on a fixture where nothing it touches has changed (the fixture is
// rebuilt as needed), and each request is checked, in the access log, to have been served by
// the route the row names.

const (
	isoAPI = iota
	isoOAuth
	isoPublic
)

// Workspace and resource keys of the fixture.
var (
	isoWorkspaces = []string{"S", "M1", "T1a", "T1b", "M2", "T2a", "T2b"}
	isoWSTargets  = append(slices.Clone(isoWorkspaces), "?")
	isoProvT      = []string{"P.S", "P.M1", "P.T1a", "P.T1b", "P.M2", "P.T2a", "P.T2b", "?"}
	isoCredT      = []string{"C.S", "C.M1", "C.M1T1a", "C.M1T1b", "C.T1a", "C.M2", "C.M2T2a", "C.M2T2b", "?"}
	isoUserT      = []string{"U.S", "U.M1", "U.O", "U.TA", "U.M2", "?"}
	isoGroupT     = []string{"G1", "G2", "?"}
	isoMemberT    = []string{"G1/m1", "G2/m2", "G1/m2", "G2/m1", "?/?"}
	isoCallers    = []string{"A", "O", "X", "TA", "SA", "B"}
	// The tenants each MSP caller owns, and its group.
	isoOwnTenants = map[string][]string{"A": {"T1a", "T1b"}, "O": {"T1a", "T1b"}, "B": {"T2a", "T2b"}}
	isoOwnGroup   = map[string]string{"A": "G1", "O": "G1", "B": "G2", "X": "G1", "TA": "G1", "SA": "G1"}
)

// isoOwnedPrefixes are the paths whose every registered route must have a row here. Routes
// elsewhere (added by later work) are reported in the log, not failed.
var isoOwnedPrefixes = []string{"/workspaces/", "/service-catalog/", "/authorization/v2/oauth2/",
	"/.well-known/jwks.json", "/.well-known/oauth-authorization-server/", "/healthz", "/readyz", "/metrics"}

type isoWS struct{ key, id, name string }

type isoClient struct{ id, secret string }

type isoCaller struct {
	key    string
	home   string // the workspace its token is scoped to
	token  string
	client *isoClient // its own credential; nil for an exchanged token
	known  []string   // the workspaces it may learn about
}

type isoWorld struct {
	t       *testing.T
	e       *apptest.Env
	ws      map[string]*isoWS
	callers map[string]*isoCaller
	res     map[string]string    // resource key -> id
	resWS   map[string]string    // resource key -> the workspace it belongs to
	issuer  map[string]isoClient // workspace key -> a client of its issuer
	// failures counts failed authentications against this node's per-address budget (a burst
	// of 50): the world is replaced before a cell would run out of it.
	failures int
	dirty    bool
	consumed map[string]bool
	served   map[string]string // X-Request-Id -> the route the cell expects to serve it
}

type isoReq struct {
	method, path string
	body         string // JSON or form, as sent
	form         bool
	bearer       string
}

type isoWant struct {
	status int
	oauth  string // expected OAuth "error"
	active int    // introspection: 1 active, -1 inactive
	skip   bool
}

type isoRow struct {
	name    string
	pattern string // the route as registered
	kind    int
	targets []string
	callers []string          // nil: isoCallers
	want    map[string]string // caller -> expected answers, one per target
	req     func(w *isoWorld, c *isoCaller, target string) isoReq
	// check looks further at a 2xx answer.
	check func(t *testing.T, w *isoWorld, c *isoCaller, target string, resp *http.Response, body []byte)
	// writes: a 2xx cell of this row changes the store (unless mutates says otherwise).
	writes  bool
	mutates func(c *isoCaller, target string) bool
	// key names what a changing cell uses up (default: its target); two cells with the same
	// key never run on the same fixture.
	key func(c *isoCaller, target string) string
}

type isoCell struct {
	row    *isoRow
	caller string
	target string
	want   isoWant
}

func (c isoCell) label() string {
	return fmt.Sprintf("[%s | %s | %s]", c.row.name, c.caller, c.target)
}

func isoParseWant(s string) isoWant {
	switch s {
	case "-":
		return isoWant{skip: true}
	case "ig":
		return isoWant{status: 400, oauth: "invalid_request"} // RFC 8693 §2.2.2
	case "ic":
		return isoWant{status: 401, oauth: "invalid_client"}
	case "uc":
		return isoWant{status: 400, oauth: "unauthorized_client"}
	case "nf":
		return isoWant{status: 404, oauth: "invalid_request"}
	case "on":
		return isoWant{status: 200, active: 1}
	case "off":
		return isoWant{status: 200, active: -1}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		panic("isolation matrix: bad answer " + s)
	}
	return isoWant{status: n}
}

// cost is how many failed authentications a cell spends from the address's budget.
func (c isoCell) cost() int {
	switch {
	case c.want.status == http.StatusUnauthorized:
		return 1
	case c.want.oauth == "invalid_request" && c.want.status == http.StatusNotFound:
		return 1 // an unknown issuer costs the address a failure
	}
	return 0
}

func TestIsolationMatrix(t *testing.T) {
	start := time.Now()
	rows := isoRows()
	covered := map[string]bool{}
	var (
		w      *isoWorld
		worlds int
		cells  int
		byWant = map[string]int{}
	)
	fresh := func() {
		if w != nil {
			w.checkServedRoutes()
		}
		w = newIsoWorld(t)
		worlds++
	}
	fresh()
	for ri := range rows {
		row := &rows[ri]
		covered[row.pattern] = true
		callers := row.callers
		if callers == nil {
			callers = isoCallers
		}
		var reads, writes []isoCell
		for _, ck := range callers {
			answers := strings.Fields(row.want[ck])
			if len(answers) != len(row.targets) {
				t.Fatalf("row %q, caller %s: %d answers for %d targets", row.name, ck, len(answers), len(row.targets))
			}
			for i, tg := range row.targets {
				cw := isoParseWant(answers[i])
				if cw.skip {
					continue
				}
				cell := isoCell{row: row, caller: ck, target: tg, want: cw}
				changes := row.writes && cw.status/100 == 2
				if changes && row.mutates != nil {
					changes = row.mutates(&isoCaller{key: ck}, tg)
				}
				if changes {
					writes = append(writes, cell)
				} else {
					reads = append(reads, cell)
				}
			}
		}
		// Cells that must not change anything, on an unchanged fixture.
		sameBodies := map[string]string{}
		for _, c := range reads {
			if w.dirty || w.failures+c.cost()+1 > 40 {
				fresh()
			}
			w.runRead(c, sameBodies)
			cells++
			byWant[strconv.Itoa(c.want.status)]++
		}
		// Cells that change the store: none sees another's change to what it touches.
		for _, c := range writes {
			key := c.target
			if key == "-" {
				key = ""
			}
			if row.key != nil {
				key = row.key(w.callers[c.caller], c.target)
			}
			if key != "" && w.consumed[row.name+"\x00"+key] || w.failures+c.cost()+1 > 40 {
				fresh()
			}
			w.runWrite(c)
			w.dirty = true
			if key != "" {
				w.consumed[row.name+"\x00"+key] = true
			}
			cells++
			byWant[strconv.Itoa(c.want.status)]++
		}
	}
	w.checkServedRoutes()

	// Every route keyhold registers under the paths this matrix owns has a row, and every
	// row names a registered route.
	registered := isoRegisteredRoutes(t)
	for _, r := range registered {
		_, path, _ := strings.Cut(r, " ")
		owned := false
		for _, p := range isoOwnedPrefixes {
			owned = owned || strings.HasPrefix(path, p)
		}
		switch {
		case covered[r]:
		case owned:
			t.Errorf("route %q has no row in the isolation matrix", r)
		default:
			t.Logf("route %q is outside the isolation matrix (add a row for it)", r)
		}
	}
	for r := range covered {
		if !slices.Contains(registered, r) {
			t.Errorf("row route %q is not registered by keyhold", r)
		}
	}
	if cells < 1000 {
		t.Errorf("only %d cells ran", cells)
	}
	t.Logf("isolation matrix: %d rows, %d cells (by status %v), %d fixtures, %s", len(rows), cells, byWant, worlds, time.Since(start).Round(time.Millisecond))
}

// runRead runs a cell that must leave the store as it was.
func (w *isoWorld) runRead(c isoCell, sameBodies map[string]string) {
	t := w.t
	caller := w.caller(c.caller, c.target)
	before := w.seq()
	req := c.row.req(w, caller, c.target)
	resp, body := w.send(req, c.row.pattern)
	w.failures += c.cost()
	if w.judge(c, caller, req, resp, body) {
		switch {
		case c.row.kind == isoAPI && resp.StatusCode/100 != 2:
			w.twin(c, caller, req, body)
		case c.row.kind == isoOAuth && resp.StatusCode/100 != 2:
			// The answers of one caller that agree on status and error agree on every byte:
			// a sibling MSP's tenant, a standard workspace and the MSP itself are refused alike.
			k := c.row.name + "\x00" + c.caller + "\x00" + strconv.Itoa(resp.StatusCode) + c.want.oauth
			if prev, ok := sameBodies[k]; ok && prev != string(body) {
				t.Errorf("%s: answer %s differs from the caller's other %d answer %s", c.label(), body, resp.StatusCode, prev)
			}
			sameBodies[k] = string(body)
		}
	}
	if after := w.seq(); after != before {
		t.Errorf("%s: a call that must change nothing moved the change log from %d to %d", c.label(), before, after)
	}
}

func (w *isoWorld) runWrite(c isoCell) {
	caller := w.caller(c.caller, c.target)
	before := w.seq()
	req := c.row.req(w, caller, c.target)
	resp, body := w.send(req, c.row.pattern)
	w.failures += c.cost()
	if w.judge(c, caller, req, resp, body) && c.row.kind == isoAPI && w.seq() == before {
		w.t.Errorf("%s: a %d answer that changes the store left the change log at %d", c.label(), resp.StatusCode, before)
	}
}

// judge checks a cell's answer; it reports whether the status was the expected one.
func (w *isoWorld) judge(c isoCell, caller *isoCaller, req isoReq, resp *http.Response, body []byte) bool {
	t := w.t
	var oe struct {
		Error string `json:"error"`
	}
	if c.want.oauth != "" {
		_ = json.Unmarshal(body, &oe)
	}
	if resp.StatusCode != c.want.status || oe.Error != c.want.oauth {
		t.Errorf("%s: %s %s answered %d %s, want %d %s", c.label(), req.method, req.path, resp.StatusCode, isoSnip(body), c.want.status, c.want.oauth)
		return false
	}
	for _, s := range w.forbidden(caller) {
		if strings.Contains(string(body), s) {
			t.Errorf("%s: the answer names %q, which the caller may not know: %s", c.label(), s, isoSnip(body))
		}
	}
	switch {
	case resp.StatusCode == http.StatusNoContent:
		if len(body) != 0 {
			t.Errorf("%s: 204 with a body %q", c.label(), body)
		}
	case resp.StatusCode/100 != 2 && c.row.kind == isoAPI:
		isoErrorShape(t, c.label(), resp.StatusCode, body)
	case resp.StatusCode/100 != 2:
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || len(m) != 2 || m["error"] == nil || m["error_description"] == nil {
			t.Errorf("%s: OAuth error body %s, want exactly error and error_description", c.label(), isoSnip(body))
		}
	case c.want.active != 0:
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if c.want.active < 0 && (len(m) != 1 || m["active"] != false) {
			t.Errorf("%s: inactive token answered %s, want exactly {\"active\":false}", c.label(), body)
		}
		if c.want.active > 0 && (m["active"] != true || m["hpe_workspace_id"] != ids.Hex(w.ws[caller.home].id)) {
			t.Errorf("%s: active token answered %s", c.label(), isoSnip(body))
		}
	default:
		if resp.StatusCode == http.StatusCreated && c.row.kind == isoAPI && resp.Header.Get("Location") == "" {
			t.Errorf("%s: 201 without Location", c.label())
		}
		if c.row.check != nil {
			c.row.check(t, w, caller, c.target, resp, body)
		}
	}
	return true
}

// twin repeats a refused call with every id the caller may not know replaced by one that
// exists nowhere: the two answers must be the same but for debugId.
func (w *isoWorld) twin(c isoCell, caller *isoCaller, req isoReq, body []byte) {
	tw := req
	changed := false
	for _, s := range w.forbiddenIDs(caller) {
		if !strings.Contains(tw.path, s) && !strings.Contains(tw.body, s) {
			continue
		}
		repl := ids.New()
		if !strings.Contains(s, "-") {
			repl = ids.Hex(repl)
		}
		tw.path, tw.body = strings.ReplaceAll(tw.path, s, repl), strings.ReplaceAll(tw.body, s, repl)
		changed = true
	}
	if !changed {
		return
	}
	resp, tbody := w.send(tw, c.row.pattern)
	if a, b := isoWithoutDebugID(body), isoWithoutDebugID(tbody); resp.StatusCode != c.want.status || a != b {
		w.t.Errorf("%s: another workspace's record answers %d %s, but one that exists nowhere answers %d %s",
			c.label(), c.want.status, a, resp.StatusCode, b)
	}
}

func isoWithoutDebugID(body []byte) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return string(body)
	}
	delete(m, "debugId")
	out, _ := json.Marshal(m)
	return string(out)
}

var isoErrorFields = []string{"httpStatusCode", "errorCode", "message", "debugId", "errorDetails"}

func isoErrorShape(t *testing.T, label string, status int, body []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("%s: error body is not JSON: %s", label, isoSnip(body))
		return
	}
	for k := range m {
		if !slices.Contains(isoErrorFields, k) {
			t.Errorf("%s: error body has field %q: %s", label, k, isoSnip(body))
		}
	}
	if code, _ := m["httpStatusCode"].(float64); int(code) != status || m["errorCode"] == "" || m["message"] == "" || m["debugId"] == "" {
		t.Errorf("%s: error body %s", label, isoSnip(body))
	}
}

func isoSnip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// caller resolves a caller key; "*" (public endpoints) may know the workspace it asks about.
func (w *isoWorld) caller(key, target string) *isoCaller {
	if key == "*" {
		return &isoCaller{key: "*", known: []string{target}}
	}
	return w.callers[key]
}

// forbiddenIDs are the ids of every workspace and record the caller may not know.
func (w *isoWorld) forbiddenIDs(c *isoCaller) []string {
	var out []string
	for _, k := range isoWorkspaces {
		if !slices.Contains(c.known, k) {
			out = append(out, w.ws[k].id, ids.Hex(w.ws[k].id))
		}
	}
	for r, id := range w.res {
		if !slices.Contains(c.known, w.resWS[r]) {
			out = append(out, id)
		}
	}
	return out
}

// forbidden adds the workspaces' names to forbiddenIDs. The bootstrap workspace is called
// "default", a word GRNs use too ("regions/default"): it is looked for as a JSON string.
func (w *isoWorld) forbidden(c *isoCaller) []string {
	out := w.forbiddenIDs(c)
	for _, k := range isoWorkspaces {
		if !slices.Contains(c.known, k) {
			name := w.ws[k].name
			if k == "S" {
				name = `"` + name + `"`
			}
			out = append(out, name)
		}
	}
	return out
}

func (w *isoWorld) seq() int64 {
	n, err := w.e.Node.Store.LatestSeq(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// id resolves a workspace or resource key to its id; "?" is an id that exists nowhere.
func (w *isoWorld) id(key string) string {
	if key == "?" {
		return ids.New()
	}
	if ws, ok := w.ws[key]; ok {
		return ws.id
	}
	id, ok := w.res[key]
	if !ok {
		panic("isolation matrix: unknown key " + key)
	}
	return id
}

func (w *isoWorld) send(r isoReq, pattern string) (*http.Response, []byte) {
	w.t.Helper()
	var rd io.Reader
	if r.body != "" {
		rd = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, w.e.Base+r.path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	switch {
	case r.form:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case r.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	rid := ids.New()
	req.Header.Set("X-Request-Id", rid)
	w.served[rid] = pattern
	return w.e.Send(w.t, req)
}

// checkServedRoutes reads the node's access log: every request a cell made was served by the
// route its row names.
func (w *isoWorld) checkServedRoutes() {
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(w.e.Logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
			Route     string `json:"route"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "request" {
			got[line.RequestID] = line.Route
		}
	}
	for rid, want := range w.served {
		if got[rid] != want {
			w.t.Errorf("request %s was served by route %q, want %q", rid, got[rid], want)
		}
	}
}

// --- the fixture ---

func newIsoWorld(t *testing.T) *isoWorld {
	t.Helper()
	e := apptest.Start(t, app.Config{})
	w := &isoWorld{t: t, e: e, ws: map[string]*isoWS{}, callers: map[string]*isoCaller{}, res: map[string]string{},
		resWS: map[string]string{}, issuer: map[string]isoClient{}, consumed: map[string]bool{}, served: map[string]string{}}
	addWS := func(key, id, name string) { w.ws[key] = &isoWS{key: key, id: id, name: name} }
	addRes := func(key, ws, id string) { w.res[key], w.resWS[key] = id, ws }

	s := e.Admin
	addWS("S", s.WorkspaceID, s.WorkspaceName)
	m1 := e.CreateWorkspace(t, "Orchid Managed Services", storage.WorkspaceMSP, "m1-admin@example.test")
	m2 := e.CreateWorkspace(t, "Quartz Managed Services", storage.WorkspaceMSP, "m2-admin@example.test")
	addWS("M1", m1.WorkspaceID, m1.WorkspaceName)
	addWS("M2", m2.WorkspaceID, m2.WorkspaceName)
	sa := &isoCaller{key: "SA", home: "S", token: e.AdminToken(t), client: &isoClient{s.ClientID, s.ClientSecret}, known: []string{"S"}}
	a := &isoCaller{key: "A", home: "M1", token: e.Token(t, m1.WorkspaceID, m1.ClientID, m1.ClientSecret),
		client: &isoClient{m1.ClientID, m1.ClientSecret}, known: []string{"M1", "T1a", "T1b"}}
	b := &isoCaller{key: "B", home: "M2", token: e.Token(t, m2.WorkspaceID, m2.ClientID, m2.ClientSecret),
		client: &isoClient{m2.ClientID, m2.ClientSecret}, known: []string{"M2", "T2a", "T2b"}}
	addRes("U.S", "S", s.UserID)
	addRes("U.M1", "M1", m1.UserID)
	addRes("U.M2", "M2", m2.UserID)
	addRes("K.SA", "S", s.ClientID)
	addRes("K.A", "M1", m1.ClientID)
	addRes("K.B", "M2", m2.ClientID)
	w.issuer["S"], w.issuer["M1"], w.issuer["M2"] = *sa.client, *a.client, *b.client

	for _, tn := range []struct{ key, name string }{{"T1a", "Orchid Client Alder"}, {"T1b", "Orchid Client Birch"}} {
		addWS(tn.key, e.CreateTenant(t, a.token, tn.name), tn.name)
	}
	for _, tn := range []struct{ key, name string }{{"T2a", "Quartz Client Cedar"}, {"T2b", "Quartz Client Dogwood"}} {
		addWS(tn.key, e.CreateTenant(t, b.token, tn.name), tn.name)
	}

	obs := e.UserWithRole(t, m1.WorkspaceID, rbac.RoleWorkspaceObserver)
	o := &isoCaller{key: "O", home: "M1", token: e.TokenFor(t, obs), client: &isoClient{obs.ClientID, obs.Secret}, known: a.known}
	addRes("U.O", "M1", obs.UserID)
	addRes("K.O", "M1", obs.ClientID)
	tadm := e.UserWithRole(t, w.ws["T1a"].id, rbac.RoleWorkspaceAdmin)
	ta := &isoCaller{key: "TA", home: "T1a", token: e.TokenFor(t, tadm), client: &isoClient{tadm.ClientID, tadm.Secret}, known: []string{"T1a"}}
	addRes("U.TA", "T1a", tadm.UserID)
	addRes("K.TA", "T1a", tadm.ClientID)
	exchange := func(tenant, subject string) string {
		resp, body := e.Exchange(t, w.ws[tenant].id, subject)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("exchange into %s: %d %s", tenant, resp.StatusCode, body)
		}
		return accessToken(t, body)
	}
	x := &isoCaller{key: "X", home: "T1a", token: exchange("T1a", a.token), known: []string{"T1a", "M1"}}
	for _, c := range []*isoCaller{a, o, x, ta, sa, b} {
		w.callers[c.key] = c
	}

	// Tenant groups, each holding its MSP's first tenant.
	for _, g := range []struct{ key, member, tenant, name string }{{"G1", "m1", "T1a", "Orchid West"}, {"G2", "m2", "T2a", "Quartz East"}} {
		owner := map[string]*isoCaller{"G1": a, "G2": b}[g.key]
		grp := w.fixtureJSON(http.MethodPost, "/workspaces/v1beta1/groups", owner.token, map[string]string{"name": g.name, "groupType": "TenantGroup"}, 201)
		addRes(g.key, owner.home, grp["id"].(string))
		m := w.fixtureJSON(http.MethodPost, "/workspaces/v1beta1/groups/"+w.res[g.key]+"/group-workspaces", owner.token,
			map[string]string{"workspaceId": w.ws[g.tenant].id}, 201)
		addRes(g.member, owner.home, m["id"].(string))
	}

	// A provision in every workspace; the tenants' through exchanged tokens.
	for _, p := range []struct{ ws, tok string }{
		{"S", sa.token}, {"M1", a.token}, {"M2", b.token}, {"T1a", x.token}, {"T1b", exchange("T1b", a.token)},
		{"T2a", exchange("T2a", b.token)}, {"T2b", exchange("T2b", b.token)},
	} {
		pr := w.fixtureJSON(http.MethodPost, "/service-catalog/v1/service-manager-provisions", p.tok,
			map[string]string{"serviceManagerId": isoServiceManagers[0], "region": "us-west"}, 201)
		addRes("P."+p.ws, p.ws, pr["id"].(string))
	}

	// Credentials.
	cred := func(key, ws string, c *isoCaller, tenant string) isoClient {
		body := map[string]any{"credentialName": "iso " + key}
		if tenant != "" {
			body["associatedTenant"] = map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + w.ws[tenant].id}
		}
		cr := w.fixtureJSON(http.MethodPost, "/workspaces/v1/credentials", c.token, body, 201)
		addRes(key, ws, cr["id"].(string))
		return isoClient{cr["id"].(string), cr["clientSecret"].(string)}
	}
	cred("C.S", "S", sa, "")
	cred("C.M1", "M1", a, "")
	cred("C.M2", "M2", b, "")
	cred("C.T1a", "T1a", ta, "")
	w.issuer["T1a"] = cred("C.M1T1a", "M1", a, "T1a")
	w.issuer["T1b"] = cred("C.M1T1b", "M1", a, "T1b")
	w.issuer["T2a"] = cred("C.M2T2a", "M2", b, "T2a")
	w.issuer["T2b"] = cred("C.M2T2b", "M2", b, "T2b")
	return w
}

func (w *isoWorld) fixtureJSON(method, path, tok string, body any, want int) map[string]any {
	w.t.Helper()
	resp, raw := w.e.Do(w.t, method, path, tok, body)
	if resp.StatusCode != want {
		w.t.Fatalf("fixture: %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		w.t.Fatalf("fixture: %s %s: %s", method, path, raw)
	}
	return m
}

// --- the rows ---

func isoJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func isoAPIReq(method, path string, c *isoCaller, body any) isoReq {
	r := isoReq{method: method, path: path, bearer: c.token}
	if body != nil {
		r.body = isoJSON(body)
	}
	return r
}

func isoFilter(expr string) string { return "?filter=" + url.QueryEscape(expr) }

// isoList reads a list answer and checks that its items are exactly want (resource or
// workspace keys), with count, and total where the endpoint pages, to match.
func isoList(t *testing.T, w *isoWorld, label string, body []byte, paged bool, want []string) []map[string]any {
	t.Helper()
	var l struct {
		Items  []map[string]any `json:"items"`
		Count  *int             `json:"count"`
		Total  *int             `json:"total"`
		Offset *int             `json:"offset"`
	}
	if err := json.Unmarshal(body, &l); err != nil || l.Count == nil {
		t.Errorf("%s: list answer %s", label, isoSnip(body))
		return nil
	}
	var got, exp []string
	for _, it := range l.Items {
		id, _ := it["id"].(string)
		got = append(got, id)
	}
	for _, k := range want {
		exp = append(exp, w.id(k))
	}
	sort.Strings(got)
	sort.Strings(exp)
	if !slices.Equal(got, exp) || *l.Count != len(l.Items) {
		t.Errorf("%s: items %v (count %d), want %v (%v)", label, got, *l.Count, exp, want)
	}
	if paged && (l.Total == nil || *l.Total != len(want) || l.Offset == nil || *l.Offset != 0) {
		t.Errorf("%s: total/offset of %s, want total %d offset 0", label, isoSnip(body), len(want))
	}
	return l.Items
}

func isoDecode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("answer is not a JSON object: %s", isoSnip(body))
	}
	return m
}

func isoRepeat(s string, n int) string { return strings.TrimSpace(strings.Repeat(s+" ", n)) }

// isoSame gives every caller the same answers.
func isoSame(callers []string, answers string) map[string]string {
	m := map[string]string{}
	for _, c := range callers {
		m[c] = answers
	}
	return m
}

func isoRows() []isoRow {
	var rows []isoRow
	// GET /workspaces/v1/workspaces/{id}: its own workspace and its own tenants only.
	wsWant := map[string]string{
		"A":  "404 200 200 200 404 404 404 404",
		"O":  "404 200 200 200 404 404 404 404",
		"X":  "404 404 200 404 404 404 404 404",
		"TA": "404 404 200 404 404 404 404 404",
		"SA": "200 404 404 404 404 404 404 404",
		"B":  "404 404 404 404 200 200 200 404",
	}
	wsCheck := func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
		m := isoDecode(t, body)
		want := map[string]string{"S": storage.WorkspaceStandard, "M1": storage.WorkspaceMSP, "M2": storage.WorkspaceMSP}[target]
		if want == "" {
			want = storage.WorkspaceTenant
		}
		if m["id"] != w.id(target) || m["workspaceName"] != w.ws[target].name || m["workspaceType"] != want {
			t.Errorf("workspace %s read by %s: %s", target, c.key, body)
		}
	}
	for _, hex := range []bool{false, true} {
		name := "get workspace"
		if hex {
			name += " (32-hex id)"
		}
		rows = append(rows, isoRow{name: name, pattern: "GET /workspaces/v1/workspaces/{id}", targets: isoWSTargets, want: wsWant,
			req: func(w *isoWorld, c *isoCaller, target string) isoReq {
				id := w.id(target)
				if hex {
					id = ids.Hex(id)
				}
				return isoAPIReq(http.MethodGet, "/workspaces/v1/workspaces/"+id, c, nil)
			}, check: wsCheck})
	}

	rows = append(rows, isoContactRows(wsWant)...)

	// MSP tenants.
	tenantTargets := append([]string{"-"}, isoWSTargets...)
	rows = append(rows, isoRow{name: "list tenants (unfiltered, then filter id eq target)", pattern: "GET /workspaces/v1/msp-tenants",
		targets: tenantTargets,
		want: map[string]string{"A": isoRepeat("200", 9), "O": isoRepeat("200", 9), "X": isoRepeat("403", 9),
			"TA": isoRepeat("403", 9), "SA": isoRepeat("403", 9), "B": isoRepeat("200", 9)},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			p := "/workspaces/v1/msp-tenants"
			if target != "-" {
				p += isoFilter("id eq '" + w.id(target) + "'")
			}
			return isoAPIReq(http.MethodGet, p, c, nil)
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			var want []string
			for _, k := range isoOwnTenants[c.key] {
				if target == "-" || target == k {
					want = append(want, k)
				}
			}
			for _, it := range isoList(t, w, "tenants of "+c.key+" "+target, body, true, want) {
				if it["type"] != "tenant" || it["workspaceType"] != storage.WorkspaceTenant {
					t.Errorf("tenant item %v", it)
				}
			}
		}})
	rows = append(rows, isoRow{name: "create tenant", pattern: "POST /workspaces/v1/msp-tenants", targets: []string{"-"}, writes: true,
		want: map[string]string{"A": "201", "O": "403", "X": "403", "TA": "403", "SA": "403", "B": "201"},
		req: func(w *isoWorld, c *isoCaller, _ string) isoReq {
			return isoAPIReq(http.MethodPost, "/workspaces/v1/msp-tenants", c, map[string]string{"workspaceName": "Fresh " + ids.New()[:8]})
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, _ string, _ *http.Response, body []byte) {
			m := isoDecode(t, body)
			id, _ := m["id"].(string)
			if m["resourceUri"] != "/workspaces/v1/workspaces/"+id {
				t.Errorf("created tenant answer %s", body)
			}
			if got := status(t, w.e, http.MethodGet, "/workspaces/v1/workspaces/"+id, c.token, nil); got != http.StatusOK {
				t.Errorf("%s reading the tenant it created: %d", c.key, got)
			}
			other := map[string]string{"A": "B", "B": "A"}[c.key]
			if got := status(t, w.e, http.MethodGet, "/workspaces/v1/workspaces/"+id, w.callers[other].token, nil); got != http.StatusNotFound {
				t.Errorf("%s reading %s's new tenant: %d, want 404", other, c.key, got)
			}
		}})
	// Tenant names are unique within one MSP only: another MSP's names are no conflict (a
	// 409 there would tell that the name exists elsewhere).
	rows = append(rows, isoRow{name: "create tenant named like target", pattern: "POST /workspaces/v1/msp-tenants",
		targets: isoWorkspaces, writes: true,
		want: map[string]string{"A": "201 201 409 409 201 201 201", "O": isoRepeat("403", 7), "X": isoRepeat("403", 7),
			"TA": isoRepeat("403", 7), "SA": isoRepeat("403", 7), "B": "201 201 201 201 201 409 409"},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPost, "/workspaces/v1/msp-tenants", c, map[string]string{"workspaceName": w.ws[target].name})
		},
		key: func(*isoCaller, string) string { return "" }})
	rows = append(rows, isoRow{name: "update tenant", pattern: "PUT /workspaces/v1/msp-tenants/{id}", targets: isoWSTargets, writes: true,
		want: map[string]string{"A": "404 404 200 200 404 404 404 404", "O": isoRepeat("403", 8), "X": isoRepeat("403", 8),
			"TA": isoRepeat("403", 8), "SA": isoRepeat("403", 8), "B": "404 404 404 404 404 200 200 404"},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPut, "/workspaces/v1/msp-tenants/"+w.id(target), c, map[string]string{"workspaceName": "Renamed " + target})
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			if m := isoDecode(t, body); m["id"] != w.id(target) {
				t.Errorf("updated tenant answer %s", body)
			}
			_, raw := w.e.Do(t, http.MethodGet, "/workspaces/v1/workspaces/"+w.id(target), c.token, nil)
			if !strings.Contains(string(raw), `"workspaceName":"Renamed `+target+`"`) {
				t.Errorf("the tenant after its update: %s", raw)
			}
		}})
	rows = append(rows, isoRow{name: "delete tenant", pattern: "DELETE /workspaces/v1/msp-tenants/{id}", targets: isoWSTargets, writes: true,
		want: map[string]string{"A": "404 404 204 204 404 404 404 404", "O": isoRepeat("403", 8), "X": isoRepeat("403", 8),
			"TA": isoRepeat("403", 8), "SA": isoRepeat("403", 8), "B": "404 404 404 404 404 204 204 404"},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodDelete, "/workspaces/v1/msp-tenants/"+w.id(target), c, nil)
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, _ []byte) {
			if got := status(t, w.e, http.MethodGet, "/workspaces/v1/workspaces/"+w.id(target), c.token, nil); got != http.StatusNotFound {
				t.Errorf("the deleted tenant %s still answers %d", target, got)
			}
		}})

	// Tenant groups.
	groupsPath := "/workspaces/v1beta1/groups"
	mspOnly := func(a, b string) map[string]string {
		n := len(strings.Fields(a))
		return map[string]string{"A": a, "O": a, "X": isoRepeat("403", n), "TA": isoRepeat("403", n), "SA": isoRepeat("403", n), "B": b}
	}
	mspOnlyEdit := func(a, b string) map[string]string {
		m := mspOnly(a, b)
		m["O"] = isoRepeat("403", len(strings.Fields(a)))
		return m
	}
	rows = append(rows, isoRow{name: "list groups", pattern: "GET " + groupsPath, targets: []string{"-"}, want: mspOnly("200", "200"),
		req: func(w *isoWorld, c *isoCaller, _ string) isoReq { return isoAPIReq(http.MethodGet, groupsPath, c, nil) },
		check: func(t *testing.T, w *isoWorld, c *isoCaller, _ string, _ *http.Response, body []byte) {
			for _, it := range isoList(t, w, "groups of "+c.key, body, true, []string{isoOwnGroup[c.key]}) {
				if it["totalWorkspaces"] != float64(1) {
					t.Errorf("group %v: totalWorkspaces, want 1", it)
				}
			}
		}})
	rows = append(rows, isoRow{name: "create group", pattern: "POST " + groupsPath, targets: []string{"-"}, writes: true, want: mspOnlyEdit("201", "201"),
		req: func(w *isoWorld, c *isoCaller, _ string) isoReq {
			return isoAPIReq(http.MethodPost, groupsPath, c, map[string]string{"name": "Fresh " + ids.New()[:8], "groupType": "TenantGroup"})
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, _ string, _ *http.Response, body []byte) {
			m := isoDecode(t, body)
			if grn, _ := m["grn"].(string); grn != rbac.TenantGroupGRN(w.ws[c.home].id, fmt.Sprint(m["id"])) {
				t.Errorf("created group %s", body)
			}
		}})
	rows = append(rows, isoRow{name: "create group named like target", pattern: "POST " + groupsPath, targets: []string{"G1", "G2"}, writes: true,
		want: mspOnlyEdit("409 201", "201 409"),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			name := map[string]string{"G1": "Orchid West", "G2": "Quartz East"}[target]
			return isoAPIReq(http.MethodPost, groupsPath, c, map[string]string{"name": name, "groupType": "TenantGroup"})
		},
		key: func(c *isoCaller, target string) string { return c.key + target }})
	groupCheck := func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
		if m := isoDecode(t, body); m["id"] != w.id(target) || m["grn"] != rbac.TenantGroupGRN(w.ws[c.home].id, w.id(target)) {
			t.Errorf("group %s: %s", target, body)
		}
	}
	rows = append(rows, isoRow{name: "get group", pattern: "GET " + groupsPath + "/{gid}", targets: isoGroupT, want: mspOnly("200 404 404", "404 200 404"),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodGet, groupsPath+"/"+w.id(target), c, nil)
		}, check: groupCheck})
	rows = append(rows, isoRow{name: "update group", pattern: "PUT " + groupsPath + "/{gid}", targets: isoGroupT, writes: true,
		want: mspOnlyEdit("200 404 404", "404 200 404"),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPut, groupsPath+"/"+w.id(target), c, map[string]string{"name": "Renamed " + target})
		}, check: groupCheck})
	rows = append(rows, isoRow{name: "delete group", pattern: "DELETE " + groupsPath + "/{gid}", targets: isoGroupT, writes: true,
		want: mspOnlyEdit("204 404 404", "404 204 404"),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodDelete, groupsPath+"/"+w.id(target), c, nil)
		}})
	rows = append(rows, isoRow{name: "list group workspaces", pattern: "GET " + groupsPath + "/{gid}/group-workspaces", targets: isoGroupT,
		want: mspOnly("200 404 404", "404 200 404"),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodGet, groupsPath+"/"+w.id(target)+"/group-workspaces", c, nil)
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			member := map[string]string{"G1": "m1", "G2": "m2"}[target]
			isoList(t, w, "members of "+target, body, true, []string{member})
		}})
	memberCheck := func(t *testing.T, w *isoWorld, c *isoCaller, tenant string, body []byte) {
		var m struct {
			GRN       string
			Workspace struct{ ID, Name string }
		}
		if err := json.Unmarshal(body, &m); err != nil || m.Workspace.ID != w.id(tenant) || m.Workspace.Name != w.ws[tenant].name ||
			!strings.HasPrefix(m.GRN, "grn:glp/workspaces/"+ids.Hex(w.ws[c.home].id)+"/") {
			t.Errorf("group workspace %s: %s", tenant, body)
		}
	}
	// Adding a workspace to the caller's own group: only its own tenants can join, and every
	// other workspace is refused alike, whether it exists or not.
	rows = append(rows, isoRow{name: "add workspace (target) to own group", pattern: "POST " + groupsPath + "/{gid}/group-workspaces",
		targets: isoWSTargets, writes: true,
		want: mspOnlyEdit("400 400 409 201 400 400 400 400", "400 400 400 400 400 409 201 400"),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPost, groupsPath+"/"+w.id(isoOwnGroup[c.key])+"/group-workspaces", c,
				map[string]string{"workspaceId": w.id(target)})
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			memberCheck(t, w, c, target, body)
		},
		key: func(c *isoCaller, target string) string { return isoOwnGroup[c.key] + target }})
	freeTenant := map[string]string{"A": "T1b", "O": "T1b", "X": "T1b", "TA": "T1b", "SA": "T1b", "B": "T2b"}
	rows = append(rows, isoRow{name: "add own tenant to group (target)", pattern: "POST " + groupsPath + "/{gid}/group-workspaces",
		targets: isoGroupT, writes: true, want: mspOnlyEdit("201 404 404", "404 201 404"),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPost, groupsPath+"/"+w.id(target)+"/group-workspaces", c,
				map[string]string{"workspaceId": w.id(freeTenant[c.key])})
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, _ string, _ *http.Response, body []byte) {
			memberCheck(t, w, c, freeTenant[c.key], body)
		}})
	memberPath := func(w *isoWorld, target string) string {
		g, m, _ := strings.Cut(target, "/")
		return groupsPath + "/" + w.id(g) + "/group-workspaces/" + w.id(m)
	}
	rows = append(rows, isoRow{name: "get group workspace", pattern: "GET " + groupsPath + "/{gid}/group-workspaces/{mid}", targets: isoMemberT,
		want: mspOnly("200 404 404 404 404", "404 200 404 404 404"),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodGet, memberPath(w, target), c, nil)
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			memberCheck(t, w, c, map[string]string{"G1/m1": "T1a", "G2/m2": "T2a"}[target], body)
		}})
	rows = append(rows, isoRow{name: "remove group workspace", pattern: "DELETE " + groupsPath + "/{gid}/group-workspaces/{mid}", targets: isoMemberT,
		writes: true, want: mspOnlyEdit("204 404 404 404 404", "404 204 404 404 404"),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodDelete, memberPath(w, target), c, nil)
		}})

	rows = append(rows, isoCatalogRows()...)

	// Service-manager provisions, under both prefixes: a workspace's own only (an MSP does
	// not see its tenants' either).
	provTargets := append([]string{"-"}, isoProvT...)
	provGet := map[string]string{
		"A":  "404 200 404 404 404 404 404 404",
		"O":  "404 200 404 404 404 404 404 404",
		"X":  "404 404 200 404 404 404 404 404",
		"TA": "404 404 200 404 404 404 404 404",
		"SA": "200 404 404 404 404 404 404 404",
		"B":  "404 404 404 404 200 404 404 404",
	}
	provDel := map[string]string{}
	for k, v := range provGet {
		provDel[k] = strings.ReplaceAll(v, "200", "204")
	}
	provDel["O"] = isoRepeat("403", 8)
	for i, base := range []string{"/service-catalog/v1/service-manager-provisions", "/service-catalog/v1beta1/service-manager-provisions"} {
		rows = append(rows, isoRow{name: "list provisions (unfiltered, then filter id eq target) " + base, pattern: "GET " + base,
			targets: provTargets, want: isoSame(isoCallers, isoRepeat("200", 9)),
			req: func(w *isoWorld, c *isoCaller, target string) isoReq {
				p := base
				if target != "-" {
					p += isoFilter("id eq '" + w.id(target) + "'")
				}
				return isoAPIReq(http.MethodGet, p, c, nil)
			},
			check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
				var want []string
				if own := "P." + c.home; target == "-" || target == own {
					want = []string{own}
				}
				isoList(t, w, "provisions of "+c.key+" "+target, body, true, want)
			}})
		rows = append(rows, isoRow{name: "create provision " + base, pattern: "POST " + base, targets: []string{"-"}, writes: true,
			want: map[string]string{"A": "201", "O": "403", "X": "201", "TA": "201", "SA": "201", "B": "201"},
			req: func(w *isoWorld, c *isoCaller, _ string) isoReq {
				return isoAPIReq(http.MethodPost, base, c, map[string]string{"serviceManagerId": isoManagerFor(c.key, i), "region": "eu-central"})
			},
			check: func(t *testing.T, w *isoWorld, c *isoCaller, _ string, _ *http.Response, body []byte) {
				m := isoDecode(t, body)
				if got := status(t, w.e, http.MethodGet, base+"/"+fmt.Sprint(m["id"]), c.token, nil); got != http.StatusOK {
					t.Errorf("%s reading the provision it created: %d", c.key, got)
				}
			}})
		rows = append(rows, isoRow{name: "get provision " + base, pattern: "GET " + base + "/{id}", targets: isoProvT, want: provGet,
			req: func(w *isoWorld, c *isoCaller, target string) isoReq {
				return isoAPIReq(http.MethodGet, base+"/"+w.id(target), c, nil)
			},
			check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
				if m := isoDecode(t, body); m["id"] != w.id(target) {
					t.Errorf("provision %s: %s", target, body)
				}
			}})
		rows = append(rows, isoRow{name: "delete provision " + base, pattern: "DELETE " + base + "/{id}", targets: isoProvT, writes: true, want: provDel,
			req: func(w *isoWorld, c *isoCaller, target string) isoReq {
				return isoAPIReq(http.MethodDelete, base+"/"+w.id(target), c, nil)
			}})
	}

	// Credentials.
	const credsPath = "/workspaces/v1/credentials"
	ownCreds := map[string][]string{"A": {"K.A", "C.M1", "C.M1T1a", "C.M1T1b"}, "O": {"K.O"}, "X": nil,
		"TA": {"K.TA", "C.T1a"}, "SA": {"K.SA", "C.S"}, "B": {"K.B", "C.M2", "C.M2T2a", "C.M2T2b"}}
	tenantCreds := map[string]string{"T1a": "C.M1T1a", "T1b": "C.M1T1b", "T2a": "C.M2T2a", "T2b": "C.M2T2b"}
	rows = append(rows, isoRow{name: "list credentials (unfiltered, then filter tenantId eq target)", pattern: "GET " + credsPath,
		targets: tenantTargets, want: isoSame(isoCallers, isoRepeat("200", 9)),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			p := credsPath
			if target != "-" {
				p += isoFilter("tenantId eq '" + w.id(target) + "'")
			}
			return isoAPIReq(http.MethodGet, p, c, nil)
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			want := ownCreds[c.key]
			if target != "-" {
				want = nil
				if k := tenantCreds[target]; slices.Contains(ownCreds[c.key], k) {
					want = []string{k}
				}
			}
			isoList(t, w, "credentials of "+c.key+" "+target, body, false, want)
		}})
	// An identity administrator lists another owner's credentials with ownerId: of its own
	// workspace only. X acts in T1a as an administrator (through M1's assignment), so it sees
	// the tenant administrator's.
	byOwner := map[string]map[string][]string{
		"A":  {"U.M1": ownCreds["A"], "U.O": {"K.O"}},
		"O":  {"U.O": {"K.O"}},
		"X":  {"U.TA": ownCreds["TA"]},
		"TA": {"U.TA": ownCreds["TA"]},
		"SA": {"U.S": ownCreds["SA"]},
		"B":  {"U.M2": ownCreds["B"]},
	}
	rows = append(rows, isoRow{name: "list credentials filter ownerId eq target", pattern: "GET " + credsPath, targets: isoUserT,
		want: isoSame(isoCallers, isoRepeat("200", 6)),
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodGet, credsPath+isoFilter("ownerId eq '"+w.id(target)+"'"), c, nil)
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			isoList(t, w, "credentials of owner "+target+" listed by "+c.key, body, false, byOwner[c.key][target])
		}})
	rows = append(rows, isoRow{name: "create credential for tenant (target)", pattern: "POST " + credsPath, targets: isoWSTargets, writes: true,
		want: map[string]string{"A": "400 400 201 201 400 400 400 400", "O": isoRepeat("403", 8), "X": isoRepeat("400", 8),
			"TA": isoRepeat("400", 8), "SA": isoRepeat("400", 8), "B": "400 400 400 400 400 201 201 400"},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPost, credsPath, c, map[string]any{"credentialName": "for " + target,
				"associatedTenant": map[string]string{"resourceUri": "/workspaces/v1/workspaces/" + w.id(target)}})
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			var cr struct {
				ClientSecret     string
				AssociatedTenant struct{ ResourceURI, TenantName string }
			}
			if err := json.Unmarshal(body, &cr); err != nil || cr.ClientSecret == "" || cr.AssociatedTenant.TenantName != w.ws[target].name ||
				cr.AssociatedTenant.ResourceURI != "/workspaces/v1/workspaces/"+w.id(target) {
				t.Errorf("credential for %s: %s", target, body)
			}
		},
		key: func(*isoCaller, string) string { return "" }})
	rows = append(rows, isoRow{name: "create credential for provision (target)", pattern: "POST " + credsPath, targets: isoProvT, writes: true,
		want: map[string]string{
			"A": "400 201 400 400 400 400 400 400", "O": isoRepeat("403", 8), "X": "400 400 201 400 400 400 400 400",
			"TA": "400 400 201 400 400 400 400 400", "SA": "201 400 400 400 400 400 400 400", "B": "400 400 400 400 201 400 400 400"},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPost, credsPath, c, map[string]any{"credentialName": "for " + target,
				"associatedServiceManagerProvision": map[string]string{"resourceUri": "/service-catalog/v1/service-manager-provisions/" + w.id(target)}})
		},
		key: func(*isoCaller, string) string { return "" }})
	credWant := map[string]string{
		"A":  "404 200 200 200 404 404 404 404 404",
		"O":  isoRepeat("403", 9),
		"X":  "404 404 404 404 200 404 404 404 404",
		"TA": "404 404 404 404 200 404 404 404 404",
		"SA": "200 404 404 404 404 404 404 404 404",
		"B":  "404 404 404 404 404 200 200 200 404",
	}
	rows = append(rows, isoRow{name: "reset credential", pattern: "POST " + credsPath + "/{id}/reset", targets: isoCredT, writes: true, want: credWant,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPost, credsPath+"/"+w.id(target)+"/reset", c, nil)
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			if m := isoDecode(t, body); m["id"] != w.id(target) || m["clientSecret"] == nil || m["generation"] != float64(2) {
				t.Errorf("reset %s: %s", target, body)
			}
		}})
	credDel := map[string]string{}
	for k, v := range credWant {
		credDel[k] = strings.ReplaceAll(v, "200", "204")
	}
	rows = append(rows, isoRow{name: "delete credential", pattern: "DELETE " + credsPath + "/{id}", targets: isoCredT, writes: true, want: credDel,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodDelete, credsPath+"/"+w.id(target), c, nil)
		}})

	// keyhold's credential extensions: secret rotation, private_key_jwt keys, TLS client
	// authentication. Writes take what a reset takes; reads see what the caller may manage
	// (an observer manages no other owner's credential: 404, like another workspace's).
	credView := map[string]string{}
	for k, v := range credWant {
		credView[k] = v
	}
	credView["O"] = isoRepeat("404", 9)
	rows = append(rows, isoRow{name: "rotate credential secret", pattern: "POST " + credsPath + "/{id}/rotate", targets: isoCredT, writes: true, want: credWant,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPost, credsPath+"/"+w.id(target)+"/rotate", c, map[string]any{"overlapSeconds": 60})
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			if m := isoDecode(t, body); m["id"] != w.id(target) || m["clientSecret"] == nil || m["secrets"] == nil {
				t.Errorf("rotate %s: %s", target, body)
			}
		}})
	rows = append(rows, isoRow{name: "list credential secrets", pattern: "GET " + credsPath + "/{id}/secrets", targets: isoCredT, want: credView,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodGet, credsPath+"/"+w.id(target)+"/secrets", c, nil)
		}})
	noPrevious := map[string]string{}
	for k, v := range credWant {
		noPrevious[k] = strings.ReplaceAll(v, "200", "404") // a fresh credential has no previous secret
	}
	rows = append(rows, isoRow{name: "retire previous secret", pattern: "DELETE " + credsPath + "/{id}/secrets/previous", targets: isoCredT, want: noPrevious,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodDelete, credsPath+"/"+w.id(target)+"/secrets/previous", c, nil)
		}})
	isoJWKS := isoTestJWKS()
	rows = append(rows, isoRow{name: "set credential keys", pattern: "PUT " + credsPath + "/{id}/keys", targets: isoCredT, writes: true, want: credWant,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPut, credsPath+"/"+w.id(target)+"/keys", c, map[string]any{"jwks": isoJWKS})
		}})
	rows = append(rows, isoRow{name: "get credential keys", pattern: "GET " + credsPath + "/{id}/keys", targets: isoCredT, want: credView,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodGet, credsPath+"/"+w.id(target)+"/keys", c, nil)
		}})
	rows = append(rows, isoRow{name: "delete credential keys", pattern: "DELETE " + credsPath + "/{id}/keys", targets: isoCredT, writes: true, want: credDel,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodDelete, credsPath+"/"+w.id(target)+"/keys", c, nil)
		}})
	rows = append(rows, isoRow{name: "set credential token settings", pattern: "PUT " + credsPath + "/{id}/token-settings", targets: isoCredT, writes: true, want: credWant,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPut, credsPath+"/"+w.id(target)+"/token-settings", c,
				map[string]any{"tokenLifetime": 300, "audiences": []string{"https://api.example.com"}})
		}})
	rows = append(rows, isoRow{name: "get credential token settings", pattern: "GET " + credsPath + "/{id}/token-settings", targets: isoCredT, want: credView,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodGet, credsPath+"/"+w.id(target)+"/token-settings", c, nil)
		}})
	rows = append(rows, isoRow{name: "set credential TLS client auth", pattern: "PUT " + credsPath + "/{id}/tls-client-auth", targets: isoCredT, writes: true, want: credWant,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodPut, credsPath+"/"+w.id(target)+"/tls-client-auth", c, map[string]any{"subjectDn": "CN=job"})
		}})
	rows = append(rows, isoRow{name: "get credential TLS client auth", pattern: "GET " + credsPath + "/{id}/tls-client-auth", targets: isoCredT, want: credView,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodGet, credsPath+"/"+w.id(target)+"/tls-client-auth", c, nil)
		}})
	rows = append(rows, isoRow{name: "delete credential TLS client auth", pattern: "DELETE " + credsPath + "/{id}/tls-client-auth", targets: isoCredT, writes: true, want: credDel,
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoAPIReq(http.MethodDelete, credsPath+"/"+w.id(target)+"/tls-client-auth", c, nil)
		}})

	// OAuth. An issuer's existence is public (its metadata and keys are served to anyone),
	// so a refusal at an existing issuer is not compared with one at an unknown issuer;
	// within one caller, refusals with the same error are compared instead.
	issuerPath := func(w *isoWorld, target string) string {
		return token.IssuerPrefix + ids.Hex(w.id(target))
	}
	form := func(v url.Values) string { return v.Encode() }
	rows = append(rows, isoRow{name: "client_credentials with the caller's credential", pattern: "POST " + token.IssuerPrefix + "{ws}/token",
		kind: isoOAuth, targets: isoWSTargets,
		want: map[string]string{
			"A":  "ic 200 ic ic ic ic ic nf",
			"O":  "ic 200 ic ic ic ic ic nf",
			"X":  "- - - - - - - -",
			"TA": "ic ic 200 ic ic ic ic nf",
			"SA": "200 ic ic ic ic ic ic nf",
			"B":  "ic ic ic ic 200 ic ic nf",
		},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoReq{method: http.MethodPost, path: issuerPath(w, target) + "/token", form: true,
				body: form(url.Values{"grant_type": {"client_credentials"}, "client_id": {c.client.id}, "client_secret": {c.client.secret}})}
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			if cl := claimsOf(t, accessToken(t, body)); cl["hpe_workspace_id"] != ids.Hex(w.id(target)) {
				t.Errorf("token of %s at %s: claims %v", c.key, target, cl)
			}
		}})
	rows = append(rows, isoRow{name: "exchange the caller's token", pattern: "POST " + token.IssuerPrefix + "{ws}/token",
		kind: isoOAuth, targets: isoWSTargets,
		want: map[string]string{
			"A":  "ig ig 200 200 ig ig ig nf",
			"O":  "ig ig 200 200 ig ig ig nf",
			"X":  "ig ig ig ig ig ig ig nf",
			"TA": "ig ig ig ig ig ig ig nf",
			"SA": "ig ig ig ig ig ig ig nf",
			"B":  "ig ig ig ig ig 200 200 nf",
		},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoReq{method: http.MethodPost, path: issuerPath(w, target) + "/token", form: true,
				body: form(url.Values{"grant_type": {token.GrantTokenExchange}, "subject_token": {c.token},
					"subject_token_type": {token.TokenTypeAccessToken}})}
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			cl, sub := claimsOf(t, accessToken(t, body)), claimsOf(t, c.token)
			act, _ := cl["act"].(map[string]any)
			if cl["hpe_workspace_id"] != ids.Hex(w.id(target)) || act == nil || act["hpe_workspace_id"] != ids.Hex(w.ws[c.home].id) ||
				cl["exp"].(float64) > sub["exp"].(float64) {
				t.Errorf("%s exchanged into %s: claims %v", c.key, target, cl)
			}
		}})
	clientAt := func(w *isoWorld, target string) isoClient {
		if cl, ok := w.issuer[target]; ok {
			return cl
		}
		return w.issuer["S"] // an unknown issuer: refused before any client is looked at
	}
	rows = append(rows, isoRow{name: "introspect the caller's token with the target's client", pattern: "POST " + token.IssuerPrefix + "{ws}/introspect",
		kind: isoOAuth, targets: isoWSTargets,
		want: map[string]string{
			"A":  "off on off off off off off nf",
			"O":  "off on off off off off off nf",
			"X":  "off off on off off off off nf",
			"TA": "off off on off off off off nf",
			"SA": "on off off off off off off nf",
			"B":  "off off off off on off off nf",
		},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			cl := clientAt(w, target)
			return isoReq{method: http.MethodPost, path: issuerPath(w, target) + "/introspect", form: true,
				body: form(url.Values{"token": {c.token}, "client_id": {cl.id}, "client_secret": {cl.secret}})}
		}})
	// Revocation with the target's client: another workspace's token is not touched (200,
	// RFC 7009 §2.2); a token of the workspace issued to another client is refused. Only the
	// token's own client revokes it: at its home issuer, or, for the exchanged token X, at the
	// issuer of its client's workspace (M1).
	revokes := func(c *isoCaller, target string) bool {
		return (c.key == "A" && target == "M1") || (c.key == "SA" && target == "S") || (c.key == "B" && target == "M2") ||
			(c.key == "X" && target == "M1")
	}
	rows = append(rows, isoRow{name: "revoke", pattern: "POST " + token.IssuerPrefix + "{ws}/revoke",
		kind: isoOAuth, targets: isoWSTargets, writes: true, mutates: revokes,
		key: func(c *isoCaller, target string) string { return "token " + c.key },
		want: map[string]string{
			"A":  "200 200 200 200 200 200 200 nf",
			"O":  "200 uc 200 200 200 200 200 nf",
			"X":  "200 200 uc 200 200 200 200 nf",
			"TA": "200 200 uc 200 200 200 200 nf",
			"SA": "200 200 200 200 200 200 200 nf",
			"B":  "200 200 200 200 200 200 200 nf",
		},
		req: func(w *isoWorld, c *isoCaller, target string) isoReq {
			cl := clientAt(w, target)
			return isoReq{method: http.MethodPost, path: issuerPath(w, target) + "/revoke", form: true,
				body: form(url.Values{"token": {c.token}, "client_id": {cl.id}, "client_secret": {cl.secret}})}
		},
		check: func(t *testing.T, w *isoWorld, c *isoCaller, target string, _ *http.Response, body []byte) {
			if len(body) != 0 {
				t.Errorf("revocation answered a body %q", body)
			}
			want := http.StatusOK
			if revokes(c, target) {
				want = http.StatusUnauthorized
				w.failures++
			}
			if got := status(t, w.e, http.MethodGet, "/workspaces/v1/workspaces/"+w.ws[c.home].id, c.token, nil); got != want {
				t.Errorf("%s's token after revocation at %s: %d, want %d", c.key, target, got, want)
			}
		}})

	// Public endpoints: no caller; an issuer's keys and metadata name only that issuer.
	anyone := []string{"*"}
	public := map[string]string{"*": "200 200 200 200 200 200 200 nf"}
	metaCheck := func(t *testing.T, w *isoWorld, _ *isoCaller, target string, _ *http.Response, body []byte) {
		if m := isoDecode(t, body); m["issuer"] != w.e.Base+token.IssuerPrefix+ids.Hex(w.id(target)) {
			t.Errorf("metadata of %s: %s", target, body)
		}
	}
	get := func(p func(w *isoWorld, target string) string) func(w *isoWorld, c *isoCaller, target string) isoReq {
		return func(w *isoWorld, c *isoCaller, target string) isoReq {
			return isoReq{method: http.MethodGet, path: p(w, target)}
		}
	}
	rows = append(rows,
		isoRow{name: "issuer jwks", pattern: "GET " + token.IssuerPrefix + "{ws}/jwks", kind: isoOAuth, callers: anyone, targets: isoWSTargets, want: public,
			req: get(func(w *isoWorld, target string) string { return issuerPath(w, target) + "/jwks" })},
		isoRow{name: "openid-configuration", pattern: "GET " + token.IssuerPrefix + "{ws}/.well-known/openid-configuration", kind: isoOAuth,
			callers: anyone, targets: isoWSTargets, want: public, check: metaCheck,
			req: get(func(w *isoWorld, target string) string {
				return issuerPath(w, target) + "/.well-known/openid-configuration"
			})},
		isoRow{name: "RFC 8414 metadata", pattern: "GET /.well-known/oauth-authorization-server" + token.IssuerPrefix + "{ws}", kind: isoOAuth,
			callers: anyone, targets: isoWSTargets, want: public, check: metaCheck,
			req: get(func(w *isoWorld, target string) string {
				return "/.well-known/oauth-authorization-server" + issuerPath(w, target)
			})},
	)
	for _, p := range []string{"/.well-known/jwks.json", "/healthz", "/readyz", "/metrics"} {
		rows = append(rows, isoRow{name: p, pattern: "GET " + p, kind: isoPublic, callers: anyone, targets: []string{"-"},
			want: map[string]string{"*": "200"}, req: get(func(*isoWorld, string) string { return p })})
	}
	return rows
}

// --- which routes keyhold registers ---

// isoRegisteredRoutes reads the route registrations of internal/httpapi and internal/token
// from their source: every call route(pattern, …), HandleFunc(pattern, …) or Handle(pattern,
// …) whose pattern is built from string literals and constants (and range variables over
// literal lists).
func isoRegisteredRoutes(t *testing.T) []string {
	t.Helper()
	method := regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE|HEAD) /`)
	var out, unresolved []string
	for _, dir := range []string{"../httpapi", "../token"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("route sources in %s: %v", dir, err)
		}
		fset := gotoken.NewFileSet()
		var parsed []*ast.File
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(fset, f, src, 0)
			if err != nil {
				t.Fatalf("parse %s: %v", f, err)
			}
			parsed = append(parsed, af)
		}
		consts := map[string][]string{}
		var eval func(e ast.Expr) ([]string, bool)
		eval = func(e ast.Expr) ([]string, bool) {
			switch e := e.(type) {
			case *ast.BasicLit:
				if e.Kind != gotoken.STRING {
					return nil, false
				}
				s, err := strconv.Unquote(e.Value)
				return []string{s}, err == nil
			case *ast.Ident:
				v, ok := consts[e.Name]
				return v, ok
			case *ast.ParenExpr:
				return eval(e.X)
			case *ast.BinaryExpr:
				if e.Op != gotoken.ADD {
					return nil, false
				}
				l, ok1 := eval(e.X)
				r, ok2 := eval(e.Y)
				var prod []string
				for _, a := range l {
					for _, b := range r {
						prod = append(prod, a+b)
					}
				}
				return prod, ok1 && ok2
			}
			return nil, false
		}
		// Constants, resolved until nothing changes (they may refer to each other).
		for changed := true; changed; {
			changed = false
			for _, af := range parsed {
				for _, d := range af.Decls {
					gd, ok := d.(*ast.GenDecl)
					if !ok || gd.Tok != gotoken.CONST {
						continue
					}
					for _, sp := range gd.Specs {
						vs := sp.(*ast.ValueSpec)
						for i, n := range vs.Names {
							if _, done := consts[n.Name]; done || i >= len(vs.Values) {
								continue
							}
							if v, ok := eval(vs.Values[i]); ok {
								consts[n.Name], changed = v, true
							}
						}
					}
				}
			}
		}
		for _, af := range parsed {
			ast.Inspect(af, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.RangeStmt:
					// for _, base := range []string{"…", "…"}: base takes each value.
					if v, ok := n.Value.(*ast.Ident); ok {
						if cl, ok := n.X.(*ast.CompositeLit); ok {
							var vals []string
							for _, el := range cl.Elts {
								s, ok := eval(el)
								if !ok {
									return true
								}
								vals = append(vals, s...)
							}
							consts[v.Name] = vals
						}
					}
				case *ast.CallExpr:
					sel, ok := n.Fun.(*ast.SelectorExpr)
					if !ok || len(n.Args) < 2 || !slices.Contains([]string{"route", "HandleFunc", "Handle"}, sel.Sel.Name) {
						return true
					}
					if id, ok := n.Args[0].(*ast.Ident); ok && consts[id.Name] == nil {
						return true // a helper passing its own pattern parameter on (route)
					}
					vals, ok := eval(n.Args[0])
					if !ok {
						unresolved = append(unresolved, fset.Position(n.Pos()).String())
						return true
					}
					for _, v := range vals {
						if method.MatchString(v) {
							out = append(out, v)
						}
					}
				}
				return true
			})
		}
	}
	if len(unresolved) > 0 {
		t.Logf("route registrations whose pattern is not built from constants (not checked): %v", unresolved)
	}
	if len(out) < 30 {
		t.Fatalf("found only %d routes: %v", len(out), out)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// isoTestJWKS is a key set of one fresh public EC key, as a client would register it.
func isoTestJWKS() jose.JSONWebKeySet {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "iso", Use: "sig"}}}
}
