package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Modes.
const (
	ModePrivateKeyJWT = "private_key_jwt"
	ModeDPoP          = "dpop"
	ModeSecret        = "secret"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Config is one run.
type Config struct {
	Mode     string
	URL      string // where the requests go
	Endpoint string // the token endpoint as the server names it (aud, htu); default URL
	API      string // keyhold's base URL for the private_key_jwt setup; default URL's origin
	Alg      string
	Conns    int
	Duration time.Duration
	Warmup   time.Duration
	// Rate is the expected requests/s the pool is signed for; 0: the warm-up's rate, or
	// defaultRate without a warm-up.
	Rate    float64
	Timeout time.Duration

	ClientID, ClientSecret string
}

// defaultRate sizes the warm-up's pool, and the measured run's when there is no warm-up.
const defaultRate = 10000

// Result is a measured run.
type Result struct {
	Requests  int64           // answers received within the measured duration
	Elapsed   time.Duration   // the measured duration
	Latencies []time.Duration // sorted, of every answer counted in Requests
	Failed    map[string]int64
	First     string // the first failure's status and body
	Socket    [4]int64

	Alg           string
	PreSigned     int64         // JWTs signed before the measured run (warm-up's included)
	PreSignTime   time.Duration // time spent signing them
	SignedDuring  int64         // signed in the background during the measured run
	Expired       int64         // discarded during the measured run: too old to send
	Stale         int64         // discarded: carried a nonce the server refused
	Dry           int64         // times a connection found the pool empty in the measured run
	NonceRequired bool          // the preflight was asked for a nonce
	NonceRetries  int64         // requests sent again after use_dpop_nonce in the measured run
	NonceRenewals int64         // nonces adopted after the first, in the measured run
}

// Socket error kinds, in wrk's order.
const (
	sockConnect = iota
	sockRead
	sockWrite
	sockTimeout
)

// Errors is the number of failed requests: any answer but a 200 token (of the right type),
// and socket errors.
func (r *Result) Errors() int64 {
	var n int64
	for _, v := range r.Failed {
		n += v
	}
	for _, v := range r.Socket {
		n += v
	}
	return n
}

// target is the token endpoint and the fixed parts of the requests.
type target struct {
	mode string
	addr string // host:port to dial
	head []byte // request line and fixed headers
	body []byte // the form (private_key_jwt: up to the assertion)
}

// request appends the HTTP/1.1 request carrying it (a JWT, or nothing in secret mode) to dst.
func (t *target) request(dst []byte, it item) []byte {
	dst = append(dst, t.head...)
	n := len(t.body)
	switch t.mode {
	case ModeDPoP:
		dst = append(dst, "DPoP: "...)
		dst = append(dst, it.jwt...)
		dst = append(dst, "\r\n"...)
	case ModePrivateKeyJWT:
		n += len(it.jwt)
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, "\r\n\r\n"...)
	dst = append(dst, t.body...)
	if t.mode == ModePrivateKeyJWT {
		dst = append(dst, it.jwt...)
	}
	return dst
}

// isLoopback: only 127.0.0.0/8, localhost and ::1 are loaded.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (cfg *Config) check() (*url.URL, error) {
	switch cfg.Mode {
	case ModePrivateKeyJWT, ModeDPoP, ModeSecret:
	default:
		return nil, fmt.Errorf("-mode %q: want %s, %s or %s", cfg.Mode, ModePrivateKeyJWT, ModeDPoP, ModeSecret)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("-url %q: want an http:// URL without query (authload speaks plain HTTP/1.1)", cfg.URL)
	}
	if !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("-url %q is not a loopback address; refusing to load it", cfg.URL)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = cfg.URL
	}
	if cfg.API == "" {
		cfg.API = u.Scheme + "://" + u.Host
	}
	switch {
	case cfg.ClientID == "" || cfg.ClientSecret == "":
		return nil, errors.New("CLIENT_ID and CLIENT_SECRET must be set in the environment")
	case cfg.Conns < 1:
		return nil, errors.New("-c must be at least 1")
	case cfg.Duration <= 0 || cfg.Warmup < 0:
		return nil, errors.New("-d must be positive and -warmup not negative")
	case cfg.Rate < 0:
		return nil, errors.New("-rate must not be negative")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Alg == "" {
		cfg.Alg = "ES256"
	}
	return u, nil
}

