package cluster_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
)

// algKID reads a token's header.
func algKID(t *testing.T, tok string) (string, string) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg, h.Kid
}

// Changing the signing algorithm on PostgreSQL is a rolling operation. Restarting one node
// with another --signing-alg used to replace the key and break the others, and `keys rotate
// --signing-alg EdDSA` against ES256 nodes stopped issuance until restart. Now: nodes with
// different --signing-alg share the store's key; after the rotation every node signs with the
// EdDSA key (no restart) and verifies every token of every node; a node restarted with yet
// another --signing-alg keeps signing with the store's key.
func TestSigningAlgorithmChangeOnTwoNodes(t *testing.T) {
	needProcesses(t)
	db := pgtest.Database(t)
	addrs := freeAddrs(t, 3)
	n1 := newNode(t, "node1", addrs[0], db) // ES256, the default
	n1.start(t)
	n1.waitReady(t, 60*time.Second)
	n2 := newNode(t, "node2", addrs[1], db, "--signing-alg", "EdDSA")
	n2.start(t)
	n2.waitReady(t, 60*time.Second)
	boot := bootstrapLine(t, []*node{n1, n2})
	tok := func(n *node) string { return mustToken(t, n.url, boot.WorkspaceID, boot.ClientID, boot.ClientSecret) }
	verifiedEverywhere := func(what string, toks map[string]string, nodes ...*node) {
		t.Helper()
		for _, n := range nodes {
			for name, tk := range toks {
				if _, r, err := listCredentials(n.url, tk); err != nil || r.status != http.StatusOK {
					t.Errorf("%s: %s's token on %s: %v %v", what, name, n.name, r, err)
				}
			}
		}
	}

	es1, es2 := tok(n1), tok(n2)
	a1, k1 := algKID(t, es1)
	a2, k2 := algKID(t, es2)
	if a1 != "ES256" || a2 != "ES256" || k1 != k2 {
		t.Fatalf("before the rotation node1 signs %s/%s, node2 (--signing-alg EdDSA) %s/%s; want one ES256 key", a1, k1, a2, k2)
	}
	verifiedEverywhere("before the rotation", map[string]string{"node1": es1, "node2": es2}, n1, n2)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "keys", "rotate", "--database", db, "--signing-alg", "EdDSA")
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	var res struct{ KID string }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("keys rotate printed %q: %v", out, err)
	}
	// Every node picks the new key up within its sync interval (at once on NOTIFY), and never
	// stops issuing meanwhile.
	newTokens := map[string]string{}
	for _, n := range []*node{n1, n2} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			tk := tok(n)
			if alg, kid := algKID(t, tk); alg == "EdDSA" && kid == res.KID {
				newTokens[n.name] = tk
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not sign with the new EdDSA key %s", n.name, res.KID)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	newTokens["node1 before"], newTokens["node2 before"] = es1, es2
	verifiedEverywhere("after the rotation", newTokens, n1, n2)

	// node1 restarted with yet another --signing-alg: it and node2 keep the store's key.
	n1.kill()
	n3 := newNode(t, "node1-restarted", addrs[2], db, "--signing-alg", "RS256")
	n3.start(t)
	n3.waitReady(t, 60*time.Second)
	for _, n := range []*node{n2, n3} {
		if alg, kid := algKID(t, tok(n)); alg != "EdDSA" || kid != res.KID {
			t.Errorf("after a node restarted with --signing-alg RS256, %s signs %s/%s", n.name, alg, kid)
		}
	}
	verifiedEverywhere("after the restart", newTokens, n2, n3)
}
