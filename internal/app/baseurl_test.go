package app

import (
	"strings"
	"testing"
	"time"
)

func TestCheckBaseURL(t *testing.T) {
	for _, c := range []struct{ base, listen, want, err string }{
		{"", "127.0.0.1:8080", "", ""},
		{"", "localhost:0", "", ""},
		{"", "[::1]:8080", "", ""},
		{"", ":8080", "", "--base-url"},
		{"", "0.0.0.0:8080", "", "--base-url"},
		{"", "[::]:8080", "", "--base-url"},
		{"", "127.0.0.1", "", "--listen"},
		{"http://127.0.0.1:8080", ":8080", "http://127.0.0.1:8080", ""},
		{"https://iam.example.com/", "0.0.0.0:8080", "https://iam.example.com", ""},
		{"https://iam.example.com/keyhold//", "127.0.0.1:8080", "https://iam.example.com/keyhold", ""},
		{"127.0.0.1:8080", "127.0.0.1:8080", "", "absolute http"},
		{"iam.example.com", "127.0.0.1:8080", "", "absolute http"},
		{"ftp://iam.example.com", "127.0.0.1:8080", "", "absolute http"},
		{"https://", "127.0.0.1:8080", "", "host"},
		{"https:iam.example.com", "127.0.0.1:8080", "", "host"},
		{"http://:8080", "127.0.0.1:8080", "", "host"},
		{"http://0.0.0.0:8080", "127.0.0.1:8080", "", "not an address clients can reach"},
		{"http://[::]:8080", "127.0.0.1:8080", "", "not an address clients can reach"},
		{"https://user:pw@iam.example.com", "127.0.0.1:8080", "", "user information"},
		{"https://iam.example.com/?a=b", "127.0.0.1:8080", "", "query"},
		{"https://iam.example.com/?", "127.0.0.1:8080", "", "query"},
		{"https://iam.example.com/#top", "127.0.0.1:8080", "", "fragment"},
		{"https://iam.example.com/#", "127.0.0.1:8080", "", "fragment"},
		{"https://iam example.com", "127.0.0.1:8080", "", "absolute http"},
	} {
		got, err := CheckBaseURL(c.base, c.listen)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("CheckBaseURL(%q, %q): %v", c.base, c.listen, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("CheckBaseURL(%q, %q) = %q, %v; want an error about %q", c.base, c.listen, got, err, c.err)
		case c.err == "" && got != c.want:
			t.Errorf("CheckBaseURL(%q, %q) = %q, want %q", c.base, c.listen, got, c.want)
		}
	}
}

// FuzzCheckBaseURL: no input panics, an accepted URL is accepted again unchanged (the
// normalisation is stable) and never ends in a slash or carries a query or fragment.
func FuzzCheckBaseURL(f *testing.F) {
	for _, s := range []string{"https://iam.example.com/", "127.0.0.1:8080", "http://[::1]:80/a?b#c", "http://u@h", "https:x"} {
		f.Add(s, "127.0.0.1:8080")
	}
	f.Add("", ":8080")
	f.Fuzz(func(t *testing.T, base, listen string) {
		got, err := CheckBaseURL(base, listen)
		if err != nil || got == "" {
			return
		}
		again, err := CheckBaseURL(got, listen)
		if err != nil || again != got {
			t.Fatalf("%q normalised to %q, which checks as %q, %v", base, got, again, err)
		}
		if strings.HasSuffix(got, "/") || strings.ContainsAny(got, "?#") {
			t.Fatalf("%q normalised to %q", base, got)
		}
	})
}

func TestCheckSettingsNamesFlagAndRange(t *testing.T) {
	ok := Config{TokenTTL: MinTokenTTL, SyncInterval: MinSyncInterval, ShutdownTimeout: MinShutdownTimeout, MaxCredentialsPerOwner: 1,
		TokenCacheSize: MinTokenCacheSize, ChangeRetention: MinChangeRetention,
		StoreTimeout: MinStoreTimeout, MaxStaleness: MinMaxStaleness, AuditRetention: MinAuditRetention}
	if err := CheckSettings(&ok); err != nil {
		t.Fatalf("the minimums: %v", err)
	}
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.TokenTTL = 0 }, "--token-ttl 0s: must be between 1m and 24h"},
		{func(c *Config) { c.TokenTTL = 25 * MaxTokenTTL }, "--token-ttl"},
		{func(c *Config) { c.SyncInterval = 0 }, "--sync-interval 0s: must be between 10ms and 1h"},
		{func(c *Config) { c.ChangeRetention = 0 }, "--change-retention 0s: must be between 1m and 720h"},
		{func(c *Config) { c.ChangeRetention = 2 * MaxChangeRetention }, "--change-retention"},
		{func(c *Config) { c.AuditRetention = 0 }, "--audit-retention 0s: must be between 24h and 876000h"},
		{func(c *Config) { c.SyncInterval = -1 }, "--sync-interval"},
		{func(c *Config) { c.ShutdownTimeout = 0 }, "--shutdown-timeout 0s: must be between 1s and 1h"},
		{func(c *Config) { c.MaxCredentialsPerOwner = 0 }, "--max-credentials-per-owner 0: must be between 1 and 1000000"},
		{func(c *Config) { c.MaxCredentialsPerOwner = MaxCredentials + 1 }, "--max-credentials-per-owner"},
		{func(c *Config) { c.TokenCacheSize = 0 }, "--token-cache-size 0: must be between 1 and 100000000"},
		{func(c *Config) { c.TokenCacheSize = MaxTokenCacheSize + 1 }, "--token-cache-size"},
		{func(c *Config) { c.ShedDelay = -time.Millisecond }, "--shed-delay -1ms: must be between 1ms and 1s"},
		{func(c *Config) { c.ShedDelay = 2 * MaxShedDelay }, "--shed-delay"},
	} {
		cfg := ok
		c.mod(&cfg)
		if err := CheckSettings(&cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", cfg, err, c.want)
		}
	}
}
