package dpop

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds of a proof's iat: proofs are made for one request, now.
const (
	MaxAge  = 60 * time.Second
	MaxSkew = 5 * time.Second
	maxJTI  = 256
	// MaxProofLen bounds the DPoP header.
	MaxProofLen = 4096
)

// Algorithms a proof may be signed with.
var Algorithms = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA,
}

// AlgorithmNames are Algorithms as strings (for metadata's dpop_signing_alg_values_supported).
func AlgorithmNames() []string {
	out := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		out[i] = string(a)
	}
	return out
}

// Proof is a verified proof.
type Proof struct {
	// JKT is the base64url SHA-256 thumbprint of the proof's key.
	JKT string
	JTI string
	// Nonce is the proof's nonce claim ("" when it has none), for the caller to check
	// (Nonces.Check).
	Nonce string
	// Until is when the proof stops being acceptable (iat + MaxAge): how long its jti must be
	// remembered.
	Until time.Time
}

type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   *int64 `json:"iat"`
	ATH   string `json:"ath"`
	Nonce string `json:"nonce"`
}

// Verify checks a proof for a request with method and url (the URL the client called, which
// the caller builds from its public base URL and the request's path), at now. accessToken,
// when not "", is the token the proof accompanies (its ath must match).
func Verify(proof, method, rawURL, accessToken string, now time.Time) (*Proof, error) {
	if proof == "" || len(proof) > MaxProofLen {
		return nil, errors.New("the DPoP proof is missing or too long")
	}
	jws, err := jose.ParseSignedCompact(proof, Algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errors.New("the DPoP proof is not a JWS with one signature and an allowed algorithm")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, errors.New(`the DPoP proof's typ must be "dpop+jwt"`)
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || !h.JSONWebKey.Valid() {
		return nil, errors.New("the DPoP proof's header must carry a public jwk")
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return nil, errors.New("the DPoP proof's signature does not verify with its jwk")
	}
	var c proofClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.New("the DPoP proof's claims are not valid")
	}
	switch {
	case c.JTI == "" || len(c.JTI) > maxJTI:
		return nil, errors.New("the DPoP proof needs a jti (at most 256 characters)")
	case c.HTM != method:
		return nil, errors.New("the DPoP proof's htm is not this request's method")
	case !sameURL(c.HTU, rawURL):
		return nil, errors.New("the DPoP proof's htu is not this request's URL")
	case c.IAT == nil:
		return nil, errors.New("the DPoP proof needs an iat")
	}
	iat := time.Unix(*c.IAT, 0)
	if iat.After(now.Add(MaxSkew)) || !iat.After(now.Add(-MaxAge)) {
		return nil, errors.New("the DPoP proof's iat is not recent")
	}
	if accessToken != "" && c.ATH != TokenHash(accessToken) {
		return nil, errors.New("the DPoP proof's ath is not the access token's hash")
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, errors.New("the DPoP proof's jwk has no thumbprint")
	}
	return &Proof{JKT: base64.RawURLEncoding.EncodeToString(tp), JTI: c.JTI, Nonce: c.Nonce, Until: iat.Add(MaxAge + MaxSkew)}, nil
}

// TokenHash is an access token's ath: base64url(SHA-256(token)).
func TokenHash(token string) string {
	s := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// sameURL compares htu with the request's URL without query and fragment (RFC 9449 §4.3),
// scheme and host case-insensitively.
func sameURL(htu, want string) bool {
	a, err1 := url.Parse(htu)
	b, err2 := url.Parse(want)
	if err1 != nil || err2 != nil || a.Scheme == "" || a.Host == "" {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.EscapedPath() == b.EscapedPath()
}

// Cache remembers the jtis of accepted proofs until they expire, per key thumbprint. It is
// per node: a proof replayed to another node within its minute is caught only where jtis are
// also recorded in the store (the token endpoint does).
type Cache struct {
	mu   sync.Mutex
	seen map[string]time.Time
	max  int
}

// NewCache returns a cache holding at most max jtis (the oldest are dropped past it, after
// expired ones).
func NewCache(max int) *Cache { return &Cache{seen: map[string]time.Time{}, max: max} }

// Use records p's jti; false when it was used already and has not expired at now.
func (c *Cache) Use(p *Proof, now time.Time) bool {
	key := p.JKT + " " + p.JTI
	c.mu.Lock()
	defer c.mu.Unlock()
	if until, ok := c.seen[key]; ok && now.Before(until) {
		return false
	}
	if len(c.seen) >= c.max {
		for k, until := range c.seen {
			if !now.Before(until) {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= c.max {
			// Still full of live jtis: refuse rather than forget one (fail closed).
			return false
		}
	}
	c.seen[key] = p.Until
	return true
}
