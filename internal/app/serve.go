package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/keyhold/keyhold/internal/clientauth"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhold/keyhold/internal/audit"
	"github.com/keyhold/keyhold/internal/changefeed"
	"github.com/keyhold/keyhold/internal/connlimit"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/dpop"
	"github.com/keyhold/keyhold/internal/httpapi"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage/postgres"
	"github.com/keyhold/keyhold/internal/telemetry"
	"github.com/keyhold/keyhold/internal/token"
	"github.com/keyhold/keyhold/internal/workspace"
)

// The failed-authentication budget of a source (an IPv4 address, an IPv6 /64): a burst of
// 50, then one per second; attempts refused as blocked count too, and a source is blocked for
// at most 5 minutes after its last attempt. There is no per-client budget (docs/security.md).
const (
	addrFailBurst    = 50
	addrFailInterval = time.Second
	addrFailMaxWait  = 5 * time.Minute
	janitorInterval  = time.Minute
)

// The budget of invalid tokens an authenticated caller may ask about (AuthZEN token
// subjects, introspection, revocation), per client id: a burst of 100, then 20 a second.
// Out of budget, only tokens already verified are answered (token.Server.CheckToken).
const (
	tokenCheckBurst    = 100
	tokenCheckInterval = 50 * time.Millisecond
)

