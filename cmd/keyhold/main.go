// Command keyhold is a self-hosted identity-and-access service wire-compatible with the IAM
// APIs of the HPE GreenLake platform. Run `keyhold --help` for its commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/catalog"
	"github.com/keyhold/keyhold/internal/hugepages"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/sqlite"
	"github.com/keyhold/keyhold/internal/storage/sqlstore"
	"github.com/keyhold/keyhold/internal/telemetry"
	"github.com/keyhold/keyhold/internal/token"
	"github.com/keyhold/keyhold/internal/workspace"
)

type storeFlags struct {
	DataDir  string `help:"Directory of the embedded SQLite store." default:"./keyhold-data" env:"KEYHOLD_DATA_DIR" type:"path"`
	Database string `help:"PostgreSQL URL (postgres://...) to use instead of the SQLite store." env:"KEYHOLD_DATABASE"`
}

// Validate refuses an empty --data-dir (it used to mean the default directory, silently);
// commands with their own Validate call it.
func (f *storeFlags) Validate() error {
	if f.Database == "" && f.DataDir == "" {
		return errors.New("--data-dir: must not be empty (the directory of the SQLite store; default ./keyhold-data)")
	}
	return nil
}

// open opens the existing store; only serve creates one, so that a mistyped --data-dir or
// --database fails instead of filling a new, empty store nobody reads.
func (f *storeFlags) open(ctx context.Context) (*sqlstore.Store, error) {
	return app.OpenExistingStore(ctx, f.Database, f.DataDir)
}

// kekFlag names the key-encryption key that seals signing keys at rest.
type kekFlag struct {
	KeyEncryptionKeyFile []string `help:"File holding 64 hex digits (openssl rand -hex 32): the key that encrypts signing keys in the store; the same on every node. More files, comma-separated: the first seals, all open (to change the key)." env:"KEYHOLD_KEY_ENCRYPTION_KEY_FILE" sep:"," type:"path"`
}

