package clientauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2001:4860:4860::8888": true,
		"127.0.0.1": false, "::1": false, "10.0.0.1": false, "172.16.5.4": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::": false, "fc00::1": false,
		"fe80::1": false, "224.0.0.1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "0.1.2.3": false,
	} {
		if got := publicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestVerifyTimes(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k"}}}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	now := time.Unix(1_800_000_000, 0)
	sign := func(exp time.Time) string {
		s, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "c", Subject: "c", ID: "j", Audience: jwt.Audience{"aud"},
			Expiry: jwt.NewNumericDate(exp)}).Serialize()
		return s
	}
	for _, c := range []struct {
		exp    time.Time
		reason string
	}{
		{now.Add(time.Minute), ""},
		{now.Add(MaxLifetime), ""},
		{now.Add(MaxLifetime + time.Second), FailLifetime},
		{now.Add(-Leeway + time.Second), ""},
		{now.Add(-Leeway), FailExpired},
	} {
		p, err := Parse(sign(c.exp))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = p.Verify(set, "c", []string{"aud"}, now)
		if got := ""; err != nil {
			got = Reason(err)
			if got != c.reason {
				t.Errorf("exp now%+v: %q, want %q", c.exp.Sub(now), got, c.reason)
			}
		} else if c.reason != "" {
			t.Errorf("exp now%+v: accepted, want %q", c.exp.Sub(now), c.reason)
		}
	}
}

// FuzzParse: any assertion parses or is refused, without a panic; whatever parses is not
// verified by an empty key set.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "....", "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.bnVsbA.AA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		if _, _, err := p.Verify(&jose.JSONWebKeySet{}, p.ClientID, []string{"a"}, time.Now()); err == nil {
			t.Fatalf("%q verified without keys", s)
		}
	})
}

// FuzzParseKeySet: a registered key set is accepted only when every key is a public signing
// key; never a panic.
func FuzzParseKeySet(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k"}}})
	f.Add(good)
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		set, err := ParseKeySet(raw)
		if err != nil {
			return
		}
		for _, k := range set.Keys {
			if !k.IsPublic() {
				t.Fatalf("accepted a key that is not public: %s", raw)
			}
		}
	})
}
