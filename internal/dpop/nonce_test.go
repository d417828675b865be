package dpop

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func nonceKey(t testing.TB, secret string) []byte {
	t.Helper()
	k, err := NonceKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func fixedKeys(keys ...[]byte) *Nonces {
	return &Nonces{Keys: func() [][]byte { return keys }}
}

// The negative table: only nonces made with a held key in an accepted window pass.
func TestNonces(t *testing.T) {
	oldKey, curKey := nonceKey(t, "signing key 1"), nonceKey(t, "signing key 2")
	// Start of a window, so that "later" offsets land in known windows.
	now := time.Unix(1_800_000_000-1_800_000_000%int64(NonceWindow/time.Second), 0)
	node := fixedKeys(curKey, oldKey) // after a rotation: the previous key still held
	other := fixedKeys(curKey, oldKey)
	made, ok := node.Make(now)
	if !ok || len(made) != NonceLen {
		t.Fatalf("Make: %q %v", made, ok)
	}
	underOld, _ := fixedKeys(oldKey).Make(now)
	forged := []byte(made)
	forged[12] = 'A' // a changed MAC byte (the window stays)
	if made[12] == 'A' {
		forged[12] = 'B'
	}
	prevWindow, _ := node.Make(now.Add(-NonceWindow))
	nextWindow, _ := node.Make(now.Add(NonceWindow))
	for name, c := range map[string]struct {
		n     *Nonces
		nonce string
		at    time.Time
		want  NonceState
	}{
		"fresh":                              {node, made, now, NonceValid},
		"on a second node sharing the keys":  {other, made, now.Add(time.Second), NonceValid},
		"late in its window":                 {node, made, now.Add(NonceWindow - time.Second), NonceValid},
		"in the next window (stale)":         {node, made, now.Add(NonceWindow), NonceStale},
		"at the end of the next window":      {node, made, now.Add(2*NonceWindow - time.Second), NonceStale},
		"expired (two windows on)":           {node, made, now.Add(2 * NonceWindow), NonceInvalid},
		"long expired":                       {node, made, now.Add(24 * time.Hour), NonceInvalid},
		"previous window":                    {node, prevWindow, now, NonceStale},
		"next window (a node's clock ahead)": {node, nextWindow, now, NonceValid},
		"two windows ahead":                  {node, made, now.Add(-2 * NonceWindow), NonceInvalid},
		"missing":                            {node, "", now, NonceInvalid},
		"forged MAC":                         {node, string(forged), now, NonceInvalid},
		"made with another secret":           {node, mustMake(t, fixedKeys(nonceKey(t, "elsewhere")), now), now, NonceInvalid},
		"previous key, still held (stale)":   {node, underOld, now, NonceStale},
		"previous key, no longer held":       {fixedKeys(curKey), underOld, now, NonceInvalid},
		"no keys at all":                     {fixedKeys(), made, now, NonceInvalid},
		"padded":                             {node, made + "=", now, NonceInvalid},
		"standard base64":                    {node, strings.NewReplacer("-", "+", "_", "/").Replace(made) + "+", now, NonceInvalid},
	} {
		if got := c.n.Check(c.nonce, c.at); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
	if _, ok := fixedKeys().Make(now); ok {
		t.Error("Make without keys succeeded")
	}
	// Two windows give two unrelated nonces; two keys too.
	if prevWindow == made || underOld == made {
		t.Error("nonces of other windows or keys coincide")
	}
}

func mustMake(t *testing.T, n *Nonces, now time.Time) string {
	t.Helper()
	s, ok := n.Make(now)
	if !ok {
		t.Fatal("no nonce")
	}
	return s
}

// NonceKey is deterministic (every node derives the same key) and separates secrets.
func TestNonceKey(t *testing.T) {
	a, b := nonceKey(t, "s"), nonceKey(t, "s")
	if !bytes.Equal(a, b) || len(a) != 32 || bytes.Equal(a, nonceKey(t, "t")) || bytes.Equal(a, []byte("s")) {
		t.Fatal("NonceKey is not a deterministic 32-byte derivation")
	}
}

// Interesting inputs for ParseNonce and Check, kept as regular test cases (FuzzNonce's seeds).
var nonceCorpus = []string{
	"",
	"AAAAAAAAAAAAAAAAAAAAAAAAAAA",   // the right length, all zero: window 0
	"_____________________________", // too long
	"__________________________8",   // the largest window and MAC bytes, canonical
	"AAAAAAAAAAAAAAAAAAAAAAAAAA",    // one short
	"AAAAAAAAAAAAAAAAAAAAAAAAAA=",   // padding in place of the last character
	"AAAAAAAAAAAAAAAAAAAAAAAAAA\n",  // a newline (the decoder must not skip it)
	"AAAAAAAAAAAAAAAAAAAAAAAAAA.",
	"ÿÿÿÿÿÿÿÿÿÿÿÿÿ",
}

func TestNonceCorpus(t *testing.T) {
	n := fixedKeys(nonceKey(t, "k"))
	now := time.Unix(1_800_000_000, 0)
	for _, s := range nonceCorpus {
		if _, ok := ParseNonce(s); ok && len(s) != NonceLen {
			t.Errorf("ParseNonce(%q) accepted a nonce of length %d", s, len(s))
		}
		if n.Check(s, now) != NonceInvalid {
			t.Errorf("Check(%q) accepted a nonce it did not make", s)
		}
	}
	// Non-canonical encodings (spare bits set) are refused, so a nonce has one spelling.
	if _, ok := ParseNonce("AAAAAAAAAAAAAAAAAAAAAAAAAAB"); ok {
		t.Error("ParseNonce accepted spare bits")
	}
}

// FuzzNonce: no input makes ParseNonce or Check panic; Check accepts only what Make made,
// and whatever ParseNonce accepts re-encodes to itself.
func FuzzNonce(f *testing.F) {
	for _, s := range nonceCorpus {
		f.Add(s)
	}
	key := nonceKey(f, "k")
	n := fixedKeys(key)
	now := time.Unix(1_800_000_000, 0)
	good, _ := n.Make(now)
	f.Add(good)
	f.Fuzz(func(t *testing.T, s string) {
		if w, ok := ParseNonce(s); ok {
			raw, err := base64.RawURLEncoding.DecodeString(s)
			if err != nil || base64.RawURLEncoding.EncodeToString(raw) != s || w != uint32(raw[0])<<24|uint32(raw[1])<<16|uint32(raw[2])<<8|uint32(raw[3]) {
				t.Fatalf("ParseNonce(%q) accepted a non-canonical nonce", s)
			}
		}
		if n.Check(s, now) != NonceInvalid && s != good {
			t.Fatalf("Check accepted %q, which Make did not make", s)
		}
	})
}

// The cost a nonce adds to a DPoP request: one Check (and a Make when it is stale).
func BenchmarkNonceCheck(b *testing.B) {
	n := fixedKeys(nonceKey(b, "current"), nonceKey(b, "previous"))
	now := time.Unix(1_800_000_000, 0)
	nonce, _ := n.Make(now)
	b.ReportAllocs()
	for b.Loop() {
		if n.Check(nonce, now) != NonceValid {
			b.Fatal("refused")
		}
	}
}

// The remembered MACs of the current window follow the keys: a nonce of a key no longer
// held is refused at once, even in the window the memo was made for.
func TestNonceMemoFollowsTheKeys(t *testing.T) {
	a, b := nonceKey(t, "a"), nonceKey(t, "b")
	keys := [][]byte{a}
	n := &Nonces{Keys: func() [][]byte { return keys }}
	now := time.Unix(1_800_000_000, 0)
	underA := mustMake(t, n, now)
	if n.Check(underA, now) != NonceValid {
		t.Fatal("refused its own nonce")
	}
	keys = [][]byte{b}
	if n.Check(underA, now) != NonceInvalid {
		t.Fatal("a nonce of a key no longer held passed (stale memo)")
	}
	if underB := mustMake(t, n, now); underB == underA || n.Check(underB, now) != NonceValid {
		t.Fatal("the new key's nonce")
	}
}
