package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"

	"github.com/keyhold/keyhold/internal/audit"
	"github.com/keyhold/keyhold/internal/storage"
)

type auditVerifyCmd struct {
	storeFlags
}

// errChainBroken makes `keyhold audit verify` exit non-zero once it has printed the breaks.
var errChainBroken = errors.New("the audit log's hash chains are broken (see above)")

// Run checks every chain and prints, per chain, its extent and head hash (keep them: a later
// run that finds other heads for the same sequence numbers shows a rewritten chain), then
// every break it found.
func (c *auditVerifyCmd) Run(g *globals) error {
	ctx := context.Background()
	st, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	reports, err := audit.Verify(ctx, st)
	if err != nil {
		return err
	}
	broken := 0
	for _, r := range reports {
		chain := r.Head.Chain
		if chain == "" {
			chain = "platform"
		}
		fmt.Fprintf(g.stdout, "chain %s: %d records, seq %d..%d, head %s\n", chain, r.Records, r.Head.AnchorSeq+1, r.Head.Seq, r.Head.Hash)
		for _, p := range r.Problems {
			fmt.Fprintf(g.stdout, "  BROKEN %s\n", p)
			broken++
		}
	}
	if broken > 0 {
		return errChainBroken
	}
	fmt.Fprintf(g.stdout, "ok: %d chains verified\n", len(reports))
	return nil
}

// operatorContext carries the audit actor of an operator command's writes: the platform
// chain, the principal "operator:<os user>" on this host.
func operatorContext(ctx context.Context, command string) context.Context {
	who := "operator"
	if u, err := user.Current(); err == nil {
		who += ":" + u.Username
	}
	host, _ := os.Hostname()
	return storage.WithAudit(ctx, &storage.AuditActor{Principal: who, SourceAddr: host,
		Category: audit.CategoryOperator, Action: "keyhold " + command,
		Describe: audit.Describer("", who, "(keyhold "+command+")")})
}