type serveCmd struct {
	storeFlags
	kekFlag
	Listen           string        `help:"Address to listen on." default:"127.0.0.1:8080" env:"KEYHOLD_LISTEN"`
	BaseURL          string        `help:"Public base URL used in issuers and Location headers (default: http://<listen>)." env:"KEYHOLD_BASE_URL"`
	TokenTTL         time.Duration `help:"Access token lifetime." default:"15m" env:"KEYHOLD_TOKEN_TTL"`
	SigningAlg       string        `help:"Algorithm of the signing key created when the store has none: ES256, EdDSA or RS256 (then keys rotate --signing-alg changes it)." default:"ES256" env:"KEYHOLD_SIGNING_ALG" enum:"ES256,EdDSA,RS256"`
	MaxCredentials   int           `help:"Credentials one owner may hold in one workspace." default:"7" env:"KEYHOLD_MAX_CREDENTIALS_PER_OWNER" name:"max-credentials-per-owner"`
	SyncInterval     time.Duration `help:"How often in-memory views poll the store for writes made by other processes." default:"1s" env:"KEYHOLD_SYNC_INTERVAL"`
	ChangeRetention  time.Duration `help:"How long the change log keeps an entry; a node that falls further behind reloads its views from the store (at least 1m; keep it above 30 sync intervals)." default:"10m" env:"KEYHOLD_CHANGE_RETENTION"`
	StoreTimeout     time.Duration `help:"Bound on a write transaction and a management API request: an unavailable database answers 503 with Retry-After in that time (1s to 1m)." default:"5s" env:"KEYHOLD_STORE_TIMEOUT"`
	MaxStaleness     time.Duration `help:"How long a node that cannot read the store stays ready (degraded) on its in-memory views before /readyz answers 503 (10s to 168h)." default:"5m" env:"KEYHOLD_MAX_STALENESS"`
	AuditRetention   time.Duration `help:"How long audit records are kept (24h to 876000h); older ones are pruned hourly, each workspace's chain keeping an anchor so that it still verifies." default:"8760h" env:"KEYHOLD_AUDIT_RETENTION"`
	AuditStream      string        `help:"Also write each audit record this node commits as a JSON line to this file (appended, created 0600), or '-' for standard output (for a SIEM)." env:"KEYHOLD_AUDIT_STREAM"`
	ShutdownTimeout  time.Duration `help:"How long SIGTERM waits for in-flight requests." default:"20s" env:"KEYHOLD_SHUTDOWN_TIMEOUT"`
	Platform         string        `help:"Which GreenLake platform to model: cloud, or dedicated (no token exchange)." default:"cloud" env:"KEYHOLD_PLATFORM" enum:"cloud,dedicated"`
	DPoPNonce        string        `help:"Whether DPoP proofs (RFC 9449) must carry a server nonce: required (clients are told one with use_dpop_nonce and DPoP-Nonce; each nonce is good for 5 to 10 minutes on every node) or off. Clients without DPoP are unaffected." default:"required" env:"KEYHOLD_DPOP_NONCE" enum:"required,off" name:"dpop-nonce"`
	LogLevel         string        `help:"Log level: debug, info, warn, error." default:"info" env:"KEYHOLD_LOG_LEVEL" enum:"debug,info,warn,error"`
	TrustedProxies   []string      `help:"Load balancers (IP addresses or CIDR prefixes, comma-separated) whose X-Forwarded-For names the client." env:"KEYHOLD_TRUSTED_PROXIES" sep:","`
	TokenCacheSize   int           `help:"Verified access tokens cached per node (about 1 KiB each)." default:"200000" env:"KEYHOLD_TOKEN_CACHE_SIZE"`
	TLSCertFile      string        `help:"PEM certificate (chain) to serve TLS with; reloaded when the file changes." env:"KEYHOLD_TLS_CERT_FILE" name:"tls-cert-file" type:"path"`
	TLSKeyFile       string        `help:"PEM private key of --tls-cert-file; reloaded with it." env:"KEYHOLD_TLS_KEY_FILE" name:"tls-key-file" type:"path"`
	AllowInsecure    bool          `help:"Allow plain HTTP with an http:// base URL on a listen address that is not loopback (tokens and secrets then cross the network in the clear)." env:"KEYHOLD_ALLOW_INSECURE_HTTP" name:"allow-insecure-http"`
	JWKSAllowPrivate bool          `help:"Let credentials register a jwks_uri (private_key_jwt) on a loopback or private address, or over plain http (tests and closed networks only: otherwise keyhold refuses to fetch from inside its own network)." env:"KEYHOLD_JWKS_ALLOW_PRIVATE_ADDRESSES" name:"jwks-allow-private-addresses"`
	TLSClientCAFile  string        `help:"PEM file of the CAs whose client certificates tls_client_auth (RFC 8705) accepts; needs --tls-cert-file." env:"KEYHOLD_TLS_CLIENT_CA_FILE" name:"tls-client-ca-file" type:"existingfile"`
	MetricsListen    string        `help:"Serve /metrics on this address only (a private one) instead of --listen." env:"KEYHOLD_METRICS_LISTEN"`
	MaxConnections   int           `help:"Connections open at once on --listen; past it the longest idle is closed, or the new one refused. 0: derived from the descriptor limit (ulimit -n)." default:"0" env:"KEYHOLD_MAX_CONNECTIONS"`
	MaxConnsPerAddr  int           `help:"Connections one source address (IPv6: one /64) may hold; trusted proxies have no share. 0: an eighth of --max-connections, at least 32." default:"0" env:"KEYHOLD_MAX_CONNECTIONS_PER_ADDRESS" name:"max-connections-per-address"`
	MaxInFlight      int           `help:"Requests served at once (operations endpoints excepted); more are answered 503 with Retry-After. 0: 64 per CPU (GOMAXPROCS)." default:"0" env:"KEYHOLD_MAX_IN_FLIGHT"`
	ShedDelay        time.Duration `help:"Queueing delay (the 99th percentile of the Go scheduler's waits for a CPU, two 50 ms samples in a row) above which a busy node refuses a growing share of requests with 503 and Retry-After, so that the admitted ones keep their latency (1ms to 1s; 0s: never)." default:"10ms" env:"KEYHOLD_SHED_DELAY"`
	HugePages        string        `help:"auto: on Linux, move the Go heap (where the in-memory views live) to transparent huge pages (2 MiB) when the kernel allows it on request (THP always or madvise), which keeps random reads of a large data set from paying for page-table walks (see docs/operations.md); off: leave memory on the kernel's default pages." default:"auto" env:"KEYHOLD_HUGE_PAGES" enum:"auto,off" name:"huge-pages"`
	ServiceCatalog   string        `help:"Service catalogue to serve and check provisions against: a JSON (.json) or YAML (.yaml, .yml) file of regions and service managers (see docs/configuration.md). Default: the built-in catalogue." env:"KEYHOLD_SERVICE_CATALOG" type:"path"`
}

