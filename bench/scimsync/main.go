// Command scimsync measures an identity provider's first sync through keyhold's SCIM API: it
// creates N users and M groups, then puts every user in G groups with PATCH requests of up
// to B members, all with C requests in flight, as one workspace's administrator. While it
// runs, a probe may time token requests of another client (are they affected?). It prints
// one JSON object of figures: per phase the count, errors, seconds, rate and latencies.
//
//	go run ./scimsync -bootstrap first-start.json -users 100000 -groups 10000 -concurrency 32
//
// -bootstrap is the JSON line keyhold prints on its first start (tokenUrl, clientId,
// clientSecret); -base defaults to the token URL's origin. Names are prefixed by -prefix
// (random by default), so runs against the same node never collide; a create that answers
// 409 (a rerun with the same prefix) is looked up by filter and counted as existing.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const scimPath = "/identity/v2beta1/scim/v2"

type config struct {
	base, tokenURL, clientID, secret string
	users, groups, groupsPerUser     int
	concurrency, batch               int
	prefix                           string
	probe                            time.Duration
	timeout                          time.Duration
}

func main() {
	var c config
	bootstrap := flag.String("bootstrap", "", "file holding keyhold's first-start JSON line (tokenUrl, clientId, clientSecret)")
	flag.StringVar(&c.base, "base", "", "keyhold's base URL (default: the token URL's origin)")
	flag.StringVar(&c.tokenURL, "token-url", "", "the workspace's token endpoint")
	flag.StringVar(&c.clientID, "client-id", "", "an identity administrator's client id")
	flag.StringVar(&c.secret, "client-secret", os.Getenv("SCIMSYNC_CLIENT_SECRET"), "its secret (or SCIMSYNC_CLIENT_SECRET)")
	flag.IntVar(&c.users, "users", 1000, "users to create")
	flag.IntVar(&c.groups, "groups", 100, "groups to create")
	flag.IntVar(&c.groupsPerUser, "groups-per-user", 1, "groups each user joins")
	flag.IntVar(&c.concurrency, "concurrency", 16, "requests in flight")
	flag.IntVar(&c.batch, "batch", 100, "members added per group PATCH")
	flag.StringVar(&c.prefix, "prefix", "", "name prefix (default: random)")
	flag.DurationVar(&c.probe, "probe", 100*time.Millisecond, "interval of the token-issuance probe (0: none)")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Second, "per-request timeout")
	flag.Parse()
	if err := c.complete(*bootstrap); err != nil {
		fmt.Fprintln(os.Stderr, "scimsync:", err)
		os.Exit(2)
	}
	rep, err := run(context.Background(), c)
	if rep != nil {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scimsync:", err)
		os.Exit(1)
	}
}