// Run sets up the client, checks one request, warms up, signs the pool and measures. logw
// gets progress lines.
func Run(ctx context.Context, cfg Config, logw io.Writer) (*Result, error) {
	u, err := cfg.check()
	if err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	t := &target{mode: cfg.Mode, addr: addr,
		head: []byte("POST " + path + " HTTP/1.1\r\nHost: " + u.Host +
			"\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n")}
	res := &Result{Alg: cfg.Alg}

	var p *pool
	switch cfg.Mode {
	case ModeSecret:
		t.body = []byte(secretForm(cfg.ClientID, cfg.ClientSecret).Encode())
		if code, _, body, err := postForm(ctx, cfg.URL, secretForm(cfg.ClientID, cfg.ClientSecret), ""); err != nil || code != http.StatusOK {
			return nil, fmt.Errorf("preflight: %d %.300s %v", code, body, err)
		}
	case ModePrivateKeyJWT:
		k, err := newKey(cfg.Alg)
		if err != nil {
			return nil, err
		}
		id, remove, err := keyCredential(ctx, cfg, k)
		if err != nil {
			return nil, err
		}
		defer remove()
		fmt.Fprintf(logw, "authload: credential %s with an inline JWKS (%s, kid %s)\n", id, cfg.Alg, k.kid)
		t.body = []byte("grant_type=client_credentials&client_id=" + url.QueryEscape(id) +
			"&client_assertion_type=" + url.QueryEscape(assertionType) + "&client_assertion=")
		p = newPool(k.assertionSigner, assertionFunc(id, cfg.Endpoint))
		if err := preflightAssertion(ctx, cfg, p, id); err != nil {
			return nil, err
		}
	case ModeDPoP:
		k, err := newKey(cfg.Alg)
		if err != nil {
			return nil, err
		}
		t.body = []byte(secretForm(cfg.ClientID, cfg.ClientSecret).Encode())
		p = newPool(k.proofSigner, proofFunc(cfg.Endpoint))
		if res.NonceRequired, err = preflightDPoP(ctx, cfg, p); err != nil {
			return nil, err
		}
		if res.NonceRequired {
			fmt.Fprintf(logw, "authload: the server requires DPoP nonces; proofs carry the nonce it gave\n")
		}
	}

	workers := runtime.GOMAXPROCS(0)
	signed := func(n int) error {
		if p == nil {
			return nil
		}
		t0 := time.Now()
		before := p.signedBefore.Load()
		if err := p.fill(n, workers); err != nil {
			return fmt.Errorf("signing: %w", err)
		}
		res.PreSignTime += time.Since(t0)
		res.PreSigned += p.signedBefore.Load() - before
		return nil
	}

	rate := cfg.Rate
	if cfg.Warmup > 0 {
		r0 := rate
		if r0 == 0 {
			r0 = defaultRate
		}
		if err := signed(int(r0*cfg.Warmup.Seconds()*1.2) + 2*cfg.Conns); err != nil {
			return nil, err
		}
		fmt.Fprintf(logw, "authload: warm-up %s\n", cfg.Warmup)
		w := runPhase(ctx, cfg, t, p, cfg.Warmup)
		if rate == 0 {
			rate = w.rate
		}
	}
	if rate <= 0 {
		rate = defaultRate
	}
	if p != nil {
		// Sign for the whole run, but not more than can still be sent when it ends: what a
		// longer run needs is signed in the background (and reported).
		window := cfg.Duration
		if lim := usable(cfg.Mode) - 5*time.Second; window > lim {
			window = lim
		}
		n := int(rate*window.Seconds()*1.3) + 2*cfg.Conns - len(p.ch)
		fmt.Fprintf(logw, "authload: signing %d JWTs for %.0f requests/s (%s)\n", max(n, 0), rate, cfg.Alg)
		if err := signed(n); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(logw, "authload: measuring %s on %d connections\n", cfg.Duration, cfg.Conns)
	m := runPhase(ctx, cfg, t, p, cfg.Duration)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Requests, res.Elapsed, res.Latencies = m.requests, cfg.Duration, m.latencies
	res.Failed, res.First, res.Socket, res.NonceRetries = m.failed, m.first, m.socket, m.nonceRetries
	if p != nil {
		res.SignedDuring, res.Expired, res.Stale, res.Dry, res.NonceRenewals = m.signedDuring, m.expired, m.stale, m.dry, m.nonceRenewals
	}
	return res, nil
}

// usable is how long after signing a JWT of mode stays sendable.
func usable(mode string) time.Duration {
	if mode == ModeDPoP {
		return proofUsable
	}
	return assertionLifetime - assertionMargin
}

// preflightAssertion sends one assertion until it gets a token (a new credential's keys may
// take a moment to reach the node's credential view), for at most 10 seconds.
func preflightAssertion(ctx context.Context, cfg Config, p *pool, id string) error {
	s, err := p.newSigner()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		it, err := p.sign(s, "")
		if err != nil {
			return err
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
			"client_assertion_type": {assertionType}, "client_assertion": {it.jwt}}
		code, _, body, err := postForm(ctx, cfg.URL, form, "")
		if err == nil && code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("preflight with a client assertion: %d %.300s %v", code, body, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// preflightDPoP sends one proof; when the server asks for a nonce it takes it and sends one
// more. It reports whether a nonce was asked for.
func preflightDPoP(ctx context.Context, cfg Config, p *pool) (bool, error) {
	s, err := p.newSigner()
	if err != nil {
		return false, err
	}
	asked := false
	for range 2 {
		it, err := p.sign(s, p.currentNonce())
		if err != nil {
			return asked, err
		}
		code, nonce, body, err := postForm(ctx, cfg.URL, secretForm(cfg.ClientID, cfg.ClientSecret), it.jwt)
		if err != nil {
			return asked, fmt.Errorf("preflight with a DPoP proof: %v", err)
		}
		if isUseNonce(code, body) && nonce != "" && !asked {
			asked = true
			p.setNonce(nonce)
			continue
		}
		var tok tokenAnswer
		if code == http.StatusOK && json.Unmarshal(body, &tok) == nil && strings.EqualFold(tok.TokenType, "Bearer") {
			return asked, fmt.Errorf("%w: a request with a DPoP proof got a Bearer token", ErrUnsupported)
		}
		if code != http.StatusOK || json.Unmarshal(body, &tok) != nil || !strings.EqualFold(tok.TokenType, "DPoP") {
			return asked, fmt.Errorf("preflight with a DPoP proof answered %d (want 200 and token_type DPoP): %.300s", code, body)
		}
		p.setNonce(nonce)
		p.nonceRenewals.Store(0)
		return asked, nil
	}
	return asked, errors.New("preflight with a DPoP proof: the server asked for a nonce twice")
}

// phaseResult is what one phase measured.
type phaseResult struct {
	requests     int64
	rate         float64 // answers per second, up to when the pool first ran dry
	latencies    []time.Duration
	failed       map[string]int64
	first        string
	socket       [4]int64
	nonceRetries int64

	signedDuring, expired, stale, dry, nonceRenewals int64
}

// workerStats are one connection's counts (merged at the end of a phase).
type workerStats struct {
	lat          []time.Duration
	failed       map[string]int64
	first        string
	firstAt      time.Time
	socket       [4]int64
	nonceRetries int64
}

// runPhase loads the endpoint on cfg.Conns connections for d and returns what it measured.
func runPhase(ctx context.Context, cfg Config, t *target, p *pool, d time.Duration) *phaseResult {
	done := make(chan struct{})
	start := time.Now()
	deadline := start.Add(d)
	if p != nil {
		p.signedDuring.Store(0)
		p.expired.Store(0)
		p.stale.Store(0)
		p.dry.Store(0)
		p.nonceRenewals.Store(0)
	}
	var (
		completed atomic.Int64
		dryAt     atomic.Int64 // nanos since start when the pool first ran dry
		dryDone   atomic.Int64 // completed then
		wg        sync.WaitGroup
		stats     = make([]*workerStats, cfg.Conns)
	)
	var bg sync.WaitGroup
	if p != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			p.background(done, max(4*cfg.Conns, 256))
		}()
	}
	for i := range cfg.Conns {
		st := &workerStats{failed: map[string]int64{}}
		stats[i] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &conn{addr: t.addr, timeout: cfg.Timeout}
			defer c.close()
			var req []byte
			for {
				select {
				case <-done:
					return
				default:
				}
				var it item
				if p != nil {
					before := p.dry.Load()
					var ok bool
					if it, ok = p.take(done); !ok {
						return
					}
					if p.dry.Load() != before && dryAt.CompareAndSwap(0, int64(time.Since(start))) {
						dryDone.Store(completed.Load())
					}
				}
				t0 := time.Now()
				outcome, detail, kind := "", "", -1
				for retries := 0; ; retries++ {
					req = t.request(req[:0], it)
					status, nonce, err := c.do(req)
					if err != nil {
						kind = sockKind(err, c.stage)
						break
					}
					body := c.body.Bytes()
					if t.mode == ModeDPoP {
						if nonce != "" && retries < 2 && isUseNonce(status, body) {
							p.refuse(it.nonce, nonce)
							st.nonceRetries++
							var ok bool
							if it, ok = p.take(done); !ok {
								return
							}
							continue
						}
						if status == http.StatusOK && nonce != "" {
							p.setNonce(nonce)
						}
					}
					outcome, detail = judge(t.mode, status, body)
					break
				}
				end := time.Now()
				if end.After(deadline) {
					continue // answered after the end: not counted (as wrk)
				}
				completed.Add(1)
				st.lat = append(st.lat, end.Sub(t0))
				switch {
				case kind >= 0:
					st.socket[kind]++
				case outcome != "":
					st.failed[outcome]++
					if st.first == "" {
						st.first, st.firstAt = detail, end
					}
				}
			}
		}()
	}
	select {
	case <-time.After(time.Until(deadline)):
	case <-ctx.Done():
	}
	close(done)
	wg.Wait()
	bg.Wait()

	r := &phaseResult{failed: map[string]int64{}}
	var firstAt time.Time
	for _, st := range stats {
		r.latencies = append(r.latencies, st.lat...)
		for k, v := range st.failed {
			r.failed[k] += v
		}
		for i, v := range st.socket {
			r.socket[i] += v
		}
		r.nonceRetries += st.nonceRetries
		if st.first != "" && (firstAt.IsZero() || st.firstAt.Before(firstAt)) {
			r.first, firstAt = st.first, st.firstAt
		}
	}
	slices.Sort(r.latencies)
	r.requests = int64(len(r.latencies))
	r.rate = float64(r.requests) / d.Seconds()
	if at := dryAt.Load(); at > 0 {
		if secs := time.Duration(at).Seconds(); secs > 0.1 {
			r.rate = float64(dryDone.Load()) / secs
		}
	}
	if p != nil {
		r.signedDuring, r.expired, r.stale, r.dry, r.nonceRenewals = p.signedDuring.Load(), p.expired.Load(), p.stale.Load(), p.dry.Load(), p.nonceRenewals.Load()
	}
	return r
}

