package enforce

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Defaults of Config.
const (
	DefaultMinRefresh = time.Second
	DefaultMaxKeyAge  = 10 * time.Minute
	DefaultLeeway     = 30 * time.Second
	maxTokenBytes     = 4096
	maxJWKSBytes      = 1 << 20
)

// DefaultAlgorithms are the signature algorithms keyhold can sign with (ES256 by default,
// EdDSA and RS256 selectable). Symmetric and "none" algorithms are never accepted.
var DefaultAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

// Config configures a Verifier.
type Config struct {
	// BaseURL is keyhold's base URL. The JWKS is read from <BaseURL>/.well-known/jwks.json
	// unless JWKSURL is set, and the audience defaults to BaseURL (keyhold's `aud`).
	BaseURL string
	JWKSURL string
	// Audience is the audience a token must carry; default BaseURL.
	Audience string
	// WorkspaceIDs are the workspaces whose tokens are accepted: the token's issuer must be
	// one of their issuers. Empty: any workspace of this keyhold, the issuer being checked
	// against the token's own hpe_workspace_id.
	WorkspaceIDs []string
	// Algorithms allowed; default DefaultAlgorithms.
	Algorithms []jose.SignatureAlgorithm
	// MinRefresh is the least time between two JWKS fetches caused by unknown key ids.
	MinRefresh time.Duration
	// MaxKeyAge is how long a fetched JWKS is used before it is fetched again.
	MaxKeyAge time.Duration
	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration
	// HTTPClient fetches the JWKS; http.DefaultClient when nil (set a timeout on yours).
	HTTPClient *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Claims are the claims of a verified keyhold access token.
type Claims struct {
	Issuer               string
	Subject              string // "api-client:<clientId>"
	Audience             []string
	Expiry, IssuedAt     time.Time
	NotBefore            time.Time
	ID                   string // jti
	ClientID             string
	WorkspaceID          string // 32 hex digits
	PrincipalType        string
	TokenType            string // hpe_token_type
	CredentialGeneration int64
	// Act names the MSP credential acting in a tenant, for exchanged tokens.
	Act *Actor
	// Scope is the token's OAuth scope ("" when it has none): the permission names and
	// <provider>.<resource-type>.* wildcards it is restricted to. Decisions about the token
	// (Guard) allow only what its owner's roles grant and the scope permits.
	Scope string
	// Raw is the token as received.
	Raw string
}

// Actor is the act claim of an exchanged token.
type Actor struct {
	Subject     string `json:"sub"`
	WorkspaceID string `json:"hpe_workspace_id"`
	ClientID    string `json:"client_id"`
}

// ErrInvalidToken is wrapped by every error of a token that is not acceptable (as opposed to
// ErrKeysUnavailable, when the verifier could not get keyhold's keys).
var (
	ErrInvalidToken    = errors.New("invalid token")
	ErrKeysUnavailable = errors.New("keyhold's signing keys are unavailable")
)

// Verifier verifies keyhold access tokens offline. It is safe for concurrent use.
type Verifier struct {
	cfg     Config
	issuers map[string]bool

	fetchMu   sync.Mutex // serialises fetches
	mu        sync.Mutex // guards the fields below
	keys      *jose.JSONWebKeySet
	fetchedAt time.Time // of the last successful fetch
	triedAt   time.Time // of the last attempt
}

// NewVerifier returns a verifier for cfg.
func NewVerifier(cfg Config) (*Verifier, error) {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.BaseURL == "" && (cfg.JWKSURL == "" || cfg.Audience == "") {
		return nil, errors.New("enforce: BaseURL (or JWKSURL and Audience) is required")
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = cfg.BaseURL + "/.well-known/jwks.json"
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.BaseURL
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(DefaultAlgorithms, a) {
			return nil, fmt.Errorf("enforce: algorithm %s is not one keyhold signs with", a)
		}
	}
	if cfg.MinRefresh <= 0 {
		cfg.MinRefresh = DefaultMinRefresh
	}
	if cfg.MaxKeyAge <= 0 {
		cfg.MaxKeyAge = DefaultMaxKeyAge
	}
	if cfg.Leeway < 0 {
		cfg.Leeway = 0
	} else if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{cfg: cfg}
	if len(cfg.WorkspaceIDs) > 0 {
		v.issuers = map[string]bool{}
		for _, ws := range cfg.WorkspaceIDs {
			h, err := workspaceHex(ws)
			if err != nil {
				return nil, err
			}
			v.issuers[v.issuerOf(h)] = true
		}
	}
	return v, nil
}

func (v *Verifier) issuerOf(wsHex string) string {
	return v.cfg.BaseURL + "/authorization/v2/oauth2/" + wsHex
}

func workspaceHex(id string) (string, error) {
	h := strings.ToLower(strings.ReplaceAll(id, "-", ""))
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("enforce: workspace id %q is not a UUID", id)
	}
	return h, nil
}

