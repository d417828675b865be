package enforce

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// FuzzVerify: no input makes Verify panic or accept a token not signed by the key the
// verifier holds. The key set is preloaded so that no fetch happens.
func FuzzVerify(f *testing.F) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewVerifier(Config{BaseURL: "https://iam.example.test", HTTPClient: &http.Client{Transport: noNet{}}})
	if err != nil {
		f.Fatal(err)
	}
	v.keys = &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k", Algorithm: "ES256", Use: "sig"}}}
	v.fetchedAt = time.Now().Add(time.Hour)
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv}, (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "k"))
	ws := "0123456789abcdef0123456789abcdef"
	good, _ := jwt.Signed(s).Claims(map[string]any{"iss": "https://iam.example.test/authorization/v2/oauth2/" + ws,
		"aud": "https://iam.example.test", "exp": time.Now().Add(time.Hour).Unix(), "hpe_workspace_id": ws}).Serialize()
	for _, seed := range []string{good, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", good + "x", good[:len(good)-3]} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(context.Background(), raw)
		if err == nil && raw != good {
			// A different string that verifies must carry the same signed content.
			if c.Issuer != "https://iam.example.test/authorization/v2/oauth2/"+ws {
				t.Fatalf("accepted %q", raw)
			}
		}
		if err != nil && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("error %v of no known kind", err)
		}
	})
}

type noNet struct{}

func (noNet) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in fuzzing")
}
