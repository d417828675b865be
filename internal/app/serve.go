package app

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/changefeed"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/httpapi"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage/postgres"
	"github.com/keyhold/keyhold/internal/telemetry"
	"github.com/keyhold/keyhold/internal/token"
	"github.com/keyhold/keyhold/internal/workspace"
)

// Failed-authentication budgets: per client id, a burst of 10 then one every 6 s; per source
// address, a burst of 50 then one per second.
const (
	clientFailBurst    = 10
	clientFailInterval = 6 * time.Second
	addrFailBurst      = 50
	addrFailInterval   = time.Second
	janitorInterval    = time.Minute
)

// assemble builds the views, the change feed and the HTTP surface.
func (n *Node) assemble(alg jose.SignatureAlgorithm) {
	cfg := &n.cfg
	creds := credential.NewIndex()
	dir := workspace.NewDirectory()
	groups := workspace.NewTenantGroups()
	keys := token.NewKeySet(alg, cfg.Now, n.sealer)
	n.revoked = token.NewRevoked(cfg.Now)
	engine := rbac.NewEngine()
	engine.Groups = groups
	n.Feed = changefeed.New(n.Store, cfg.Log, creds, dir, groups, keys, n.revoked, engine)
	syncNow := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return n.Feed.Sync(ctx)
	}
	n.Issuer = &token.Issuer{BaseURL: cfg.BaseURL, Audience: cfg.BaseURL, TTL: cfg.TokenTTL, Keys: keys, Now: cfg.Now}
	n.verifier = &token.Verifier{Issuer: n.Issuer, Creds: creds, Revoked: n.revoked, Workspaces: dir,
		Reach: engine.Reaches, Sync: syncNow}
	metrics := telemetry.New()
	addrFailures := ratelimit.New(addrFailBurst, addrFailInterval)
	guard := &rbac.Guard{Store: n.Store, Engine: engine}
	workspaces := &workspace.Service{Store: n.Store, Dir: dir, Sync: n.Feed.Sync, Now: cfg.Now}
	n.API = &httpapi.API{
		BaseURL: cfg.BaseURL, Log: cfg.Log, AccessLog: cfg.AccessLog, Metrics: metrics, Authz: engine, Workspaces: dir, AddrFailures: addrFailures,
		Tokens: &token.Server{Issuer: n.Issuer, Verifier: n.verifier, Creds: creds, Workspaces: dir, Store: n.Store,
			Sync: n.Feed.Sync, ClientFailures: ratelimit.New(clientFailBurst, clientFailInterval), AddrFailures: addrFailures,
			Observer: metrics, Log: cfg.Log, Exchange: cfg.Platform != PlatformDedicated, Reach: engine.Reaches},
		Credentials: &credential.Service{Store: n.Store, Authz: engine, Sync: n.Feed.Sync, Now: cfg.Now,
			MaxPerUser: cfg.MaxCredentialsPerOwner, Provisions: workspaces.ProvisionExists, Escalation: guard},
		WorkspaceService: workspaces,
		TenantGroups:     groups,
		IAM:              &rbac.Manager{Store: n.Store, Engine: engine, Sync: n.Feed.Sync, Now: cfg.Now},
		Identity:         &identity.Service{Store: n.Store, Sync: n.Feed.Sync, Now: cfg.Now, Guard: guard},
		Ready:            func(ctx context.Context) error { _, err := n.Store.LatestSeq(ctx); return err },
	}
	n.handler = n.proxies.Handler(n.API.Handler())
}

// Handler is the node's HTTP handler (for in-process tests).
func (n *Node) Handler() http.Handler { return n.handler }

// BaseURL is the node's public base URL.
func (n *Node) BaseURL() string { return n.cfg.BaseURL }

// Serve answers HTTP until ctx ends, then stops taking new connections, drains in-flight
// requests (up to the shutdown timeout) and returns. Close the node afterwards.
func (n *Node) Serve(ctx context.Context) error {
	bg, stop := context.WithCancel(context.Background())
	defer stop()
	wake := make(chan struct{}, 1)
	if n.cfg.Database != "" {
		go postgres.Listen(bg, n.cfg.Database, wake, n.cfg.Log)
	}
	go n.Feed.Run(bg, n.cfg.SyncInterval, wake)
	go n.janitor(bg)
	srv := &http.Server{Handler: n.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 32 << 10,
		ErrorLog: nil}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(n.ln) }()
	n.cfg.Log.Info("keyhold is serving", "listen", n.Addr(), "base_url", n.cfg.BaseURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	n.cfg.Log.Info("shutting down: draining in-flight requests")
	n.API.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(<-errc, http.ErrServerClosed) && err == nil {
		n.cfg.Log.Info("drained")
	}
	return err
}

// janitor forgets what has expired: cached tokens, revocations and retired keys.
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
		if err := n.Store.DeleteExpiredRevocations(ctx, now); err != nil && ctx.Err() == nil {
			n.cfg.Log.Warn("janitor: revocations", "error", err)
		}
		if err := n.Store.DeleteRetiredKeys(ctx, now); err != nil && ctx.Err() == nil {
			n.cfg.Log.Warn("janitor: retired keys", "error", err)
		}
	}
}

// Close releases the listener and the store.
func (n *Node) Close() error {
	n.ln.Close()
	return n.Store.Close()
}
