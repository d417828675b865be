package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/keyhold/keyhold/internal/cliconfig"
)

// loginCmd stores a context: a server, a workspace and a credential. The secret never comes
// from a flag: a flag's value lands in shell history and in every process listing.
type loginCmd struct {
	configFlags
	Context     string `help:"Name of the context to store (default: default)." default:"default" placeholder:"NAME"`
	BaseURL     string `help:"keyhold's base URL (e.g. https://iam.example.com)." placeholder:"URL"`
	Workspace   string `help:"Id of the workspace whose issuer mints the tokens." placeholder:"ID"`
	Issuer      string `help:"The issuer URL printed with the credential (<base>/authorization/v2/oauth2/<workspace>): gives --base-url and --workspace at once." placeholder:"URL"`
	ClientID    string `help:"The API client credential's client id." required:"" placeholder:"ID"`
	SecretStdin bool   `help:"Read the client secret from standard input (its first line)."`
	SecretFile  string `help:"Read the client secret from this file (its first line)." type:"path" placeholder:"FILE"`
	Insecure    bool   `name:"allow-insecure-http" help:"Accept a plain http:// base URL off loopback (the secret and tokens then cross the network in the clear)."`
}

// Validate resolves --issuer into --base-url and --workspace and checks them.
func (c *loginCmd) Validate() error {
	if c.Issuer != "" {
		if c.BaseURL != "" || c.Workspace != "" {
			return errors.New("--issuer gives the base URL and the workspace: leave out --base-url and --workspace")
		}
		base, ws, err := splitIssuer(c.Issuer)
		if err != nil {
			return err
		}
		c.BaseURL, c.Workspace = base, ws
	}
	if c.BaseURL == "" || c.Workspace == "" {
		return errors.New("give --issuer URL, or --base-url URL and --workspace ID")
	}
	if err := cliconfig.CheckBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("--base-url: %w", err)
	}
	if err := cliconfig.CheckTransport(c.BaseURL, c.Insecure); err != nil {
		return err
	}
	if _, err := workspaceHex(c.Workspace); err != nil {
		return fmt.Errorf("--workspace: %w", err)
	}
	if c.SecretStdin && c.SecretFile != "" {
		return errors.New("--secret-stdin and --secret-file: give one")
	}
	return cliconfig.CheckName(c.Context)
}

// issuerPath is the path of an issuer below the base URL.
const issuerPath = "/authorization/v2/oauth2/"

// splitIssuer splits an issuer URL into its base URL and workspace id.
func splitIssuer(issuer string) (base, ws string, err error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return "", "", fmt.Errorf("--issuer %q: %v", issuer, err)
	}
	i := strings.LastIndex(u.Path, issuerPath)
	if i < 0 || strings.Contains(u.Path[i+len(issuerPath):], "/") {
		return "", "", fmt.Errorf("--issuer %q: not an issuer URL (<base>%s<workspace>)", issuer, issuerPath)
	}
	ws = u.Path[i+len(issuerPath):]
	u.Path = u.Path[:i]
	u.RawPath = ""
	return u.String(), ws, nil
}

// Run reads the secret, proves the credential by fetching a token, and stores the context
// as the current one.
func (c *loginCmd) Run(g *globals) error {
	secret, err := c.readSecret(g)
	if err != nil {
		return err
	}
	lc := cliconfig.Context{BaseURL: strings.TrimRight(c.BaseURL, "/"), WorkspaceID: c.Workspace, ClientID: c.ClientID,
		ClientSecret: secret, AllowInsecureHTTP: c.Insecure}
	if err := lc.Check(); err != nil {
		return err
	}
	api, err := newAPIClient(lc)
	if err != nil {
		return err
	}
	if _, err := api.token(context.Background()); err != nil {
		return err
	}
	path, cfg, err := c.load()
	if err != nil {
		return err
	}
	cfg.Contexts[c.Context] = lc
	cfg.Current = c.Context
	if err := cliconfig.Save(path, cfg); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "logged in to %s (workspace %s) as client %s; context %s saved in %s\n",
		lc.BaseURL, api.wsHex, lc.ClientID, c.Context, path)
	return nil
}

