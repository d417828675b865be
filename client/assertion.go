package client

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// assertionType is RFC 7523's client_assertion_type.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long an assertion is valid: keyhold accepts at most 5 minutes.
const assertionLifetime = time.Minute

// asserter signs private_key_jwt client assertions.
type asserter struct {
	signer   jose.Signer
	clientID string
}

func newAsserter(key crypto.Signer, kid, clientID string) (*asserter, error) {
	var alg jose.SignatureAlgorithm
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("keyhold client: ECDSA keys must be P-256 (ES256)")
		}
		alg = jose.ES256
	case ed25519.PublicKey:
		alg = jose.EdDSA
	case *rsa.PublicKey:
		alg = jose.RS256
	default:
		return nil, errors.New("keyhold client: PrivateKey must be ECDSA P-256, Ed25519 or RSA")
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return nil, err
	}
	return &asserter{signer: s, clientID: clientID}, nil
}

// params are the form parameters of one request: a fresh assertion (new jti, one minute of
// life) whose audience is the token endpoint.
func (a *asserter) params(tokenURL string) (url.Values, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return nil, err
	}
	now := time.Now()
	raw, err := jwt.Signed(a.signer).Claims(jwt.Claims{Issuer: a.clientID, Subject: a.clientID,
		Audience: jwt.Audience{tokenURL}, ID: hex.EncodeToString(jti), IssuedAt: jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(assertionLifetime))}).Serialize()
	if err != nil {
		return nil, err
	}
	return url.Values{"client_assertion_type": {assertionType}, "client_assertion": {raw}}, nil
}
