package app

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/keyhold/keyhold/internal/loadshed"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyhold/keyhold/internal/audit"
	"github.com/keyhold/keyhold/internal/catalog"
	"github.com/keyhold/keyhold/internal/changefeed"
	"github.com/keyhold/keyhold/internal/connlimit"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/httpapi"
	"github.com/keyhold/keyhold/internal/identity"
	"github.com/keyhold/keyhold/internal/ratelimit"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/tlscert"
	"github.com/keyhold/keyhold/internal/token"
	"github.com/keyhold/keyhold/internal/workspace"
)

// Config is a node's configuration; cmd/keyhold fills it from flags and KEYHOLD_* variables.
type Config struct {
	Listen  string
	DataDir string
	// Database, when set, is a postgres:// URL used instead of the SQLite store in DataDir.
	Database               string
	BaseURL                string
	TokenTTL               time.Duration
	SigningAlg             string
	MaxCredentialsPerOwner int
	SyncInterval           time.Duration
	// ChangeRetention is how long change log entries are kept (when zero, DefaultChangeRetention
	// or 30 sync intervals if longer); a node that falls further behind reloads its views.
	ChangeRetention time.Duration
	ShutdownTimeout time.Duration
	// AuditRetention is how long audit records are kept (DefaultAuditRetention when zero);
	// the janitor prunes older ones, leaving each chain's anchor.
	AuditRetention time.Duration
	// AuditStream, when set, is where this node streams the audit records it commits, as JSON
	// lines: "-" for standard output, otherwise a file appended to.
	AuditStream string
	// StoreTimeout bounds each write transaction and each management API request, so that an
	// unavailable database answers 503 in that time (DefaultStoreTimeout when zero).
	StoreTimeout time.Duration
	// MaxStaleness is how long a node that cannot read the store keeps answering /readyz
	// 200 ("degraded") from its in-memory views (DefaultMaxStaleness when zero); after that
	// /readyz answers 503 so that a balancer prefers nodes that reach the database.
	MaxStaleness time.Duration
	// TokenCacheSize bounds the verified-token cache (unset: token.DefaultCacheSize).
	TokenCacheSize int
	// Platform is PlatformCloud (default) or PlatformDedicated, which lacks token exchange.
	Platform string
	// DPoPNonce is DPoPNonceRequired (default: DPoP proofs must carry a server nonce, RFC 9449
	// §8, §9) or DPoPNonceOff (--dpop-nonce).
	DPoPNonce string
	// ViewsLoaded, when set, is called once the in-memory views are built (after Load), from
	// the goroutine that built them; it must not block.
	ViewsLoaded func()
	// TrustedProxies are the load balancers whose X-Forwarded-For names the client (addresses
	// or CIDR prefixes); failure budgets and access logs then key on the client.
	TrustedProxies []string
	// KeyEncryptionKeyFiles, when set, name files of 64 hex digits: the keys that seal
	// signing keys at rest, the first sealing, all opening (see token.Sealer).
	KeyEncryptionKeyFiles []string
	// MaxInFlight bounds the requests served at once (operations endpoints excepted); past
	// it requests are answered 503 with Retry-After. 0: DefaultMaxInFlight.
	MaxInFlight int
	// ShedDelay, when positive, turns on shedding by delay (package loadshed): while the Go
	// scheduler's p90 wait for a CPU stays above it on a busy node, a growing share of
	// requests is answered 503 with Retry-After. 0: no shedding by delay (the command's flag
	// defaults to 5ms).
	ShedDelay time.Duration
	// MaxConnections caps the connections open at once, MaxConnectionsPerAddress those of
	// one source address (IPv6: one /64; trusted proxies have no share). 0: derived from the
	// descriptor limit (connlimit.Defaults).
	MaxConnections           int
	MaxConnectionsPerAddress int
	// TLSCertFile and TLSKeyFile, when set, make the listener serve TLS (1.2 at least) with
	// that pair, reloaded when the files change (checked at most every TLSCheckInterval,
	// tlscert.DefaultCheckEvery when 0).
	TLSCertFile, TLSKeyFile string
	TLSCheckInterval        time.Duration
	// AllowInsecureHTTP allows plain HTTP with an http:// base URL on a listener that is not
	// loopback (see checkTransport).
	AllowInsecureHTTP bool
	// JWKSAllowPrivate lets credentials register a jwks_uri (private_key_jwt) on a loopback or
	// private address, or over plain http: for tests and closed networks only
	// (--jwks-allow-private-addresses).
	JWKSAllowPrivate bool
	// TLSClientCAFile holds the PEM certificates of the CAs whose client certificates
	// tls_client_auth accepts (--tls-client-ca-file; needs native TLS).
	TLSClientCAFile string
	// MetricsListen, when set, is the address /metrics is served on, instead of Listen.
	MetricsListen string
	// ServiceCatalogFile, when set, is the service catalogue (JSON or YAML, package catalog)
	// loaded at start instead of the built-in one; ServiceCatalog, when set, is used as is.
	ServiceCatalogFile string
	ServiceCatalog     *catalog.Catalog
	Log                *slog.Logger
	// AccessLog, when set, receives the access-log lines directly (see httpapi.API.AccessLog):
	// Log's destination, when Log is a JSON handler writing there.
	AccessLog io.Writer
	// Stdout receives the one-time bootstrap line.
	Stdout io.Writer
	Now    func() time.Time
	// loadHook, when set, runs at the start of Load (tests hold the load there);
	// loadLogEvery, when set, replaces loadLogInterval.
	loadHook     func(context.Context)
	loadLogEvery time.Duration
}