type keyholdClaims struct {
	ClientID      string `json:"client_id"`
	WorkspaceID   string `json:"hpe_workspace_id"`
	PrincipalType string `json:"hpe_principal_type"`
	TokenType     string `json:"hpe_token_type"`
	Generation    int64  `json:"hpe_credential_generation"`
	Act           *Actor `json:"act"`
	Scope         string `json:"scope"`
	// Cnf binds a token to a key: a DPoP key (jkt, RFC 9449), which the verifier checks no
	// proofs of, so such tokens are refused; or a TLS client certificate (x5t#S256, RFC
	// 8705), checked against the certificate of the request (VerifyPeer).
	Cnf *confirmation `json:"cnf"`
}

type confirmation struct {
	JKT string `json:"jkt"`
	X5T string `json:"x5t#S256"`
}

// Verify checks a token and returns its claims. Errors wrap ErrInvalidToken, or
// ErrKeysUnavailable when the keys could not be fetched (then the token may be fine: fail
// closed, and let the caller retry later).
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	return v.VerifyPeer(ctx, raw, nil)
}

// VerifyPeer is Verify for a token presented on a connection with the TLS client certificate
// peer (nil: none): a certificate-bound token (RFC 8705, cnf.x5t#S256) is accepted only when
// peer is the certificate it is bound to.
func (v *Verifier) VerifyPeer(ctx context.Context, raw string, peer *x509.Certificate) (*Claims, error) {
	if len(raw) > maxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, maxTokenBytes)
	}
	tok, err := jwt.ParseSigned(raw, v.cfg.Algorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%w: not one signature", ErrInvalidToken)
	}
	h := tok.Headers[0]
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if t := strings.ToLower(typ); t != "at+jwt" && t != "application/at+jwt" {
		return nil, fmt.Errorf("%w: typ %q is not at+jwt", ErrInvalidToken, typ)
	}
	if h.KeyID == "" {
		return nil, fmt.Errorf("%w: no kid", ErrInvalidToken)
	}
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var kh keyholdClaims
	if err := tok.Claims(key.Key, &std, &kh); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if err := v.checkClaims(&std, &kh); err != nil {
		return nil, err
	}
	if err := checkBinding(kh.Cnf, peer); err != nil {
		return nil, err
	}
	return &Claims{Issuer: std.Issuer, Subject: std.Subject, Audience: std.Audience, Expiry: std.Expiry.Time(),
		IssuedAt: std.IssuedAt.Time(), NotBefore: std.NotBefore.Time(), ID: std.ID, ClientID: kh.ClientID,
		WorkspaceID: kh.WorkspaceID, PrincipalType: kh.PrincipalType, TokenType: kh.TokenType,
		CredentialGeneration: kh.Generation, Act: kh.Act, Scope: kh.Scope, Raw: raw}, nil
}