// hugePagesInterval is how often serve moves newly mapped heap to huge pages: a pass reads
// /proc/self/maps and collapses only what is new, so it is cheap when nothing changed.
const hugePagesInterval = 10 * time.Second

// config is the node configuration the flags give.
func (c *serveCmd) config() app.Config {
	return app.Config{Listen: c.Listen, DataDir: c.DataDir, Database: c.Database, BaseURL: c.BaseURL, TokenTTL: c.TokenTTL,
		SigningAlg: c.SigningAlg, MaxCredentialsPerOwner: c.MaxCredentials, SyncInterval: c.SyncInterval,
		ChangeRetention: c.ChangeRetention, AuditRetention: c.AuditRetention, AuditStream: c.AuditStream, StoreTimeout: c.StoreTimeout, MaxStaleness: c.MaxStaleness, ShutdownTimeout: c.ShutdownTimeout, Platform: c.Platform, DPoPNonce: c.DPoPNonce, TrustedProxies: c.TrustedProxies,
		KeyEncryptionKeyFiles: c.KeyEncryptionKeyFile, TokenCacheSize: c.TokenCacheSize,
		MaxInFlight: c.MaxInFlight, ShedDelay: c.ShedDelay, MaxConnections: c.MaxConnections, MaxConnectionsPerAddress: c.MaxConnsPerAddr,
		TLSCertFile: c.TLSCertFile, TLSKeyFile: c.TLSKeyFile, AllowInsecureHTTP: c.AllowInsecure, MetricsListen: c.MetricsListen,
		JWKSAllowPrivate: c.JWKSAllowPrivate, TLSClientCAFile: c.TLSClientCAFile,
		ServiceCatalogFile: c.ServiceCatalog}
}

// Validate refuses out-of-range values and unusable URLs before anything starts (kong calls
// it after parsing, for flags and KEYHOLD_* variables alike).
func (c *serveCmd) Validate() error {
	if err := c.storeFlags.Validate(); err != nil {
		return err
	}
	if c.Listen == "" {
		return errors.New("--listen: must not be empty (host:port, e.g. 127.0.0.1:8080)")
	}
	cfg := c.config()
	if err := app.CheckSettings(&cfg); err != nil {
		return err
	}
	if c.ServiceCatalog != "" {
		if _, err := catalog.LoadFile(c.ServiceCatalog); err != nil {
			return fmt.Errorf("--service-catalog: %w", err)
		}
	}
	_, err := app.CheckBaseURL(c.BaseURL, c.Listen)
	return err
}