// assemble builds the views, the change feed and the HTTP surface.
func (n *Node) assemble() {
	cfg := &n.cfg
	creds := credential.NewIndex().WithClock(cfg.Now)
	dir := workspace.NewDirectory()
	users := identity.NewDirectory()
	groups := workspace.NewTenantGroups()
	keys := token.NewKeySet(cfg.Now, n.sealer)
	keys.Log = cfg.Log
	n.keys = keys
	n.revoked = token.NewRevoked(cfg.Now)
	engine := rbac.NewEngine()
	n.engine = engine
	engine.Groups = groups
	n.Feed = changefeed.New(n.Store, cfg.Log, creds, dir, users, groups, keys, n.revoked, engine)
	syncNow := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return n.Feed.Sync(ctx)
	}
	// committed brings the views up to date after a write has committed. The write stands
	// whatever happens here, so a failure must not turn into an error answer (a created
	// credential's secret would be lost, a client would retry what succeeded): it is logged,
	// and the next poll catches up.
	committed := func(ctx context.Context) error {
		if err := n.Feed.Sync(ctx); err != nil {
			n.syncAfterWriteFailures.Add(1)
			cfg.Log.Warn("a write committed but this node's views could not be brought up to date at once; the next poll will", "error", err)
		}
		return nil
	}
	n.Issuer = &token.Issuer{BaseURL: cfg.BaseURL, Audience: cfg.BaseURL, TTL: cfg.TokenTTL, Keys: keys, Now: cfg.Now}
	n.verifier = &token.Verifier{Issuer: n.Issuer, Creds: creds, Revoked: n.revoked, Workspaces: dir,
		Reach: engine.Reaches, Sync: syncNow, CacheSize: cfg.TokenCacheSize}
	metrics := telemetry.New()
	n.registerMetrics(metrics)
	metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keyhold_key_refreshes_total",
		Help: "Syncs of this node's views caused by tokens signed by an unknown key (at most one per 250 ms)."},
		func() float64 { return float64(n.verifier.KeyRefreshes()) }))
	addrFailures := ratelimit.New[netip.Addr](addrFailBurst, addrFailInterval, addrFailMaxWait)
	n.addrFailures = addrFailures
	n.audit = audit.NewRecorder(n.Store, cfg.Log, 0)
	if n.auditStream != nil {
		n.audit.Sink = n.auditStream
	}
	addrFailures.OnBlock = n.noteLockout
	n.logins = &identity.LoginRecorder{Store: n.Store, Log: cfg.Log}
	guard := &rbac.Guard{Store: n.Store, Engine: engine}
	workspaces := &workspace.Service{Store: n.Store, Dir: dir, Sync: committed, Now: cfg.Now, Guard: guard, Catalog: cfg.ServiceCatalog}
	n.shed = n.newShedder()
	n.API = &httpapi.API{
		BaseURL: cfg.BaseURL, Log: cfg.Log, AccessLog: cfg.AccessLog, Metrics: metrics, Authz: engine, Workspaces: dir, AddrFailures: addrFailures,
		Tokens: &token.Server{Issuer: n.Issuer, Verifier: n.verifier, Creds: creds, Workspaces: dir, Store: n.Store,
			Sync: n.Feed.Sync, AddrFailures: addrFailures,
			TokenChecks: ratelimit.New[string](tokenCheckBurst, tokenCheckInterval, tokenCheckBurst*tokenCheckInterval),
			Observer:    metrics, Log: cfg.Log, Exchange: cfg.Platform != PlatformDedicated, Reach: engine.Reaches, KnownScope: engine.KnownScope,
			Audit: n.audit, AuditSink: n.sink(), JWKSFetcher: clientauth.NewFetcher(cfg.JWKSAllowPrivate),
			MTLS: n.tls != nil, ClientCAs: n.clientCAs, Logins: n.logins, Nonces: dpopNonces(cfg.DPoPNonce, keys)},
		AllowPrivateJWKS: cfg.JWKSAllowPrivate,
		Store:            n.Store, Audit: n.audit, AuditSink: n.sink(), Now: cfg.Now,
		Credentials: &credential.Service{Store: n.Store, Authz: engine, Sync: committed, Now: cfg.Now,
			MaxPerUser: cfg.MaxCredentialsPerOwner, Provisions: workspaces.ProvisionExists, Escalation: guard,
			MaxTokenTTL: cfg.TokenTTL, KnownScope: engine.KnownScope},
		WorkspaceService: workspaces,
		Catalog:          cfg.ServiceCatalog,
		TenantGroups:     groups,
		IAM:              &rbac.Manager{Store: n.Store, Engine: engine, Sync: committed, Now: cfg.Now},
		Identity:         &identity.Service{Store: n.Store, Sync: committed, Now: cfg.Now, Guard: guard},
		Users:            users,
		Ready:            n.ready,
		StoreTimeout:     cfg.StoreTimeout,
		ReadyDetail:      n.readyDetail,
		Starting:         func() bool { return !n.loaded.Load() },
		MaxInFlight:      cfg.MaxInFlight,
		Shed:             n.shed,
		MetricsElsewhere: cfg.MetricsListen != "",
	}
	metrics.Register(newChangeLogCollector(n))
	n.auditMetrics(metrics)
	n.loginMetrics(metrics)
	n.connectionMetrics(metrics)
	metrics.GaugeFunc("keyhold_http_in_flight_requests", "Requests being served, operations endpoints excluded.",
		func() float64 { return float64(n.API.InFlight()) })
	metrics.GaugeFunc("keyhold_http_max_in_flight_requests", "The bound on requests served at once; more are answered 503.",
		func() float64 { return float64(cfg.MaxInFlight) })
	n.shedMetrics(metrics)
	n.handler = n.proxies.Handler(n.API.Handler())
}

// dpopNonces are the server nonces DPoP proofs need with --dpop-nonce required (nil: off).
// Their MAC keys derive from the signing keys every node loads, so every node accepts every
// other's nonces with no store access per request.
func dpopNonces(mode string, keys *token.KeySet) *dpop.Nonces {
	if mode == DPoPNonceOff {
		return nil
	}
	return &dpop.Nonces{Keys: keys.NonceKeys}
}

// ready: the store answers and the node has a key to sign with.
func (n *Node) ready(ctx context.Context) error {
	if _, down := n.Feed.Reachability(); !down.IsZero() {
		if d := time.Since(down); d > n.cfg.MaxStaleness {
			return fmt.Errorf("the store has been unavailable for %s, longer than --max-staleness %s", d.Round(time.Second), n.cfg.MaxStaleness)
		}
	}
	_, err := n.keys.Signer()
	return err
}

