package cluster_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
)

// TestNodeKilledUnderLoad runs three nodes under a steady load of credential creations and
// token requests spread over all of them, SIGKILLs one in the middle, and checks that the
// others keep answering every request, that nothing acknowledged is lost, and that the killed
// node, restarted on the same database, serves what was created while it was down.
func TestNodeKilledUnderLoad(t *testing.T) {
	needProcesses(t)
	const (
		workers   = 6
		loadFor   = 3 * time.Second
		killAfter = loadFor / 2
	)
	db := pgtest.Database(t)
	// The load creates far more credentials than the default per-owner limit allows.
	nodes := startCluster(t, db, 3, "--max-credentials-per-owner", "1000000")
	victim, survivors := nodes[0], nodes[1:]
	boot := bootstrapLine(t, nodes)
	adminTok := mustToken(t, survivors[0].url, boot.WorkspaceID, boot.ClientID, boot.ClientSecret)

	type ack struct {
		clientID, secret string
		node             string
		afterKill        bool // requested after the victim had exited: created while it was down
	}
	var (
		killed     atomic.Bool // set just before SIGKILL is sent
		down       atomic.Bool // set once the victim has exited
		mu         sync.Mutex
		acks       []ack
		failures   []string
		answered   = map[string]int{} // requests answered, per node
		victimErrs int                // connection errors from the victim after the kill
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	// outcome classifies one request: ok is true when n answered want. A request to the
	// victim after the kill may fail with a transport error; anything else is a failure.
	outcome := func(n *node, what string, r reply, err error, want int) (ok bool) {
		switch {
		case err != nil && n == victim && killed.Load() && r.status == 0:
			mu.Lock()
			victimErrs++
			mu.Unlock()
			return false
		case err != nil:
			fail("%s on %s (killed=%v): %v %v", what, n.name, killed.Load(), r, err)
			return false
		case r.status != want:
			fail("%s on %s (killed=%v): want %d, got %v", what, n.name, killed.Load(), want, r)
			return false
		}
		mu.Lock()
		answered[n.name]++
		mu.Unlock()
		return true
	}

	start := time.Now()
	end := start.Add(loadFor)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(end); i++ {
				writer, reader := nodes[(w+i)%len(nodes)], nodes[(w+i+1)%len(nodes)]
				after := down.Load()
				c, r, err := createCredential(writer.url, adminTok, fmt.Sprintf("load-%d-%d", w, i))
				if !outcome(writer, "create", r, err, http.StatusCreated) {
					continue
				}
				mu.Lock()
				acks = append(acks, ack{clientID: c.ClientID, secret: c.ClientSecret, node: writer.name, afterKill: after})
				mu.Unlock()
				// The token comes from another node than the one that created the credential.
				_, r, err = requestToken(reader.url, boot.WorkspaceID, c.ClientID, c.ClientSecret)
				outcome(reader, "token", r, err, http.StatusOK)
			}
		})
	}
	time.Sleep(killAfter)
	killed.Store(true)
	killStart := time.Now()
	victim.kill()
	down.Store(true)
	t.Logf("SIGKILLed %s %s into the load (it exited %s after the signal)", victim.name,
		killStart.Sub(start).Round(time.Millisecond), time.Since(killStart).Round(time.Millisecond))
	wg.Wait()

	for _, f := range failures {
		t.Error(f)
	}
	var beforeKill, whileDown int
	for _, a := range acks {
		if a.afterKill {
			whileDown++
		} else {
			beforeKill++
		}
	}
	t.Logf("load: %d credentials acknowledged (%d requested before the victim was gone, %d after); answers per node %v; %d connection errors from the killed node",
		len(acks), beforeKill, whileDown, answered, victimErrs)
	if beforeKill == 0 || whileDown == 0 || victimErrs == 0 {
		t.Fatalf("the load did not span the kill: %d acknowledged before it, %d while the node was down, %d requests to the killed node failed",
			beforeKill, whileDown, victimErrs)
	}
	if t.Failed() {
		return
	}

	// Nothing acknowledged is lost: every acknowledged credential gets a token from a survivor.
	checkAll := func(who func(i int) *node) {
		t.Helper()
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range 8 {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(acks) {
						return
					}
					a, n := acks[i], who(i)
					if _, r, err := requestToken(n.url, boot.WorkspaceID, a.clientID, a.secret); err != nil || r.status != http.StatusOK {
						fail("acknowledged credential %s (created on %s, while down %v) gets no token from %s: %v %v",
							a.clientID, a.node, a.afterKill, n.name, r, err)
					}
				}
			})
		}
		wg.Wait()
		for _, f := range failures {
			t.Error(f)
		}
	}
	checkAll(func(i int) *node { return survivors[i%len(survivors)] })
	if t.Failed() {
		return
	}

	// The killed node comes back on the same database and serves what was created while it
	// was down (and everything else).
	victim.start(t)
	victim.waitReady(t, 30*time.Second)
	if out := victim.output(t); out != "" {
		t.Errorf("the restarted node printed %q on stdout; a database with a workspace prints no bootstrap line", out)
	}
	checkAll(func(int) *node { return victim })
	t.Logf("after the restart, %s issued tokens for all %d acknowledged credentials (%d created while it was down)",
		victim.name, len(acks), whileDown)
}
