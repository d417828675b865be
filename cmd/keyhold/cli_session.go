package main

import (
	"context"
	"fmt"
	"os"

	"github.com/keyhold/keyhold/internal/cliconfig"
)

// configFlags locates the CLI's configuration file.
type configFlags struct {
	Config string `help:"The CLI's configuration file (default: <user configuration directory>/keyhold/config.json; it holds secrets: 0600, refused otherwise)." env:"KEYHOLD_CONFIG" type:"path" placeholder:"FILE"`
}

// path is --config, else the default location.
func (f *configFlags) path() (string, error) {
	if f.Config != "" {
		return f.Config, nil
	}
	return cliconfig.DefaultPath()
}

// load reads the configuration file, returning its path too.
func (f *configFlags) load() (string, *cliconfig.File, error) {
	path, err := f.path()
	if err != nil {
		return "", nil, err
	}
	cfg, err := cliconfig.Load(path)
	return path, cfg, err
}

// apiFlags are the flags of every command that calls keyhold as the logged-in client.
type apiFlags struct {
	configFlags
	Context string `help:"The context (login) to use; default: the current one (keyhold context list)." env:"KEYHOLD_CONTEXT" placeholder:"NAME"`
	Output  string `short:"o" help:"Output format: table (for people) or json (for scripts)." enum:"table,json" default:"table"`
}

// session is what a resource command works with: the client of its context and the
// printer of its output.
type session struct {
	api *apiClient
	out printer
}

// open loads the context and makes its client.
func (f *apiFlags) open(ctx context.Context, g *globals) (*session, error) {
	_, cfg, err := f.load()
	if err != nil {
		return nil, err
	}
	_, c, err := cfg.Resolve(f.Context)
	if err != nil {
		return nil, err
	}
	api, err := newAPIClient(c)
	if err != nil {
		return nil, err
	}
	return &session{api: api, out: printer{w: g.stdout, json: f.Output == "json"}}, nil
}

// note writes a line for people on stderr (never mixed into -o json output).
func note(g *globals, format string, args ...any) {
	fmt.Fprintf(g.stderr, format+"\n", args...)
}

// stdinFile is standard input; tests of login replace nothing here, they run the binary.
var stdinFile = os.Stdin