func (c *serveCmd) Run(g *globals) error {
	logw := telemetry.NewLogWriter(g.stderr, 100*time.Millisecond)
	defer logw.Close()
	log := slog.New(telemetry.UrgentHandler(newHandler(logw, c.LogLevel), logw))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg := c.config()
	cfg.Log, cfg.AccessLog, cfg.Stdout = log, logw, g.stdout
	if c.HugePages == "auto" {
		// The heap is the process's, not the node's: the serve command keeps it, and tests
		// that start several nodes in one process leave it alone. A pass right after the
		// views are built moves them at once rather than at the next tick.
		k := hugepages.NewKeeper()
		cfg.ViewsLoaded = k.Nudge
		go k.Keep(ctx, hugePagesInterval, log)
	}
	n, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	serveErr := n.Serve(ctx)
	if err := n.Close(); err != nil && serveErr == nil {
		serveErr = err
	}
	log.Info("stopped")
	return serveErr
}

type workspaceCreateCmd struct {
	storeFlags
	Name       string `help:"Workspace name." required:""`
	Type       string `help:"Workspace type." default:"STANDARD_ENTERPRISE" enum:"STANDARD_ENTERPRISE,MSP"`
	AdminEmail string `help:"Email of the workspace's first administrator (an existing user is reused)." default:"admin@localhost"`
	BaseURL    string `help:"The server's public base URL, for the issuer printed (default: the one the server last started on the store recorded)." env:"KEYHOLD_BASE_URL"`
}

// Validate checks --base-url when it is given.
func (c *workspaceCreateCmd) Validate() error {
	if err := c.storeFlags.Validate(); err != nil {
		return err
	}
	return checkPrintedBaseURL(c.BaseURL)
}

// checkPrintedBaseURL checks the --base-url of a command that prints issuer URLs, when given.
func checkPrintedBaseURL(flag string) error {
	if flag == "" {
		return nil
	}
	_, err := app.CheckBaseURL(flag, "")
	return err
}

// printedBaseURL is the base URL of the issuers a command prints: --base-url when given, and
// otherwise the one the server recorded in the store when it started.
func printedBaseURL(ctx context.Context, st storage.Store, flag string) (string, error) {
	if flag != "" {
		return app.CheckBaseURL(flag, "")
	}
	return app.StoredBaseURL(ctx, st)
}

// openForIssuing opens the store for a command that writes a credential and prints its
// issuer: the predefined roles ensured, and the issuer from printedBaseURL. The caller closes
// the store.
func openForIssuing(ctx context.Context, f *storeFlags, baseURL string) (*sqlstore.Store, *token.Issuer, error) {
	st, err := f.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := rbac.EnsureBuiltins(ctx, st, time.Now()); err != nil {
		st.Close()
		return nil, nil, err
	}
	base, err := printedBaseURL(ctx, st, baseURL)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, &token.Issuer{BaseURL: base}, nil
}