// maxSecret bounds what is read as a secret (keyhold's are 64 hex digits).
const maxSecret = 4096

// readSecret takes the secret from --secret-file, --secret-stdin, or a prompt on the
// terminal that does not echo it.
func (c *loginCmd) readSecret(g *globals) (string, error) {
	var raw []byte
	var err error
	switch {
	case c.SecretFile != "":
		f, ferr := os.Open(c.SecretFile)
		if ferr != nil {
			return "", ferr
		}
		defer f.Close()
		if st, serr := f.Stat(); serr == nil && st.Mode().Perm()&0o077 != 0 {
			note(g, "warning: %s may be read by others (permissions %04o): the secret may have leaked; chmod 600 it, or reset the credential", c.SecretFile, st.Mode().Perm())
		}
		raw, err = io.ReadAll(io.LimitReader(f, maxSecret))
	case c.SecretStdin:
		raw, err = io.ReadAll(io.LimitReader(stdinFile, maxSecret))
	default:
		fd := int(stdinFile.Fd())
		if !term.IsTerminal(fd) {
			return "", errors.New("no terminal to ask for the client secret: use --secret-stdin or --secret-file")
		}
		fmt.Fprint(g.stderr, "Client secret: ")
		raw, err = term.ReadPassword(fd)
		fmt.Fprintln(g.stderr)
	}
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	secret := strings.TrimSpace(first)
	if secret == "" {
		return "", errors.New("the client secret is empty")
	}
	return secret, nil
}

// logoutCmd forgets a context's secret.
type logoutCmd struct {
	configFlags
	Context string `help:"The context to forget (default: the current one)." placeholder:"NAME"`
}

// Run removes the context from the file. The secret stays valid at the server: reset the
// credential to end it there.
func (c *logoutCmd) Run(g *globals) error {
	path, cfg, err := c.load()
	if err != nil {
		return err
	}
	name, _, err := cfg.Resolve(c.Context)
	if err != nil {
		return err
	}
	delete(cfg.Contexts, name)
	if cfg.Current == name {
		cfg.Current = ""
	}
	if err := cliconfig.Save(path, cfg); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "logged out of context %s (its secret is removed from %s; it stays valid at the server until the credential is reset)\n", name, path)
	return nil
}

type contextListCmd struct {
	configFlags
	Output string `short:"o" help:"Output format: table or json (secrets are never printed)." enum:"table,json" default:"table"`
}

// Run lists the contexts, never their secrets.
func (c *contextListCmd) Run(g *globals) error {
	_, cfg, err := c.load()
	if err != nil {
		return err
	}
	items := []object{}
	for _, n := range cfg.Names() {
		lc := cfg.Contexts[n]
		items = append(items, object{"name": n, "current": n == cfg.Current, "baseUrl": lc.BaseURL,
			"workspaceId": lc.WorkspaceID, "clientId": lc.ClientID})
	}
	return printer{w: g.stdout, json: c.Output == "json"}.list(items,
		cols("NAME=name", "CURRENT=current", "BASE URL=baseUrl", "WORKSPACE=workspaceId", "CLIENT ID=clientId"))
}

type contextUseCmd struct {
	configFlags
	Name string `arg:"" help:"The context to make current."`
}

func (c *contextUseCmd) Run(g *globals) error {
	path, cfg, err := c.load()
	if err != nil {
		return err
	}
	if _, _, err := cfg.Resolve(c.Name); err != nil {
		return err
	}
	cfg.Current = c.Name
	if err := cliconfig.Save(path, cfg); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "current context: %s\n", c.Name)
	return nil
}

type contextDeleteCmd struct {
	configFlags
	Name string `arg:"" help:"The context to delete (its secret is removed from the file)."`
}

func (c *contextDeleteCmd) Run(g *globals) error {
	return (&logoutCmd{configFlags: c.configFlags, Context: c.Name}).Run(g)
}

// contextCmd groups the context commands.
type contextCmd struct {
	List   contextListCmd   `cmd:"" help:"List the stored contexts (no secrets)."`
	Use    contextUseCmd    `cmd:"" help:"Make a context the current one."`
	Delete contextDeleteCmd `cmd:"" help:"Delete a context and its stored secret."`
}
