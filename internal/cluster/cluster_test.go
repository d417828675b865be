package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
	"github.com/keyhold/keyhold/internal/credential"
	"github.com/keyhold/keyhold/internal/grn"
	"github.com/keyhold/keyhold/internal/ids"
	"github.com/keyhold/keyhold/internal/principal"
	"github.com/keyhold/keyhold/internal/rbac"
	"github.com/keyhold/keyhold/internal/storage"
	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
	"github.com/keyhold/keyhold/internal/workspace"
)

// pollEvery and pollFor bound the propagation polls: every 5 ms, for at most 3 s. Only the
// documented bound (sync interval plus slack) is asserted; the measured times are logged.
const (
	pollEvery = 5 * time.Millisecond
	pollFor   = 3 * time.Second
)

// TestThreeNodes runs three keyhold processes on one fresh database, started together, and
// checks what docs/operations.md promises of such a cluster.
func TestThreeNodes(t *testing.T) {
	needProcesses(t)
	db := pgtest.Database(t)
	nodes := startCluster(t, db, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]

	boot := bootstrapLine(t, nodes)
	wantIssuer := baseURL + "/authorization/v2/oauth2/" + ids.Hex(boot.WorkspaceID)
	if boot.Issuer != wantIssuer || boot.TokenURL != wantIssuer+"/token" {
		t.Fatalf("bootstrap issuer %q, token URL %q: want %q (the shared --base-url)", boot.Issuer, boot.TokenURL, wantIssuer)
	}
	adminTok := mustToken(t, n1.url, boot.WorkspaceID, boot.ClientID, boot.ClientSecret)
	// A token issued by one node is honoured by every other (same base URL, one signing key).
	for _, n := range nodes {
		if _, r, err := listCredentials(n.url, adminTok); err != nil || r.status != http.StatusOK {
			t.Fatalf("admin token from node1 on %s: %v %v", n.name, r, err)
		}
	}

	t.Run("CreatedOnNode1TokenFromNode2AtOnce", func(t *testing.T) {
		c, r, err := createCredential(n1.url, adminTok, "made-on-node1")
		if err != nil || r.status != http.StatusCreated {
			t.Fatalf("create on node1: %v %v", r, err)
		}
		// No sleep and no retry: node2 does not know the client id yet and syncs on the miss.
		tok, r, err := requestToken(n2.url, boot.WorkspaceID, c.ClientID, c.ClientSecret)
		if err != nil || tok == "" {
			t.Fatalf("token from node2 right after the create on node1: %v %v", r, err)
		}
		if _, r, err := listCredentials(n2.url, tok); err != nil || r.status != http.StatusOK {
			t.Fatalf("new credential's token on node2: %v %v", r, err)
		}
	})

	// A token is honoured on every node the moment it is issued, even when its credential was
	// created or reset on another node a moment before (docs/operations.md: "a token issued by
	// one node is verified by any other"), and a reset's new secret works on every node at once.
	// Several rounds, each with no sleep and no retry.
	t.Run("FreshTokenAcceptedOnEveryNodeAtOnce", func(t *testing.T) {
		c, r, err := createCredential(n1.url, adminTok, "fresh-tokens")
		if err != nil || r.status != http.StatusCreated {
			t.Fatalf("create on node1: %v %v", r, err)
		}
		tok := mustToken(t, n2.url, boot.WorkspaceID, c.ClientID, c.ClientSecret)
		if _, r, err := listCredentials(n3.url, tok); err != nil || r.status != http.StatusOK {
			t.Fatalf("token from node2 of a credential created on node1, used on node3 at once: %v %v", r, err)
		}
		for round := range 10 {
			writer, issuer := nodes[round%3], nodes[(round+1)%3]
			r, err := call(http.MethodPost, writer.url+"/workspaces/v1/credentials/"+c.ID+"/reset", adminTok, nil)
			var reset createdCredential
			if err == nil && r.status == http.StatusOK {
				err = json.Unmarshal(r.body, &reset)
			}
			if err != nil || r.status != http.StatusOK {
				t.Fatalf("round %d: reset on %s: %v %v", round, writer.name, r, err)
			}
			// Another node accepts the new secret at once, and every node honours the token
			// issued under the new generation, whichever node issued it.
			for _, from := range []*node{issuer, writer} {
				tok, r, err := requestToken(from.url, boot.WorkspaceID, c.ClientID, reset.ClientSecret)
				if err != nil || tok == "" {
					t.Fatalf("round %d: new secret on %s right after the reset on %s: %v %v", round, from.name, writer.name, r, err)
				}
				for _, n := range nodes {
					if _, r, err := listCredentials(n.url, tok); err != nil || r.status != http.StatusOK {
						t.Fatalf("round %d: token issued by %s right after the reset on %s, used on %s at once: %v %v",
							round, from.name, writer.name, n.name, r, err)
					}
				}
			}
		}
	})

	t.Run("ResetOnNode1RefusedOnNodes2And3", func(t *testing.T) {
		c, r, err := createCredential(n1.url, adminTok, "to-reset")
		if err != nil || r.status != http.StatusCreated {
			t.Fatalf("create on node1: %v %v", r, err)
		}
		oldTok := mustToken(t, n1.url, boot.WorkspaceID, c.ClientID, c.ClientSecret)
		// Before the reset, nodes 2 and 3 know the credential, accept its secret and have
		// verified (and cached) the old token.
		for _, n := range []*node{n2, n3} {
			mustToken(t, n.url, boot.WorkspaceID, c.ClientID, c.ClientSecret)
			if _, r, err := listCredentials(n.url, oldTok); err != nil || r.status != http.StatusOK {
				t.Fatalf("old token on %s before the reset: %v %v", n.name, r, err)
			}
		}

		r, err = call(http.MethodPost, n1.url+"/workspaces/v1/credentials/"+c.ID+"/reset", adminTok, nil)
		resetDone := time.Now()
		if err != nil || r.status != http.StatusOK {
			t.Fatalf("reset on node1: %v %v", r, err)
		}
		var reset createdCredential
		if err := json.Unmarshal(r.body, &reset); err != nil || reset.ClientSecret == "" || reset.ClientSecret == c.ClientSecret {
			t.Fatalf("reset answer %s: %v", r.body, err)
		}

		type result struct {
			secret, token time.Duration // since the reset's 200; 0 until refused
			err           error
		}
		results := make([]result, 2)
		var wg sync.WaitGroup
		for i, n := range []*node{n2, n3} {
			wg.Go(func() {
				res := &results[i]
				for res.secret == 0 || res.token == 0 {
					if time.Since(resetDone) > pollFor {
						res.err = fmt.Errorf("%s still accepts the old secret or token %s after the reset", n.name, pollFor)
						return
					}
					if res.secret == 0 {
						_, r, err := requestToken(n.url, boot.WorkspaceID, c.ClientID, c.ClientSecret)
						switch {
						case err != nil:
							res.err = fmt.Errorf("%s token endpoint: %v", n.name, err)
							return
						case r.status == http.StatusUnauthorized:
							res.secret = time.Since(resetDone)
						case r.status != http.StatusOK:
							res.err = fmt.Errorf("%s, old secret: want 200 or 401, got %v", n.name, r)
							return
						}
					}
					if res.token == 0 {
						_, r, err := listCredentials(n.url, oldTok)
						switch {
						case err != nil:
							res.err = fmt.Errorf("%s list: %v", n.name, err)
							return
						case r.status == http.StatusUnauthorized:
							res.token = time.Since(resetDone)
						case r.status != http.StatusOK:
							res.err = fmt.Errorf("%s, old token: want 200 or 401, got %v", n.name, r)
							return
						}
					}
					time.Sleep(pollEvery)
				}
			})
		}
		wg.Wait()
		for i, n := range []*node{n2, n3} {
			res := results[i]
			if res.err != nil {
				t.Fatal(res.err)
			}
			t.Logf("propagation: reset on node1 -> old secret refused on %s after %s, old token refused after %s",
				n.name, res.secret.Round(100*time.Microsecond), res.token.Round(100*time.Microsecond))
			if res.secret > bound || res.token > bound {
				t.Errorf("%s refused the old secret after %s and the old token after %s: the bound is %s",
					n.name, res.secret, res.token, bound)
			}
		}
		// The new secret works everywhere, and its token too.
		for _, n := range []*node{n2, n3} {
			tok := mustToken(t, n.url, boot.WorkspaceID, c.ClientID, reset.ClientSecret)
			for _, m := range nodes {
				if _, r, err := listCredentials(m.url, tok); err != nil || r.status != http.StatusOK {
					t.Fatalf("new token from %s on %s: %v %v", n.name, m.name, r, err)
				}
			}
		}
	})

	t.Run("AssignmentDeleteChangesDecisionsOnNode3", func(t *testing.T) {
		ctx := context.Background()
		st, err := app.OpenStore(ctx, db, "")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		obs, assignmentID := observer(t, st, boot.WorkspaceID)

		tok := mustToken(t, n3.url, boot.WorkspaceID, obs.ClientID, obs.Secret)
		for _, n := range nodes {
			if _, r, err := listCredentials(n.url, tok); err != nil || r.status != http.StatusOK {
				t.Fatalf("observer lists on %s before the delete: %v %v", n.name, r, err)
			}
		}
		if r, err := call(http.MethodPost, n3.url+"/workspaces/v1/credentials", tok, map[string]string{"credentialName": "x"}); err != nil || r.status != http.StatusForbidden {
			t.Fatalf("observer create on node3: want 403, got %v %v", r, err)
		}

		if err := st.DeleteAssignment(ctx, assignmentID); err != nil {
			t.Fatal(err)
		}
		deleted := time.Now()
		// Node 3 is the one the brief names; nodes 1 and 2 are measured as well.
		took := make([]time.Duration, len(nodes))
		errs := make([]error, len(nodes))
		var wg sync.WaitGroup
		for i, n := range nodes {
			wg.Go(func() {
				for {
					if time.Since(deleted) > pollFor {
						errs[i] = fmt.Errorf("%s still lets the observer list %s after its assignment was deleted", n.name, pollFor)
						return
					}
					_, r, err := listCredentials(n.url, tok)
					switch {
					case err != nil:
						errs[i] = fmt.Errorf("%s list: %v", n.name, err)
						return
					case r.status == http.StatusForbidden:
						took[i] = time.Since(deleted)
						return
					case r.status != http.StatusOK:
						errs[i] = fmt.Errorf("%s, observer list: want 200 or 403, got %v", n.name, r)
						return
					}
					time.Sleep(pollEvery)
				}
			})
		}
		wg.Wait()
		for i, n := range nodes {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			t.Logf("propagation: assignment deleted through the store -> observer's list answered 403 on %s after %s",
				n.name, took[i].Round(100*time.Microsecond))
			if took[i] > bound {
				t.Errorf("%s answered 403 after %s: the bound is %s", n.name, took[i], bound)
			}
		}
	})

	t.Run("WorkspaceCreatedByCLIUsableOnEveryNode", func(t *testing.T) {
		cmd := exec.Command(binary(t), "workspace", "create", "--database", db, "--name", "made-by-cli",
			"--admin-email", "cli-admin@example.test", "--base-url", baseURL)
		cmd.Env = cleanEnv()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("keyhold workspace create: %v\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
		}
		var ws workspace.Created
		if err := json.Unmarshal(stdout.Bytes(), &ws); err != nil || ws.WorkspaceID == "" || ws.ClientSecret == "" {
			t.Fatalf("workspace create printed %q: %v", stdout.Bytes(), err)
		}
		if want := baseURL + "/authorization/v2/oauth2/" + ids.Hex(ws.WorkspaceID) + "/token"; ws.TokenURL != want {
			t.Errorf("printed token URL %q, want %q", ws.TokenURL, want)
		}
		// At once, on all three nodes together: no sleep, no retry.
		toks := make([]string, len(nodes))
		errs := make([]error, len(nodes))
		var wg sync.WaitGroup
		for i, n := range nodes {
			wg.Go(func() {
				tok, r, err := requestToken(n.url, ws.WorkspaceID, ws.ClientID, ws.ClientSecret)
				if err != nil || tok == "" {
					errs[i] = fmt.Errorf("token for the CLI's workspace from %s: %v %v", n.name, r, err)
					return
				}
				toks[i] = tok
				listed, r, err := listCredentials(n.url, tok)
				if err != nil || r.status != http.StatusOK {
					errs[i] = fmt.Errorf("list in the CLI's workspace on %s: %v %v", n.name, r, err)
					return
				}
				if !slices.Contains(listed, ws.ClientID) {
					errs[i] = fmt.Errorf("list on %s does not show the CLI's credential: %v", n.name, listed)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if t.Failed() {
			return
		}
		// The new workspace is separate from the first one: its list does not show the
		// bootstrap administrator's credential.
		listed, _, _ := listCredentials(n1.url, toks[0])
		if slices.Contains(listed, boot.ClientID) {
			t.Errorf("the CLI's workspace lists the first workspace's credential")
		}
	})
}

// principalSetup is a user made directly through the store, with one credential.
type principalSetup struct {
	UserID, ClientID, Secret string
}

// observer makes, through the store as internal/app/apptest's UserWithRole does, a member of
// workspaceID holding glp.workspace-observer on the whole workspace, with one credential. It
// returns the user and the assignment's id.
func observer(t *testing.T, st storage.Store, workspaceID string) (principalSetup, string) {
	t.Helper()
	ctx, now := context.Background(), time.Now().UTC().Truncate(time.Microsecond)
	u := &storage.User{ID: ids.New(), Email: ids.New() + "@example.test", Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := st.AddMember(ctx, workspaceID, u.ID, now); err != nil {
		t.Fatal(err)
	}
	g, err := grn.Workspace(grn.DefaultPlatform, workspaceID)
	if err != nil {
		t.Fatal(err)
	}
	a := &storage.Assignment{ID: ids.New(), WorkspaceID: workspaceID, Subject: principal.User(u.ID),
		RoleID: rbac.PredefinedRoleID(rbac.RoleWorkspaceObserver), Scopes: []string{g.String()}, Source: "LOCAL",
		Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	secret, hash := credential.NewSecret()
	c := &storage.Credential{ID: ids.New(), WorkspaceID: workspaceID, OwnerID: u.ID, Name: "observer-" + u.ID[:8],
		SecretHash: hash, Generation: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateCredential(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	return principalSetup{UserID: u.ID, ClientID: c.ID, Secret: secret}, a.ID
}