// judge classifies an answer: "" for a token of the expected kind, otherwise the failure's
// key (the status, or "200-not-DPoP") and a one-line detail.
func judge(mode string, status int, body []byte) (string, string) {
	snippet := func() string {
		s := strings.Join(strings.Fields(string(body[:min(len(body), 200)])), " ")
		return strconv.Itoa(status) + " " + s
	}
	if status != http.StatusOK {
		return strconv.Itoa(status), snippet()
	}
	if !bytes.Contains(body, []byte(`"access_token"`)) {
		return "200-without-token", snippet()
	}
	if mode == ModeDPoP && !bytes.Contains(body, []byte(`"token_type":"DPoP"`)) {
		return "200-not-DPoP", snippet()
	}
	return "", ""
}

// conn is one keep-alive HTTP/1.1 connection.
type conn struct {
	addr    string
	timeout time.Duration
	nc      net.Conn
	br      *bufio.Reader
	body    bytes.Buffer
	stage   int // the socket error kind of the step that failed
}

// do sends req and reads the answer into c.body; it returns the status and the DPoP-Nonce
// header. On an error the connection is closed (the next request dials again).
func (c *conn) do(req []byte) (int, string, error) {
	if c.nc == nil {
		c.stage = sockConnect
		nc, err := net.DialTimeout("tcp", c.addr, c.timeout)
		if err != nil {
			return 0, "", err
		}
		c.nc = nc
		if c.br == nil {
			c.br = bufio.NewReaderSize(nc, 16<<10)
		} else {
			c.br.Reset(nc)
		}
	}
	_ = c.nc.SetDeadline(time.Now().Add(c.timeout))
	c.stage = sockWrite
	if _, err := c.nc.Write(req); err != nil {
		c.close()
		return 0, "", err
	}
	c.stage = sockRead
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.close()
		return 0, "", err
	}
	c.body.Reset()
	_, err = c.body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.close()
		return 0, "", err
	}
	if resp.Close {
		c.close()
	}
	return resp.StatusCode, resp.Header.Get("DPoP-Nonce"), nil
}