// readyDetail is what /readyz adds for the operator: the signing keys when one is unusable
// here, the change-log entries skipped.
func (n *Node) readyDetail() map[string]any {
	d := map[string]any{}
	if !n.loaded.Load() {
		d["loading"] = n.loadProgress()
	}
	if st := n.keys.Status(); len(st.Unusable) > 0 || st.Signer == "" || st.SignerRetiresAt != nil {
		d["signingKeys"] = st
	}
	if c := n.Feed.SkippedCount(); c > 0 {
		d["changeFeed"] = map[string]any{"skippedEntries": c, "lastSkipped": n.Feed.LastSkipped()}
	}
	if asOf, down := n.Feed.Reachability(); !down.IsZero() {
		d["status"] = "degraded"
		store := map[string]any{"reachable": false, "unreachableSince": down.UTC().Format(time.RFC3339),
			"unreachableSeconds": int64(time.Since(down).Seconds()), "maxStalenessSeconds": int64(n.cfg.MaxStaleness.Seconds())}
		if !asOf.IsZero() {
			store["viewsAsOf"] = asOf.UTC().Format(time.RFC3339)
		}
		d["store"] = store
	}
	return d
}

func (n *Node) registerMetrics(m *telemetry.Metrics) {
	m.MustRegister(n.availabilityMetrics()...)
	m.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keyhold_signing_keys_unusable",
			Help: "Signing keys this node cannot use: it cannot open them, or they are stored unencrypted under a key-encryption key (see /readyz)."},
			func() float64 { return float64(len(n.keys.Problems())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keyhold_signing_key_usable",
			Help: "1 when this node signs with the active key, 0 when with a previous one or none (see /readyz)."},
			func() float64 {
				if n.keys.Healthy() != nil {
					return 0
				}
				return 1
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keyhold_changefeed_skipped_entries_total",
			Help: "Change-log entries skipped because a view kept failing to apply them (see /readyz and the log)."},
			func() float64 { return float64(n.Feed.SkippedCount()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keyhold_sync_after_write_failures_total",
			Help: "Writes that committed but could not be brought into this node's views at once (the next poll did)."},
			func() float64 { return float64(n.syncAfterWriteFailures.Load()) }),
	)
}

// Handler is the node's HTTP handler (for in-process tests).
func (n *Node) Handler() http.Handler { return n.handler }

// BaseURL is the node's public base URL.
func (n *Node) BaseURL() string { return n.cfg.BaseURL }

// Serve listens at once and answers HTTP until ctx ends: first /healthz, /readyz ("loading",
// with progress) and /metrics alone while the views load (Load, unless done already), then
// everything. When ctx ends it stops taking new connections, drains in-flight requests (up to
// the shutdown timeout) and returns. Close the node afterwards.
func (n *Node) Serve(ctx context.Context) error {
	bg, stop := context.WithCancel(context.Background())
	// The background loops end with bg; their last act may be a write (the audit and login
	// batches are flushed when they stop), so Serve returns only once they have ended, and
	// Close never closes the store under them.
	defer func() { stop(); n.loops.Wait() }()
	srv := n.httpServer()
	errc := make(chan error, 1)
	go func() {
		if n.tls != nil {
			errc <- srv.ServeTLS(n.ln, "", "")
			return
		}
		errc <- srv.Serve(n.ln)
	}()
	var msrv *http.Server
	var merrc chan error // nil without a metrics listener: never ready
	if n.metricsLn != nil {
		msrv, merrc = n.metricsServer(), make(chan error, 1)
		go func() { merrc <- msrv.Serve(n.metricsLn) }()
		n.cfg.Log.Info("metrics are served on their own listener", "metrics_listen", n.metricsLn.Addr().String())
	}
	closeAll := func() {
		srv.Close()
		if msrv != nil {
			msrv.Close()
		}
	}
	loaded := make(chan error, 1)
	if n.loaded.Load() {
		loaded <- nil
	} else {
		n.cfg.Log.Info("listening; loading the in-memory views (/healthz answers, /readyz and the API answer 503 until they are loaded)",
			"listen", n.Addr())
		go func() { loaded <- n.Load(bg) }()
	}
	for waiting := loaded; ; {
		select {
		case err := <-waiting:
			if err != nil {
				closeAll()
				return err
			}
			waiting = nil
			n.startLoops(bg)
			n.cfg.Log.Info("keyhold is serving", "listen", n.Addr(), "base_url", n.cfg.BaseURL, "tls", n.tls != nil)
			continue
		case err := <-errc:
			stop()
			if waiting != nil {
				<-waiting
			}
			closeAll()
			return err
		case err := <-merrc:
			stop()
			if waiting != nil {
				<-waiting
			}
			closeAll()
			return fmt.Errorf("metrics listener: %w", err)
		case <-ctx.Done():
		}
		if waiting != nil { // stopped while loading: stop the load before the store closes
			stop()
			<-waiting
		}
		break
	}
	n.cfg.Log.Info("shutting down: draining in-flight requests")
	n.API.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(<-errc, http.ErrServerClosed) && err == nil {
		n.cfg.Log.Info("drained")
	}
	if msrv != nil {
		if merr := msrv.Shutdown(sctx); err == nil {
			err = merr
		}
		<-merrc
	}
	return err
}

