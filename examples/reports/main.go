// Command reports is an example service protected by keyhold: a tiny report store whose
// every call is authorized by keyhold through package client/enforce.
//
//	GET  /reports/{id}  needs reports.report.read on reports/report {id}
//	PUT  /reports/{id}  needs reports.report.write on reports/report {id}
//	GET  /whoami        needs only a valid token of the workspace (decided offline)
//	GET  /healthz       open
//
// It reads its configuration from the environment: KEYHOLD_URL (keyhold's base URL),
// KEYHOLD_WORKSPACE_ID (the workspace whose tokens it accepts and whose decisions it asks
// for), KEYHOLD_CLIENT_ID and KEYHOLD_CLIENT_SECRET (its own credential, which needs
// glp.authorization.view in that workspace: the workspace observer role suffices) and LISTEN
// (default 127.0.0.1:8090). The provider "reports", its type "report" and permissions
// reports.report.read and reports.report.write must be registered in keyhold (docs/sdk.md
// shows how).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/keyhold/keyhold/client"
	"github.com/keyhold/keyhold/client/enforce"
)

// config is what the service needs to know.
type config struct {
	KeyholdURL, WorkspaceID, ClientID, ClientSecret string
}

func main() {
	cfg := config{KeyholdURL: os.Getenv("KEYHOLD_URL"), WorkspaceID: os.Getenv("KEYHOLD_WORKSPACE_ID"),
		ClientID: os.Getenv("KEYHOLD_CLIENT_ID"), ClientSecret: os.Getenv("KEYHOLD_CLIENT_SECRET")}
	listen := os.Getenv("LISTEN")
	if listen == "" {
		listen = "127.0.0.1:8090"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves the example on ln until ctx ends.
func run(ctx context.Context, cfg config, ln net.Listener) error {
	h, err := newHandler(cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHandler builds the service: a keyhold client for decisions, a verifier accepting the
// workspace's tokens, and a guard on each route.
func newHandler(cfg config) (http.Handler, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	pdp, err := client.New(client.Config{BaseURL: cfg.KeyholdURL, WorkspaceID: cfg.WorkspaceID,
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	v, err := enforce.NewVerifier(enforce.Config{BaseURL: cfg.KeyholdURL, WorkspaceIDs: []string{cfg.WorkspaceID}, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	g := &enforce.Guard{Verifier: v, PDP: pdp, PDPOptions: &client.AuthZENOptions{PDP: client.WorkspacePDP(cfg.WorkspaceID)},
		OnDenied: func(r *http.Request, status int, reason error) {
			slog.Info("denied", "method", r.Method, "path", r.URL.Path, "status", status, "reason", reason)
		}}
	report := func(r *http.Request) client.Resource {
		return client.Resource{Type: "reports/report", ID: r.PathValue("id")}
	}
	s := &store{reports: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.Handle("GET /whoami", g.Authenticate(http.HandlerFunc(whoami)))
	mux.Handle("GET /reports/{id}", g.Require("reports.report.read", report)(http.HandlerFunc(s.get)))
	mux.Handle("PUT /reports/{id}", g.Require("reports.report.write", report)(http.HandlerFunc(s.put)))
	return mux, nil
}

func whoami(w http.ResponseWriter, r *http.Request) {
	c, _ := enforce.ClaimsFrom(r.Context())
	fmt.Fprintf(w, "%s\n", c.Subject)
}

// store keeps reports in memory.
type store struct {
	mu      sync.Mutex
	reports map[string]string
}

func (s *store) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, ok := s.reports[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = io.WriteString(w, body)
}

func (s *store) put(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.reports[r.PathValue("id")] = string(b)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