// Settings of --dpop-nonce.
const (
	DPoPNonceRequired = "required"
	DPoPNonceOff      = "off"
)

// Platforms keyhold can model.
const (
	PlatformCloud     = "cloud"
	PlatformDedicated = "dedicated"
)

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./keyhold-data"
	}
	if c.Platform == "" {
		c.Platform = PlatformCloud
	}
	if c.DPoPNonce == "" {
		c.DPoPNonce = DPoPNonceRequired
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = 15 * time.Minute
	}
	if c.SigningAlg == "" {
		c.SigningAlg = "ES256"
	}
	if c.MaxCredentialsPerOwner == 0 {
		c.MaxCredentialsPerOwner = credential.DefaultMaxPerOwner
	}
	if c.TokenCacheSize == 0 {
		c.TokenCacheSize = token.DefaultCacheSize
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = time.Second
	}
	if c.ChangeRetention == 0 {
		c.ChangeRetention = defaultRetention(c.SyncInterval)
	}
	if c.StoreTimeout == 0 {
		c.StoreTimeout = DefaultStoreTimeout
	}
	if c.AuditRetention == 0 {
		c.AuditRetention = DefaultAuditRetention
	}
	if c.MaxStaleness == 0 {
		c.MaxStaleness = DefaultMaxStaleness
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight()
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 20 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// loadCatalog loads the service catalogue: the file given, else the built-in one.
func (c *Config) loadCatalog() error {
	switch {
	case c.ServiceCatalog != nil:
	case c.ServiceCatalogFile != "":
		cat, err := catalog.LoadFile(c.ServiceCatalogFile)
		if err != nil {
			return fmt.Errorf("--service-catalog: %w", err)
		}
		c.ServiceCatalog = cat
	default:
		c.ServiceCatalog = catalog.Default()
	}
	return nil
}

// DefaultMaxInFlight is the default bound on requests served at once: 64 per CPU keyhold
// may use (GOMAXPROCS). Token issuance and decisions are CPU-bound, so more in flight only
// lengthens every request's wait; 64 per CPU leaves room for requests waiting on the store.
func DefaultMaxInFlight() int { return 64 * runtime.GOMAXPROCS(0) }

// Node is one running keyhold process.
type Node struct {
	cfg      Config
	Store    storage.Store
	Feed     *changefeed.Feed
	API      *httpapi.API
	Issuer   *token.Issuer
	verifier *token.Verifier
	revoked  *token.Revoked
	keys     *token.KeySet
	handler  http.Handler
	proxies  ratelimit.Proxies
	sealer   *token.Sealer
	ln       *connlimit.Listener
	shed     *loadshed.Shedder // nil: no shedding by delay
	engine   *rbac.Engine
	// loaded is set once Load has built the views; loadStart is when it began (Unix ns).
	loaded    atomic.Bool
	loadStart atomic.Int64
	tls       *tlscert.Reloader
	clientCAs *x509.CertPool // --tls-client-ca-file (nil: none)
	// metricsLn is the private metrics listener (nil: /metrics is on ln).
	metricsLn net.Listener
	// syncAfterWriteFailures counts writes whose views could not be updated at once.
	syncAfterWriteFailures atomic.Int64

	// addrFailures is the failed-authentication budget per source, pruned by the janitor.
	addrFailures *ratelimit.Limiter[netip.Addr]
	// audit records authentication failures and lockouts in batches; auditStream, when
	// configured, streams committed records (closed by Close).
	audit *audit.Recorder
	// logins writes users' last logins in batches, off the token path.
	logins *identity.LoginRecorder
	// loops counts the background loops started by startLoops (see Serve).
	loops       sync.WaitGroup
	auditStream *audit.JSONLines
	auditFile   io.Closer
	auditPruned atomic.Int64 // when pruneAudit last ran (Unix ns)
	// compacted counts the change log entries this node's janitor deleted.
	compacted atomic.Int64
}

// Open prepares a node: store, built-ins, signing keys, first workspace. The other views
// are loaded by Load, which Serve calls once it listens.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	cfg.defaults()
	base, err := CheckBaseURL(cfg.BaseURL, cfg.Listen)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = base
	if err := CheckSettings(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.checkTransport(); err != nil {
		return nil, err
	}
	if err := cfg.connectionLimits(); err != nil {
		return nil, err
	}
	if cfg.MaxInFlight < 0 {
		return nil, fmt.Errorf("max in-flight requests %d: must be positive (0: the default, %d)", cfg.MaxInFlight, DefaultMaxInFlight())
	}
	if cfg.Platform != PlatformCloud && cfg.Platform != PlatformDedicated {
		return nil, fmt.Errorf("platform %q: expected cloud or dedicated", cfg.Platform)
	}
	if cfg.DPoPNonce != DPoPNonceRequired && cfg.DPoPNonce != DPoPNonceOff {
		return nil, fmt.Errorf("dpop-nonce %q: expected required or off", cfg.DPoPNonce)
	}
	checkRetention(&cfg)
	if err := cfg.loadCatalog(); err != nil {
		return nil, err
	}
	proxies, err := ratelimit.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	sealer, err := token.LoadSealer(cfg.KeyEncryptionKeyFiles...)
	if err != nil {
		return nil, err
	}
	alg, err := token.ParseAlgorithm(cfg.SigningAlg)
	if err != nil {
		return nil, err
	}
	if cfg.Database == "" {
		// Opening the store restricts the data directory and its files too (every command
		// does); serve says what it changed.
		changed, err := sqlite.Tighten(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		for _, c := range changed {
			cfg.Log.Warn("the store was readable by other users; restricted it to the user keyhold runs as", "change", c)
		}
	}
	st, created, err := openStore(ctx, cfg.Database, cfg.DataDir, true)
	if err != nil {
		return nil, err
	}
	if created {
		cfg.Log.Info("created a new store at "+storeLocation(cfg.Database, cfg.DataDir), "store", storeLocation(cfg.Database, cfg.DataDir))
	}
	n := &Node{cfg: cfg, Store: st, proxies: proxies, sealer: sealer}
	if err := n.openAuditStream(); err != nil {
		st.Close()
		return nil, err
	}
	if n.tls, err = n.loadTLS(); err != nil {
		st.Close()
		return nil, err
	}
	if n.clientCAs, err = n.loadClientCAs(); err != nil {
		st.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		st.Close()
		return nil, err
	}
	if cfg.MetricsListen != "" {
		if n.metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			ln.Close()
			st.Close()
			return nil, fmt.Errorf("metrics listener: %w", err)
		}
	}
	n.ln = connlimit.New(ln, connlimit.Config{Max: cfg.MaxConnections, PerAddr: cfg.MaxConnectionsPerAddress,
		Exempt: trusts(proxies), Log: cfg.Log})
	if err := n.prepare(ctx, alg); err != nil {
		n.closeListeners()
		st.Close()
		return nil, err
	}
	// From here on every write transaction is bounded (start-up's are not: a large first
	// load may take longer, and nothing is served yet).
	st.SetTxTimeout(cfg.StoreTimeout)
	return n, nil
}

// warnClearKeys logs each signing key stored in the clear while a key-encryption key is
// configured: keys made before it was. `keyhold keys rotate` replaces them.
func (n *Node) warnClearKeys(ctx context.Context) error {
	if n.sealer == nil {
		return nil
	}
	keys, err := n.Store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	for _, k := range keys {
		if !token.Sealed(k.PrivateKey) {
			n.cfg.Log.Warn("a signing key is stored unencrypted although a key-encryption key is configured; this node never signs with it (it sealed a new key) and it only verifies until it retires",
				"kid", k.KID)
		}
	}
	return nil
}

// recordBaseURL stores the base URL this node serves, for the commands that print issuer
// URLs (`keyhold workspace create`). Nodes sharing a store should share one base URL: a
// different one recorded before is replaced, with a warning.
func (n *Node) recordBaseURL(ctx context.Context) error {
	prev, err := StoredBaseURL(ctx, n.Store)
	switch {
	case errors.Is(err, ErrNoBaseURL):
	case err != nil:
		return fmt.Errorf("base URL: %w", err)
	case prev == n.cfg.BaseURL:
		return nil
	default:
		n.cfg.Log.Warn("the store recorded another base URL; it now records this node's (nodes on one store should share --base-url)",
			"previous", prev, "base_url", n.cfg.BaseURL)
	}
	if err := n.Store.PutSetting(ctx, storage.SettingBaseURL, n.cfg.BaseURL, n.cfg.Now()); err != nil {
		return fmt.Errorf("base URL: %w", err)
	}
	return nil
}

// StoredTokenTTL is the token lifetime the last started `keyhold serve` recorded in the store
// (0 when none has since keyhold began recording it).
func StoredTokenTTL(ctx context.Context, st storage.Store) (time.Duration, error) {
	v, err := st.GetSetting(ctx, storage.SettingTokenTTL)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("the token lifetime recorded in the store, %q: %w", v, err)
	}
	return d, nil
}