// complete fills the configuration from the bootstrap line and checks it.
func (c *config) complete(bootstrap string) error {
	if bootstrap != "" {
		raw, err := os.ReadFile(bootstrap)
		if err != nil {
			return err
		}
		var b struct {
			TokenURL     string `json:"tokenUrl"`
			ClientID     string `json:"clientId"`
			ClientSecret string `json:"clientSecret"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(raw), &b); err != nil {
			return fmt.Errorf("bootstrap %s: %w", bootstrap, err)
		}
		c.tokenURL, c.clientID, c.secret = or(c.tokenURL, b.TokenURL), or(c.clientID, b.ClientID), or(c.secret, b.ClientSecret)
	}
	if c.tokenURL == "" || c.clientID == "" || c.secret == "" {
		return errors.New("the token URL, client id and secret are required (-bootstrap or the flags)")
	}
	if c.base == "" {
		u, err := url.Parse(c.tokenURL)
		if err != nil {
			return err
		}
		c.base = u.Scheme + "://" + u.Host
	}
	if c.users < 1 || c.groups < 1 || c.groupsPerUser < 0 || c.groupsPerUser > c.groups || c.concurrency < 1 || c.batch < 1 {
		return errors.New("-users, -groups, -concurrency and -batch must be positive; -groups-per-user at most -groups")
	}
	if c.prefix == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.prefix = "s" + hex.EncodeToString(b)
	}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// report is what a run prints.
type report struct {
	Prefix        string        `json:"prefix"`
	Users         int           `json:"users"`
	Groups        int           `json:"groups"`
	Memberships   int           `json:"memberships"`
	Concurrency   int           `json:"concurrency"`
	Batch         int           `json:"batch"`
	Phases        []*phaseStats `json:"phases"`
	TotalSeconds  float64       `json:"totalSeconds"`
	TokenProbe    *latency      `json:"tokenProbe,omitempty"`
	ProbeFailures int64         `json:"tokenProbeFailures"`
}

type phaseStats struct {
	Name      string   `json:"name"`
	Requests  int64    `json:"requests"`
	Objects   int      `json:"objects"`
	Existing  int64    `json:"existing"`
	Retries   int64    `json:"retries"`
	Errors    int64    `json:"errors"`
	Seconds   float64  `json:"seconds"`
	PerSecond float64  `json:"objectsPerSecond"`
	Latency   *latency `json:"latency"`
	FirstErr  string   `json:"firstError,omitempty"`
}

type latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

func summarize(ds []time.Duration) *latency {
	if len(ds) == 0 {
		return &latency{}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return &latency{Count: len(ds), P50: ms(ds[len(ds)/2]), P99: ms(ds[(len(ds)*99)/100]), Max: ms(ds[len(ds)-1])}
}

func run(ctx context.Context, c config) (*report, error) {
	cl := &client{c: c, http: &http.Client{Timeout: c.timeout, Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency * 2}}}
	if _, err := cl.token(ctx, false); err != nil {
		return nil, err
	}
	rep := &report{Prefix: c.prefix, Users: c.users, Groups: c.groups, Memberships: c.users * c.groupsPerUser,
		Concurrency: c.concurrency, Batch: c.batch}
	probeCtx, stopProbe := context.WithCancel(ctx)
	probeDone := make(chan []time.Duration, 1)
	var probeFailures atomic.Int64
	go func() { probeDone <- cl.probe(probeCtx, &probeFailures) }()
	start := time.Now()

	users := make([]string, c.users)
	ph, err := cl.phase(ctx, "users", c.users, func(i int) (string, bool, error) {
		email := fmt.Sprintf("%s-user-%d@scimsync.example", c.prefix, i)
		return cl.create(ctx, "/Users", map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:User"},
			"userName": email, "active": true, "externalId": fmt.Sprintf("%s-%d", c.prefix, i),
			"name":   map[string]any{"givenName": "User", "familyName": strconv.Itoa(i)},
			"emails": []map[string]any{{"value": email, "primary": true}},
			"urn:ietf:params:scim:schemas:extensions:hpe-greenlake:2.0:User": map[string]any{"countryCode": "US"},
		}, `userName eq "`+email+`"`)
	}, func(i int, id string) { users[i] = id })
	rep.Phases = append(rep.Phases, ph)
	if err == nil {
		groups := make([]string, c.groups)
		ph, err = cl.phase(ctx, "groups", c.groups, func(i int) (string, bool, error) {
			name := fmt.Sprintf("%s-group-%d", c.prefix, i)
			return cl.create(ctx, "/Groups", map[string]any{
				"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
				"displayName": name, "externalId": name,
			}, `displayName eq "`+name+`"`)
		}, func(i int, id string) { groups[i] = id })
		rep.Phases = append(rep.Phases, ph)
		if err == nil && c.groupsPerUser > 0 {
			ph, err = cl.memberships(ctx, users, groups)
			rep.Phases = append(rep.Phases, ph)
		}
	}
	rep.TotalSeconds = time.Since(start).Seconds()
	stopProbe()
	if c.probe > 0 {
		rep.TokenProbe = summarize(<-probeDone)
	}
	rep.ProbeFailures = probeFailures.Load()
	return rep, err
}

// memberships adds user i to groups (i+k*stride) mod M, k < G, in PATCHes of up to B members.
func (cl *client) memberships(ctx context.Context, users, groups []string) (*phaseStats, error) {
	c := cl.c
	members := make([][]string, len(groups))
	stride := max(1, len(groups)/max(1, c.groupsPerUser))
	for i, u := range users {
		for k := range c.groupsPerUser {
			g := (i + k*stride) % len(groups)
			members[g] = append(members[g], u)
		}
	}
	type patchJob struct {
		group string
		ids   []string
	}
	var jobs []patchJob
	for g, ms := range members {
		for lo := 0; lo < len(ms); lo += c.batch {
			jobs = append(jobs, patchJob{groups[g], ms[lo:min(lo+c.batch, len(ms))]})
		}
	}
	ph, err := cl.phase(ctx, "memberships", len(jobs), func(i int) (string, bool, error) {
		refs := make([]map[string]string, 0, len(jobs[i].ids))
		for _, id := range jobs[i].ids {
			refs = append(refs, map[string]string{"value": id})
		}
		body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []map[string]any{{"op": "add", "path": "members", "value": refs}}}
		status, raw, err := cl.do(ctx, http.MethodPatch, "/Groups/"+jobs[i].group, body)
		if err == nil && status != http.StatusOK && status != http.StatusNoContent {
			err = fmt.Errorf("PATCH group: %d %s", status, snip(raw))
		}
		return "", false, err
	}, nil)
	ph.Objects = len(users) * c.groupsPerUser
	if ph.Seconds > 0 {
		ph.PerSecond = float64(ph.Objects) / ph.Seconds
	}
	return ph, err
}

// phase runs n jobs with the configured concurrency. A job returns the id it made, whether
// the object existed already, or an error; done records each id.
func (cl *client) phase(ctx context.Context, name string, n int, job func(int) (string, bool, error), done func(int, string)) (*phaseStats, error) {
	ph := &phaseStats{Name: name, Objects: n}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for range cl.c.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				id, existed, err := job(i)
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				ph.Requests++
				if existed {
					ph.Existing++
				}
				if err != nil {
					ph.Errors++
					if ph.FirstErr == "" {
						ph.FirstErr = err.Error()
					}
				}
				mu.Unlock()
				if err == nil && done != nil {
					done(i, id)
				}
			}
		}()
	}
	wg.Wait()
	ph.Seconds = time.Since(start).Seconds()
	ph.PerSecond = float64(n) / ph.Seconds
	ph.Latency = summarize(lat)
	ph.Retries = cl.retries.Swap(0)
	if ph.Errors > 0 {
		return ph, fmt.Errorf("%s: %d of %d failed, the first: %s", name, ph.Errors, n, ph.FirstErr)
	}
	return ph, nil
}

// client is an authenticated SCIM client: one token shared by the workers, fetched again
// before it expires or when a request answers 401.
type client struct {
	c       config
	http    *http.Client
	mu      sync.Mutex
	tok     string
	exp     time.Time
	retries atomic.Int64
}

func (cl *client) token(ctx context.Context, force bool) (string, error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !force && cl.tok != "" && time.Now().Before(cl.exp) {
		return cl.tok, nil
	}
	tok, ttl, err := cl.issue(ctx)
	if err != nil {
		return "", err
	}
	cl.tok, cl.exp = tok, time.Now().Add(ttl*4/5)
	return tok, nil
}

// issue asks the token endpoint for a client_credentials token.
func (cl *client) issue(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cl.c.clientID}, "client_secret": {cl.c.secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := cl.http.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("token endpoint: %d %s", resp.StatusCode, snip(raw))
	}
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &t); err != nil || t.AccessToken == "" {
		return "", 0, fmt.Errorf("token endpoint answered %s", snip(raw))
	}
	return t.AccessToken, time.Duration(max(t.ExpiresIn, 10)) * time.Second, nil
}

// probe times a token request every interval until ctx ends.
func (cl *client) probe(ctx context.Context, failures *atomic.Int64) []time.Duration {
	var out []time.Duration
	if cl.c.probe <= 0 {
		return out
	}
	tick := time.NewTicker(cl.c.probe)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
			t0 := time.Now()
			if _, _, err := cl.issue(ctx); err != nil {
				if ctx.Err() == nil {
					failures.Add(1)
				}
				continue
			}
			out = append(out, time.Since(t0))
		}
	}
}

// do sends one SCIM request; 401 fetches a new token once, 429 and 503 wait as Retry-After
// says (at most 5 times).
func (cl *client) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	refreshed := false
	for attempt := 0; ; attempt++ {
		tok, err := cl.token(ctx, false)
		if err != nil {
			return 0, nil, err
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequestWithContext(ctx, method, cl.c.base+scimPath+path, rd)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != nil {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		resp, err := cl.http.Do(req)
		if err != nil {
			return 0, nil, err
		}
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !refreshed:
			refreshed = true
			if _, err := cl.token(ctx, true); err != nil {
				return 0, nil, err
			}
			continue
		case (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < 5:
			cl.retries.Add(1)
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
			continue
		}
		return resp.StatusCode, out, nil
	}
}

// create POSTs a resource; a 409 looks it up by filter (a rerun with the same prefix).
func (cl *client) create(ctx context.Context, kind string, body map[string]any, filter string) (string, bool, error) {
	status, raw, err := cl.do(ctx, http.MethodPost, kind, body)
	if err != nil {
		return "", false, err
	}
	switch status {
	case http.StatusCreated:
		var m struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &m); err != nil || m.ID == "" {
			return "", false, fmt.Errorf("POST %s answered %s", kind, snip(raw))
		}
		return m.ID, false, nil
	case http.StatusConflict:
		status, raw, err := cl.do(ctx, http.MethodGet, kind+"?filter="+url.QueryEscape(filter), nil)
		if err != nil {
			return "", false, err
		}
		var l struct {
			Resources []struct {
				ID string `json:"id"`
			} `json:"Resources"`
		}
		if status != http.StatusOK || json.Unmarshal(raw, &l) != nil || len(l.Resources) != 1 {
			return "", false, fmt.Errorf("GET %s?filter=%s: %d %s", kind, filter, status, snip(raw))
		}
		return l.Resources[0].ID, true, nil
	}
	return "", false, fmt.Errorf("POST %s: %d %s", kind, status, snip(raw))
}

func snip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