// metricsServer serves GET /metrics alone, on the private metrics listener.
func (n *Node) metricsServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.API.Metrics.Handler())
	return &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 8 << 10,
		ErrorLog: telemetry.ServerErrorLog(n.cfg.Log, time.Second, 10)}
}

// MetricsAddr is the bound address of the metrics listener ("" without one).
func (n *Node) MetricsAddr() string {
	if n.metricsLn == nil {
		return ""
	}
	return n.metricsLn.Addr().String()
}

// httpServer is the public listener's server. Its timeouts bound what one connection can
// hold: 5 s to send a request's headers, 30 s to send the whole request or read the whole
// answer, 2 minutes idle between requests (longer than the usual load balancer's idle
// timeout, so the balancer, not keyhold, closes its kept-alive connections; under pressure
// the connection limit closes idle connections sooner). Its own error messages go to the
// log as Warn records, rate-limited.
func (n *Node) httpServer() *http.Server {
	srv := &http.Server{Handler: n.handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 32 << 10,
		ConnState: n.ln.ConnState, ErrorLog: telemetry.ServerErrorLog(n.cfg.Log, time.Second, 10)}
	if n.tls != nil {
		srv.TLSConfig = n.tls.Config()
	}
	return srv
}

// connectionMetrics exposes the connection limit's state.
func (n *Node) connectionMetrics(m *telemetry.Metrics) {
	stat := func(f func(connlimit.Stats) float64) func() float64 {
		return func() float64 { return f(n.ln.Stats()) }
	}
	m.GaugeFunc("keyhold_connections_open", "Connections open on the public listener.",
		stat(func(s connlimit.Stats) float64 { return float64(s.Open) }))
	m.GaugeFunc("keyhold_connections_idle", "Open connections waiting for a request.",
		stat(func(s connlimit.Stats) float64 { return float64(s.Idle) }))
	total, perAddr := n.ln.Limits()
	m.GaugeFunc("keyhold_connections_max", "The cap on open connections (--max-connections).", func() float64 { return float64(total) })
	m.GaugeFunc("keyhold_connections_max_per_address", "The cap on one address's connections (--max-connections-per-address).",
		func() float64 { return float64(perAddr) })
	m.CounterFunc("keyhold_connections_refused_total", "Connections refused because the cap or the address's share was reached.",
		stat(func(s connlimit.Stats) float64 { return float64(s.Refused) }))
	m.CounterFunc("keyhold_connections_refused_per_address_total", "Connections refused because their address's share was reached.",
		stat(func(s connlimit.Stats) float64 { return float64(s.RefusedPerAddr) }))
	m.CounterFunc("keyhold_connections_evicted_total", "Idle connections closed to make room for new ones.",
		stat(func(s connlimit.Stats) float64 { return float64(s.Evicted) }))
}