func (c *workspaceCreateCmd) Run(g *globals) error {
	ctx := operatorContext(context.Background(), "workspace create")
	st, iss, err := openForIssuing(ctx, &c.storeFlags, c.BaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := workspace.Create(ctx, st, workspace.CreateInput{Name: c.Name, Type: c.Type, AdminEmail: c.AdminEmail,
		IssuerURL: iss.IssuerURL, Now: time.Now()})
	if err != nil {
		return err
	}
	return printJSON(g.stdout, created)
}

type keysRotateCmd struct {
	storeFlags
	kekFlag
	SigningAlg string        `help:"Algorithm of the new key: ES256, EdDSA or RS256. Every node signs with the new key whatever its own --signing-alg." default:"ES256" env:"KEYHOLD_SIGNING_ALG" enum:"ES256,EdDSA,RS256"`
	Overlap    time.Duration `help:"How long the previous keys keep verifying tokens: at least the token lifetime plus 1m." default:"1h"`
	TokenTTL   time.Duration `help:"The access token lifetime the servers use (serve's --token-ttl), which the overlap must cover; the longer of this and the lifetime the last started server recorded in the store counts (default: that one, or 15m)." env:"KEYHOLD_TOKEN_TTL"`
}

func (c *keysRotateCmd) Run(g *globals) error {
	ctx := operatorContext(context.Background(), "keys rotate")
	alg, err := token.ParseAlgorithm(c.SigningAlg)
	if err != nil {
		return err
	}
	sealer, err := token.LoadSealer(c.KeyEncryptionKeyFile...)
	if err != nil {
		return err
	}
	st, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := c.checkOverlap(ctx, st); err != nil {
		return err
	}
	now := time.Now()
	if err := token.CheckRotation(ctx, st, now, sealer); err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	kid, err := token.Rotate(ctx, st, alg, c.Overlap, now, sealer)
	if err != nil {
		return err
	}
	return printJSON(g.stdout, map[string]any{"kid": kid, "algorithm": c.SigningAlg, "sealed": sealer != nil,
		"previousKeysRetireAt": now.Add(c.Overlap).UTC().Format(time.RFC3339)})
}

// defaultTokenTTL is serve's --token-ttl default.
const defaultTokenTTL = 15 * time.Minute

// checkOverlap refuses an overlap shorter than the token lifetime plus a minute: tokens
// signed just before the rotation would be refused before they expire. The lifetime is the
// longer of --token-ttl and the one the last started server recorded.
func (c *keysRotateCmd) checkOverlap(ctx context.Context, st storage.Store) error {
	stored, err := app.StoredTokenTTL(ctx, st)
	if err != nil {
		return err
	}
	ttl, from := c.TokenTTL, "--token-ttl"
	if stored > ttl {
		ttl, from = stored, "recorded in the store by the last started server"
	}
	if ttl == 0 {
		ttl, from = defaultTokenTTL, "the default; give --token-ttl if the servers use another"
	}
	if min := token.MinOverlap(ttl); c.Overlap < min {
		return fmt.Errorf("--overlap %s is shorter than %s, the token lifetime %s (%s) plus 1m: tokens signed before the rotation would be refused before they expire",
			c.Overlap, min, ttl, from)
	}
	return nil
}

type migrateCmd struct {
	storeFlags
}

// Run applies the migrations that are missing (opening a store migrates it) and stops.
func (c *migrateCmd) Run(g *globals) error {
	st, err := c.open(context.Background())
	if err != nil {
		return err
	}
	defer st.Close()
	seq, err := st.LatestSeq(context.Background())
	if err != nil {
		return err
	}
	return printJSON(g.stdout, map[string]any{"migrated": true, "changeLogSeq": seq})
}

type backupCmd struct {
	DataDir string `help:"Directory of the SQLite store to back up." default:"./keyhold-data" env:"KEYHOLD_DATA_DIR" type:"path"`
	Out     string `help:"File to write the backup to (must not exist)." required:"" type:"path"`
}

// Validate refuses an empty --data-dir, as the other commands do.
func (c *backupCmd) Validate() error {
	return (&storeFlags{DataDir: c.DataDir}).Validate()
}

// Run writes an online, consistent copy of the SQLite store.
func (c *backupCmd) Run(g *globals) error {
	ctx := context.Background()
	st, err := app.OpenExistingStore(ctx, "", c.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := sqlite.Backup(ctx, st.DB(), c.Out); err != nil {
		return err
	}
	return printJSON(g.stdout, map[string]string{"backup": c.Out})
}

type cli struct {
	Migrate   migrateCmd `cmd:"" help:"Apply database migrations and exit (serve also applies them)."`
	Backup    backupCmd  `cmd:"" help:"Write an online, consistent copy of the SQLite store (PostgreSQL: use pg_dump)."`
	Serve     serveCmd   `cmd:"" help:"Run the service."`
	Workspace struct {
		Create workspaceCreateCmd `cmd:"" help:"Create a workspace with its first administrator and credential; prints them once."`
	} `cmd:"" help:"Manage workspaces."`
	Keys struct {
		Rotate keysRotateCmd `cmd:"" help:"Create a new signing key; the old ones keep verifying for --overlap."`
	} `cmd:"" help:"Manage token signing keys."`
	Audit struct {
		Verify auditVerifyCmd `cmd:"" help:"Check the audit log's hash chains; report every altered or deleted record (exit 1 if any)."`
	} `cmd:"" help:"Audit log tools."`
	Admin       adminCmd       `cmd:"" help:"Operator's recovery commands (need access to the store, no token)."`
	Healthcheck healthcheckCmd `cmd:"" help:"Exit 0 if a running keyhold answers its health URL with 200 (for container health checks)."`

	// The client commands call a running keyhold as a logged-in API client (docs/cli.md).
	Login         loginCmd         `cmd:"" group:"client" help:"Log in to a keyhold with an API client credential; stores it as a context (the secret from a prompt, stdin or a file)."`
	Logout        logoutCmd        `cmd:"" group:"client" help:"Forget a context and its stored secret."`
	Context       contextCmd       `cmd:"" group:"client" help:"List, switch and delete the stored contexts."`
	Credentials   credentialsCmd   `cmd:"" group:"client" help:"API client credentials."`
	Users         usersCmd         `cmd:"" group:"client" help:"The workspace's users."`
	UserGroups    userGroupsCmd    `cmd:"" group:"client" help:"User groups and their members."`
	Roles         rolesCmd         `cmd:"" group:"client" help:"Roles: predefined and custom."`
	Assignments   assignmentsCmd   `cmd:"" group:"client" help:"Role assignments: who holds which role on which scopes."`
	ScopeGroups   scopeGroupsCmd   `cmd:"" group:"client" help:"Scope groups and their scopes."`
	Providers     providersCmd     `cmd:"" group:"client" help:"Resource providers."`
	ResourceTypes resourceTypesCmd `cmd:"" group:"client" help:"A provider's resource types."`
	Permissions   permissionsCmd   `cmd:"" group:"client" help:"A provider's permissions."`
	Tenants       tenantsCmd       `cmd:"" group:"client" help:"MSP tenants."`
	TenantGroups  tenantGroupsCmd  `cmd:"" group:"client" help:"MSP tenant groups and their tenants."`
	Contact       contactCmd       `cmd:"" group:"client" help:"A workspace's contact details."`
	Check         checkCmd         `cmd:"" group:"client" help:"Ask keyhold whether a subject may do an action on a resource (exit 0 allowed, 3 denied)."`
	CanI          canICmd          `cmd:"" name:"can-i" group:"client" help:"List the permissions you (or a subject) hold on a resource."`
	Completion    completionCmd    `cmd:"" help:"Print a shell completion script: bash, zsh or fish."`
}

type globals struct {
	stdout, stderr io.Writer
	model          *kong.Application // the command tree, for completion scripts
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var c cli
	// kong asks to exit after printing help (with any command: `keyhold serve --help`);
	// run returns that code instead of exiting, so that tests can call it, and must not go on
	// to run the command.
	exit := -1
	parser, err := kong.New(&c, kong.Name("keyhold"),
		kong.Description("Identity and access for multi-tenant API platforms, wire-compatible with HPE GreenLake IAM."),
		kong.Writers(stdout, stderr), kong.Help(helpWithExample), kong.ConfigureHelp(kong.HelpOptions{NoExpandSubcommands: true}),
		kong.ExplicitGroups([]kong.Group{{Key: "client", Title: "Client commands (call a running keyhold; see keyhold login):"}}),
		kong.Exit(func(code int) {
			if exit < 0 {
				exit = code
			}
		}))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, err := parser.Parse(args)
	switch {
	case exit >= 0:
		return exit
	case err != nil:
		fmt.Fprintf(stderr, "keyhold: %v\n", err)
		return exitUsage
	}
	if err := ctx.Run(&globals{stdout: stdout, stderr: stderr, model: parser.Model}); err != nil {
		if msg := errorMessage(err); msg != "" {
			fmt.Fprintf(stderr, "keyhold: %s\n", msg)
		}
		return exitCodeOf(err)
	}
	return exitOK
}

func newHandler(w io.Writer, level string) slog.Handler {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})
}

func printJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}
