package cliconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
)

// EnvPath names the variable that overrides the file's location (as --config does).
const EnvPath = "KEYHOLD_CONFIG"

// maxSize bounds the file read: a config with a few contexts is a few KiB.
const maxSize = 1 << 20

// Context is one keyhold server and the credential that logs in to it.
type Context struct {
	// BaseURL is the server's public base URL (scheme, host, optional path; no query).
	BaseURL string `json:"baseUrl"`
	// WorkspaceID is the workspace whose issuer mints the tokens (32 hex digits or a UUID).
	WorkspaceID string `json:"workspaceId"`
	// ClientID and ClientSecret are the API client credential.
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	// AllowInsecureHTTP accepts a plain http:// base URL off loopback, where the secret and
	// the tokens cross the network in the clear (login --allow-insecure-http).
	AllowInsecureHTTP bool `json:"allowInsecureHttp,omitempty"`
}

// File is the whole configuration: the contexts by name and the one in use.
type File struct {
	Current  string             `json:"current,omitempty"`
	Contexts map[string]Context `json:"contexts"`
}

// nameRE is what a context name may be: it is typed on command lines and shown in tables.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// CheckName refuses a context name that is empty, too long or holds other characters than
// letters, digits, '.', '_' and '-'.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("context name %q: 1 to 63 letters, digits, '.', '_' or '-', a letter or digit first", name)
	}
	return nil
}

// CheckBaseURL refuses a base URL that is not absolute http(s) or carries a query,
// fragment or user information.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("base URL %q: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("base URL %q: must start with http:// or https://", raw)
	case u.Host == "":
		return fmt.Errorf("base URL %q: has no host", raw)
	case u.User != nil:
		return fmt.Errorf("base URL %q: must not carry user information (the secret is never part of a URL)", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("base URL %q: must not have a query or fragment", raw)
	}
	return nil
}

// Check validates a context as read from the file or about to be written.
func (c Context) Check() error {
	if err := CheckBaseURL(c.BaseURL); err != nil {
		return err
	}
	if err := CheckTransport(c.BaseURL, c.AllowInsecureHTTP); err != nil {
		return err
	}
	if c.WorkspaceID == "" || c.ClientID == "" || c.ClientSecret == "" {
		return errors.New("a context needs a workspace id, a client id and a client secret")
	}
	for _, s := range []string{c.WorkspaceID, c.ClientID, c.ClientSecret} {
		if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) || len(s) > 256 {
			return errors.New("a context's workspace id, client id and secret are at most 256 printable characters without spaces")
		}
	}
	return nil
}

// CheckTransport refuses a plain http:// base URL off loopback unless allowed: the secret and
// the tokens would cross the network in the clear.
func CheckTransport(base string, allowInsecure bool) error {
	if u, err := url.Parse(base); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) && !allowInsecure {
		return fmt.Errorf("base URL %q: plain http:// off loopback sends the client secret and tokens in the clear; use https:// (or --allow-insecure-http on a network you trust)", base)
	}
	return nil
}

// isLoopback is true for localhost and loopback addresses, where plain HTTP stays on the
// machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DefaultPath is where the file lives: $KEYHOLD_CONFIG, else
// os.UserConfigDir()/keyhold/config.json.
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory (set %s): %w", EnvPath, err)
	}
	return filepath.Join(dir, "keyhold", "config.json"), nil
}

// Load reads the file at path; a file that does not exist is an empty configuration. It
// refuses a file others may read or write, one that is not a regular file, and one owned by
// another user: such a file may have leaked its secrets or hold someone else's server.
func Load(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Contexts: map[string]Context{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("configuration %s: %w (a symbolic link is refused)", path, err)
	}
	defer f.Close()
	// The checks run on the opened file (fstat), so that the file checked is the file read.
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkMode(path, st); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("configuration %s: larger than %d bytes", path, maxSize)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	return cfg, nil
}

// checkMode is ssh's rule for private keys: a regular file of this user, 0600 or stricter.
func checkMode(path string, st fs.FileInfo) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("configuration %s: not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("configuration %s: permissions %04o are too open: it holds client secrets; run chmod 600 %s (and reset the secrets if others could read it)", path, perm, path)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("configuration %s: owned by user %d, not by you", path, sys.Uid)
	}
	return nil
}

// Parse decodes and checks the file's content: one JSON object, no unknown fields, every
// context valid and named by CheckName, the current context one of them.
func Parse(data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cfg File
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("not a keyhold configuration: %v", err)
	}
	if dec.More() {
		return nil, errors.New("not a keyhold configuration: more than one JSON value")
	}
	if cfg.Contexts == nil {
		cfg.Contexts = map[string]Context{}
	}
	for name, c := range cfg.Contexts {
		if err := CheckName(name); err != nil {
			return nil, err
		}
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("context %s: %w", name, err)
		}
	}
	if _, ok := cfg.Contexts[cfg.Current]; cfg.Current != "" && !ok {
		return nil, fmt.Errorf("current context %q is not defined", cfg.Current)
	}
	return &cfg, nil
}

// Save writes the file at path, 0600, creating its directory 0700; the old file is replaced
// atomically. A directory that exists keeps its permissions, but one that others may write
// is refused (they could swap the file).
func Save(path string, cfg *File) error {
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("configuration directory %s: others may write it (permissions %04o); run chmod 700 %s", dir, st.Mode().Perm(), dir)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json") // created 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Names lists the contexts in name order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Contexts))
	for n := range f.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Resolve returns the context to use: name when given, else the current one.
func (f *File) Resolve(name string) (string, Context, error) {
	if name == "" {
		name = f.Current
	}
	if name == "" {
		return "", Context{}, errors.New("not logged in: run keyhold login first")
	}
	c, ok := f.Contexts[name]
	if !ok {
		return "", Context{}, fmt.Errorf("no context %q (keyhold context list shows them)", name)
	}
	return name, c, nil
}