// Addr is the bound address.
func (n *Node) Addr() string { return n.ln.Addr().String() }

func (n *Node) prepare(ctx context.Context, alg jose.SignatureAlgorithm) error {
	now := n.cfg.Now()
	if err := rbac.EnsureBuiltins(ctx, n.Store, now); err != nil {
		return fmt.Errorf("built-in roles: %w", err)
	}
	if err := token.EnsureKey(ctx, n.Store, alg, n.cfg.TokenTTL+5*time.Minute, now, n.sealer); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if err := n.warnClearKeys(ctx); err != nil {
		return err
	}
	if n.cfg.BaseURL == "" {
		n.cfg.BaseURL = n.scheme() + "://" + n.ln.Addr().String()
	}
	if err := n.recordBaseURL(ctx); err != nil {
		return err
	}
	if err := n.Store.PutSetting(ctx, storage.SettingTokenTTL, n.cfg.TokenTTL.String(), now); err != nil {
		return fmt.Errorf("token lifetime: %w", err)
	}
	n.assemble()
	created, err := workspace.Bootstrap(ctx, n.Store, workspace.CreateInput{Name: "default",
		Type: storage.WorkspaceStandard, IssuerURL: n.Issuer.IssuerURL, Now: now})
	switch {
	case errors.Is(err, workspace.ErrNotEmpty):
	case err != nil:
		return fmt.Errorf("first workspace: %w", err)
	default:
		line, _ := json.Marshal(created)
		fmt.Fprintf(n.cfg.Stdout, "%s\n", line)
		n.cfg.Log.Info("created the first workspace; its administrator's credential was printed once on stdout",
			"workspace_id", created.WorkspaceID, "client_id", created.ClientID)
	}
	// The views are loaded by Load, after the node starts listening; the signing keys are
	// loaded here already, so that a node that could not sign refuses to start.
	if err := n.keys.Load(ctx, n.Store); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	// Running, a key this node cannot use is skipped and reported; starting, it is refused
	// (a node that cannot sign with the active key is misconfigured: a missing or wrong
	// key-encryption key).
	if err := n.keys.Healthy(); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if st := n.keys.Status(); len(st.Unusable) > 0 {
		n.cfg.Log.Warn("some signing keys are unusable on this node; tokens they signed are refused here if their public key is unknown", "keys", st.Unusable)
	}
	if a := n.keys.SignerAlgorithm(); a != string(alg) {
		n.cfg.Log.Info("the store's active signing key decides the algorithm; --signing-alg applies to a store without one (change it with `keyhold keys rotate --signing-alg`)",
			"key_algorithm", a, "signing_alg", string(alg))
	}
	return nil
}
