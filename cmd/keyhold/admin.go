package main

import (
	"context"
	"time"

	"github.com/keyhold/keyhold/internal/workspace"
)

// adminCmd holds the commands of an operator with access to the store, which need no token.
type adminCmd struct {
	Recover adminRecoverCmd `cmd:"" help:"Make a user administrator of a workspace again and issue it a new credential; prints the secret once. For a workspace that lost its last administrator, or a lost bootstrap line."`
}

type adminRecoverCmd struct {
	storeFlags
	Workspace             string `help:"The workspace: its id, or its exact name." required:""`
	Email                 string `help:"Email of the user to make administrator (created if the platform does not know it; default: the workspace's creator, its first administrator)."`
	PlatformAdministrator bool   `help:"Also assign glp.platform-administrator on grn:glp (counted for this workspace's tokens)."`
	BaseURL               string `help:"The server's public base URL, for the issuer printed (default: the one the server last started on the store recorded)." env:"KEYHOLD_BASE_URL"`
}

// Validate checks --base-url when it is given.
func (c *adminRecoverCmd) Validate() error {
	if err := c.storeFlags.Validate(); err != nil {
		return err
	}
	return checkPrintedBaseURL(c.BaseURL)
}

// Run (re)assigns glp.workspace-administrator on the whole workspace to the user and prints
// a new credential for it as one JSON line, shaped like the bootstrap line. A running server
// sees the change at once (see workspace.RecoverAdmin).
func (c *adminRecoverCmd) Run(g *globals) error {
	ctx := operatorContext(context.Background(), "admin recover")
	st, iss, err := openForIssuing(ctx, &c.storeFlags, c.BaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := workspace.RecoverAdmin(ctx, st, workspace.RecoverInput{Workspace: c.Workspace, Email: c.Email,
		PlatformAdmin: c.PlatformAdministrator, IssuerURL: iss.IssuerURL, Now: time.Now()})
	if err != nil {
		return err
	}
	return printJSON(g.stdout, created)
}