func (c *conn) close() {
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
}

// sockKind is the socket error kind of err, which happened at stage.
func sockKind(err error, stage int) int {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return sockTimeout
	}
	return stage
}

// percentile is the q-quantile (0 < q <= 1) of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)) + 0.999999)
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// Report prints r in wrk's format (what bench/run.sh's parse_wrk reads), then authload's own
// lines about the pool and DPoP nonces.
func (r *Result) Report(w io.Writer, cfg Config) {
	fmt.Fprintf(w, "Running %s test @ %s\n", r.Elapsed, cfg.URL)
	if cfg.Mode == ModeSecret {
		fmt.Fprintf(w, "  authload -mode %s, %d connections\n", cfg.Mode, cfg.Conns)
	} else {
		fmt.Fprintf(w, "  authload -mode %s -alg %s, %d connections\n", cfg.Mode, r.Alg, cfg.Conns)
	}
	fmt.Fprintf(w, "  Latency Distribution\n")
	for _, q := range []float64{0.50, 0.75, 0.90, 0.99} {
		fmt.Fprintf(w, "  %3.0f%% %8.2fms\n", q*100, float64(percentile(r.Latencies, q))/float64(time.Millisecond))
	}
	fmt.Fprintf(w, "  %d requests in %.2fs\n", r.Requests, r.Elapsed.Seconds())
	s := r.Socket
	if s[0]+s[1]+s[2]+s[3] > 0 {
		fmt.Fprintf(w, "  Socket errors: connect %d, read %d, write %d, timeout %d\n", s[0], s[1], s[2], s[3])
	}
	fmt.Fprintf(w, "Requests/sec: %10.2f\n", float64(r.Requests)/r.Elapsed.Seconds())
	var failed int64
	var parts []string
	for k, v := range r.Failed {
		failed += v
		parts = append(parts, k+"="+strconv.FormatInt(v, 10))
	}
	slices.Sort(parts)
	fmt.Fprintf(w, "bench: non-2xx responses: %d\n", failed)
	if failed > 0 {
		fmt.Fprintf(w, "bench: non-2xx by status: %s\n", strings.Join(parts, " "))
		fmt.Fprintf(w, "bench: first non-2xx: %s\n", r.First)
	}
	if cfg.Mode == ModeSecret {
		return
	}
	fmt.Fprintf(w, "bench: pool: %d JWTs (%s) signed in %.2f s before the measured run; %d signed during it, %d discarded (%d too old, %d with a refused nonce), found empty %d times\n",
		r.PreSigned, r.Alg, r.PreSignTime.Seconds(), r.SignedDuring, r.Expired+r.Stale, r.Expired, r.Stale, r.Dry)
	if cfg.Mode == ModeDPoP {
		req := "not required"
		if r.NonceRequired {
			req = "required"
		}
		fmt.Fprintf(w, "bench: dpop nonce: %s at the start; during the measured run %d requests sent again after use_dpop_nonce, %d new nonces adopted\n",
			req, r.NonceRetries, r.NonceRenewals)
	}
}
