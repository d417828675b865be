package token

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// TestWireClaims holds Mint's encoding of the claims to encoding/json's encoding of Claims.
func TestWireClaims(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	base := func() *Claims {
		return &Claims{Issuer: "https://iam.example.com/authorization/v2/oauth2/0192f3a45b6c7d8e9fab00000000000a",
			Subject: "api-client:x", Audience: jwt.Audience{"https://iam.example.com"}, IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(15 * time.Minute)), ID: "0123456789abcdef",
			ClientID: "c", TokenType: TokenTypeHPE, WorkspaceID: "0192f3a45b6c7d8e9fab00000000000a", PrincipalType: "api-client",
			Generation: 3}
	}
	cases := map[string]func(c *Claims){
		"minimal":   func(*Claims) {},
		"provision": func(c *Claims) { c.ProvisionID = "p-1" },
		"scope":     func(c *Claims) { c.Scope = "a b" },
		"actor":     func(c *Claims) { c.Act = &Actor{Subject: "user:u", WorkspaceID: "w", ClientID: "k"} },
		"escapes": func(c *Claims) {
			c.Audience = jwt.Audience{"https://h/<a>&b\u2028\"\\"}
			c.Subject, c.ClientID = "bad\xffutf8", "ctl\x01"
		},
		"negative and zero times": func(c *Claims) {
			c.IssuedAt, c.NotBefore, c.Expiry = jwt.NewNumericDate(time.Unix(0, 0)), jwt.NewNumericDate(time.Unix(-5, 0)), jwt.NewNumericDate(time.Unix(1<<40, 0))
		},
	}
	for name, f := range cases {
		c := base()
		f(c)
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(c.wire())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}
