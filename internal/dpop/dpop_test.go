package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func sign(t *testing.T, k *ecdsa.PrivateKey, typ string, c map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerify(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	const u = "https://kh.example/api/x"
	base := func() map[string]any {
		return map[string]any{"jti": "j", "htm": "GET", "htu": u, "iat": now.Unix(), "ath": TokenHash("tok")}
	}
	for name, c := range map[string]struct {
		typ    string
		change func(map[string]any)
		ok     bool
	}{
		"good":                 {"dpop+jwt", func(map[string]any) {}, true},
		"htu with a query":     {"dpop+jwt", func(m map[string]any) { m["htu"] = u + "?a=b" }, true},
		"htu host in capitals": {"dpop+jwt", func(m map[string]any) { m["htu"] = "https://KH.example/api/x" }, true},
		"wrong typ":            {"JWT", func(map[string]any) {}, false},
		"other path":           {"dpop+jwt", func(m map[string]any) { m["htu"] = "https://kh.example/api/y" }, false},
		"other scheme":         {"dpop+jwt", func(m map[string]any) { m["htu"] = "http://kh.example/api/x" }, false},
		"ath of another":       {"dpop+jwt", func(m map[string]any) { m["ath"] = TokenHash("other") }, false},
		"iat too old":          {"dpop+jwt", func(m map[string]any) { m["iat"] = now.Add(-MaxAge).Unix() }, false},
		"iat ahead":            {"dpop+jwt", func(m map[string]any) { m["iat"] = now.Add(MaxSkew + time.Second).Unix() }, false},
		"iat as a string":      {"dpop+jwt", func(m map[string]any) { m["iat"] = "now" }, false},
	} {
		m := base()
		c.change(m)
		_, err := Verify(sign(t, k, c.typ, m), "GET", u, "tok", now)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok %v", name, err, c.ok)
		}
	}
}

func TestCacheRefusesReplaysAndStaysBounded(t *testing.T) {
	c := NewCache(2)
	now := time.Unix(1_800_000_000, 0)
	p := &Proof{JKT: "k", JTI: "1", Until: now.Add(time.Minute)}
	if !c.Use(p, now) || c.Use(p, now) {
		t.Fatal("first use refused or replay accepted")
	}
	if !c.Use(&Proof{JKT: "k", JTI: "2", Until: now.Add(time.Minute)}, now) {
		t.Fatal("a new jti refused")
	}
	if c.Use(&Proof{JKT: "k", JTI: "3", Until: now.Add(time.Minute)}, now) {
		t.Fatal("a full cache of live jtis accepted one more (it must fail closed)")
	}
	later := now.Add(2 * time.Minute)
	if !c.Use(&Proof{JKT: "k", JTI: "3", Until: later.Add(time.Minute)}, later) || !c.Use(p, later) {
		t.Fatal("expired jtis were not dropped")
	}
}

// FuzzVerify: no proof makes Verify panic, and none without a valid signature passes.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.e30.",
		"eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIn19.e30.AA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Verify(s, "GET", "https://kh.example/x", "", time.Now())
	})
}
