package credential

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/apperr"
)

// Interesting inputs (some found while fuzzing) with the verdict ValidateAudience must give.
var audienceCases = []struct {
	in string
	ok bool
}{
	{"https://api.example.com", true},
	{"https://api.example.com/v1?x=1", true},
	{"urn:example:billing", true},
	{"http://127.0.0.1:8080/api", true},
	{"", false},
	{"api.example.com", false},
	{"/relative", false},
	{"https://api.example.com#", false},
	{"https://api.example.com/#frag", false},
	{"https:///nohost", false},
	{"https:", false},
	{"https://a b", false},
	{"https://a.example.com/\x00", false},
	{"https://a.example.com/\u00e9", false},
	{"https://%zz", false},
	{":", false},
	{"https://" + strings.Repeat("a", 520), false},
}

func TestValidateAudience(t *testing.T) {
	for _, c := range audienceCases {
		if err := ValidateAudience(c.in); (err == nil) != c.ok {
			t.Errorf("ValidateAudience(%q) = %v, want ok %v", c.in, err, c.ok)
		}
	}
}

func TestValidateTokenSettings(t *testing.T) {
	const maxTTL = 15 * time.Minute
	for _, c := range []struct {
		in    TokenSettingsInput
		ttl   time.Duration
		field string
	}{
		{TokenSettingsInput{}, 0, ""},
		{TokenSettingsInput{TTLSeconds: 60}, time.Minute, ""},
		{TokenSettingsInput{TTLSeconds: 900, Audiences: []string{"urn:a", "urn:b"}}, maxTTL, ""},
		{TokenSettingsInput{TTLSeconds: 59}, 0, "tokenLifetime"},
		{TokenSettingsInput{TTLSeconds: 901}, 0, "tokenLifetime"},
		{TokenSettingsInput{TTLSeconds: -60}, 0, "tokenLifetime"},
		{TokenSettingsInput{Audiences: []string{"urn:a", "urn:a"}}, 0, "audiences"},
		{TokenSettingsInput{Audiences: []string{"nope"}}, 0, "audiences"},
		{TokenSettingsInput{Audiences: make([]string, MaxAudiences+1)}, 0, "audiences"},
		{TokenSettingsInput{Scopes: []string{"glp.workspace.view", "glp.identity.*"}}, 0, ""},
		{TokenSettingsInput{Scopes: []string{"glp.workspace.view", "glp.workspace.view"}}, 0, "scopes"},
		{TokenSettingsInput{Scopes: []string{"glp.nothing.view"}}, 0, "scopes"},
		{TokenSettingsInput{Scopes: []string{"glp.nothing.*"}}, 0, "scopes"},
		{TokenSettingsInput{Scopes: []string{"openid"}}, 0, "scopes"},
		{TokenSettingsInput{Scopes: []string{""}}, 0, "scopes"},
		{TokenSettingsInput{Scopes: []string{"glp.workspace.view glp.identity.view"}}, 0, "scopes"},
		{TokenSettingsInput{Scopes: make([]string, 51)}, 0, "scopes"},
		{TokenSettingsInput{Scopes: []string{"glp.workspace." + strings.Repeat("v", 100), "glp.workspace." + strings.Repeat("w", 100),
			"glp.workspace." + strings.Repeat("x", 100), "glp.workspace." + strings.Repeat("y", 100), "glp.workspace." + strings.Repeat("z", 100),
			"glp.workspace." + strings.Repeat("a", 100), "glp.workspace." + strings.Repeat("b", 100), "glp.workspace." + strings.Repeat("c", 100),
			"glp.workspace." + strings.Repeat("d", 100), "glp.workspace." + strings.Repeat("e", 100)}}, 0, "scopes"},
	} {
		known := func(item string) bool {
			return strings.HasPrefix(item, "glp.workspace.") || strings.HasPrefix(item, "glp.identity.")
		}
		ttl, err := ValidateTokenSettings(c.in, maxTTL, known)
		var ae *apperr.Error
		switch {
		case c.field == "" && (err != nil || ttl != c.ttl):
			t.Errorf("%+v: %v %v, want %v", c.in, ttl, err, c.ttl)
		case c.field != "" && (!errors.As(err, &ae) || !strings.Contains(ae.Error(), c.field)):
			t.Errorf("%+v: %v, want a 400 naming %s", c.in, err, c.field)
		}
	}
}

// FuzzValidateAudience: any string gets an answer without a panic, and an accepted one is
// printable ASCII without a fragment, within the length bound.
func FuzzValidateAudience(f *testing.F) {
	for _, c := range audienceCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateAudience(s) != nil {
			return
		}
		if len(s) == 0 || len(s) > maxAudienceLen || strings.ContainsAny(s, "# \t\r\n") {
			t.Fatalf("accepted %q", s)
		}
	})
}