// startLoops starts what runs once the views are loaded: the change feed's polling (woken by
// PostgreSQL's notifications) and the janitor.
func (n *Node) startLoops(bg context.Context) {
	wake := make(chan struct{}, 1)
	if n.cfg.Database != "" {
		go postgres.Listen(bg, n.cfg.Database, wake, n.cfg.Log)
	}
	n.loop(func() { n.Feed.Run(bg, n.cfg.SyncInterval, wake) })
	n.loop(func() { n.janitor(bg) })
	n.loop(func() { n.audit.Run(bg, auditFlushInterval) })
	n.loop(func() { n.logins.Run(bg, loginFlushInterval) })
	if n.shed != nil {
		go n.shed.Run(bg)
	}
}

// loop runs f on its own goroutine, counted in n.loops (Serve waits for it).
func (n *Node) loop(f func()) {
	n.loops.Add(1)
	go func() {
		defer n.loops.Done()
		f()
	}()
}

// Loaded reports whether Load has built the views (the API answers).
func (n *Node) Loaded() bool { return n.loaded.Load() }

// loadLogInterval is how often a long load logs its progress.
const loadLogInterval = 3 * time.Second

// Load builds the in-memory views from the store, logging progress every loadLogInterval;
// until it returns, the API answers 503 (see httpapi.API.Starting). Serve calls it after it
// starts listening; a caller may call it before Serve instead. It is not safe to call twice
// concurrently.
func (n *Node) Load(ctx context.Context) error {
	if n.loaded.Load() {
		return nil
	}
	n.loadStart.Store(time.Now().UnixNano())
	done := make(chan struct{})
	defer close(done)
	go func() {
		every := loadLogInterval
		if n.cfg.loadLogEvery > 0 {
			every = n.cfg.loadLogEvery
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n.cfg.Log.Info("loading the in-memory views", "progress", n.loadProgress())
			}
		}
	}()
	if n.cfg.loadHook != nil {
		n.cfg.loadHook(ctx)
	}
	if err := n.Feed.Load(ctx); err != nil {
		return fmt.Errorf("loading the views: %w", err)
	}
	n.loaded.Store(true)
	n.cfg.Log.Info("loaded the in-memory views", "assignments", n.engine.LoadProgress(),
		"duration_ms", time.Since(time.Unix(0, n.loadStart.Load())).Milliseconds())
	if n.cfg.ViewsLoaded != nil {
		n.cfg.ViewsLoaded()
	}
	return nil
}

// loadProgress says how far Load is, for /readyz and the log.
func (n *Node) loadProgress() map[string]any {
	step, views, kinds := n.Feed.LoadStatus()
	p := map[string]any{"view": step, "views": views, "assignmentsLoaded": n.engine.LoadProgress()}
	if kinds != nil {
		p["kinds"] = kinds
	}
	if start := n.loadStart.Load(); start != 0 {
		p["elapsedSeconds"] = time.Since(time.Unix(0, start)).Round(time.Millisecond).Seconds()
	}
	return p
}

// janitor forgets what has expired: cached tokens, revocations of expired tokens, retired
// keys, and change log entries older than the retention.
func (n *Node) janitor(ctx context.Context) {
	t := time.NewTicker(janitorInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := n.cfg.Now()
		n.verifier.Prune()
		n.revoked.Prune()
		n.addrFailures.Prune()
		n.API.Tokens.TokenChecks.Prune()
		if err := n.Store.DeleteExpiredRevocations(ctx, now); err != nil && ctx.Err() == nil {
			n.cfg.Log.Warn("janitor: revocations", "error", err)
		}
		if err := n.Store.DeleteRetiredKeys(ctx, now); err != nil && ctx.Err() == nil {
			n.cfg.Log.Warn("janitor: retired keys", "error", err)
		}
		n.compactChanges(ctx)
		n.pruneAudit(ctx)
	}
}

// Close releases the listeners and the store.
func (n *Node) Close() error {
	n.closeListeners()
	n.closeAuditStream()
	return n.Store.Close()
}