// checkBinding refuses a DPoP-bound token (the verifier checks no proofs), and a
// certificate-bound one unless peer is its certificate (constant-time comparison of the
// SHA-256 thumbprints).
func checkBinding(cnf *confirmation, peer *x509.Certificate) error {
	switch {
	case cnf == nil:
		return nil
	case cnf.JKT != "":
		return fmt.Errorf("%w: a DPoP-bound token (cnf.jkt) is not a bearer token", ErrInvalidToken)
	case cnf.X5T == "":
		return fmt.Errorf("%w: a token bound to something this verifier does not check (cnf)", ErrInvalidToken)
	case peer == nil:
		return fmt.Errorf("%w: a certificate-bound token presented without a TLS client certificate", ErrInvalidToken)
	}
	sum := sha256.Sum256(peer.Raw)
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(cnf.X5T)) != 1 {
		return fmt.Errorf("%w: the token is bound to another TLS client certificate", ErrInvalidToken)
	}
	return nil
}

func (v *Verifier) checkClaims(std *jwt.Claims, kh *keyholdClaims) error {
	if std.Expiry == nil {
		return fmt.Errorf("%w: no exp", ErrInvalidToken)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{v.cfg.Audience}, Time: v.cfg.Now()}, v.cfg.Leeway); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if v.issuers != nil {
		if !v.issuers[std.Issuer] {
			return fmt.Errorf("%w: issuer %q is not accepted", ErrInvalidToken, std.Issuer)
		}
	} else if h, err := workspaceHex(kh.WorkspaceID); err != nil || std.Issuer != v.issuerOf(h) {
		return fmt.Errorf("%w: issuer %q is not this keyhold's issuer of the token's workspace", ErrInvalidToken, std.Issuer)
	}
	return nil
}

// key finds the key kid. An unknown kid makes it fetch the JWKS (at most once per
// MinRefresh); a set older than MaxKeyAge is fetched again before use, and kept if that fetch
// fails (offline verification goes on with the keys it has; retrying once per MinRefresh).
// Lookups do not wait for a fetch in progress unless they need its result.
func (v *Verifier) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	if k, fresh := v.cached(kid); k != nil && fresh {
		return k, nil
	}
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	k, fresh := v.cached(kid) // another caller may have fetched meanwhile
	if k != nil && fresh {
		return k, nil
	}
	v.mu.Lock()
	now, tried, have := v.cfg.Now(), v.triedAt, v.keys != nil
	recent := !tried.IsZero() && now.Sub(tried) < v.cfg.MinRefresh
	if !recent {
		v.triedAt = now
	}
	v.mu.Unlock()
	switch {
	case recent && k != nil:
		return k, nil
	case recent && !have:
		return nil, fmt.Errorf("%w: the last fetch failed", ErrKeysUnavailable)
	case recent:
		return nil, fmt.Errorf("%w: unknown key id %q", ErrInvalidToken, kid)
	}
	set, err := v.fetch(ctx)
	if err != nil {
		if k != nil {
			return k, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	v.mu.Lock()
	v.keys, v.fetchedAt = set, now
	v.mu.Unlock()
	if k, _ := v.cached(kid); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unknown key id %q", ErrInvalidToken, kid)
}

// cached finds kid in the cached set, and says whether the set is younger than MaxKeyAge.
func (v *Verifier) cached(kid string) (*jose.JSONWebKey, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys == nil {
		return nil, false
	}
	return v.lookup(kid), v.cfg.Now().Sub(v.fetchedAt) < v.cfg.MaxKeyAge
}

// lookup finds a public signing key by id in the cached set.
func (v *Verifier) lookup(kid string) *jose.JSONWebKey {
	for _, k := range v.keys.Key(kid) {
		if k.Valid() && k.IsPublic() && (k.Use == "" || k.Use == "sig") {
			return &k
		}
	}
	return nil
}

// fetch reads the JWKS.
func (v *Verifier) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", v.cfg.JWKSURL, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("GET %s: %v", v.cfg.JWKSURL, err)
	}
	return &set, nil
}
