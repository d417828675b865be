package apptest

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/app"
)

// Reopen runs a node on an existing data directory until the test ends, as a restart of a
// node started earlier (by Start, and stopped) does. cfg.DataDir is required; cfg.Listen is
// kept when set, so that a restarted node can serve the same base URL (and so the same
// issuers) as before. Env.Admin is left empty: a store that has a workspace prints no
// bootstrap line. Reopen returns what the node wrote to stdout, which tests expect empty.
func Reopen(t testing.TB, cfg app.Config) (*Env, string) {
	t.Helper()
	if cfg.DataDir == "" {
		t.Fatal("apptest.Reopen: DataDir is required")
	}
	var out bytes.Buffer
	logs := &SafeBuffer{}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	cfg.Stdout = &out
	cfg.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.AccessLog = logs
	n, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done; n.Close() })
	waitLoaded(t, n, done)
	return &Env{Node: n, Base: n.BaseURL(), Logs: logs}, out.String()
}

// waitLoaded waits until the node has loaded its views and answers the API (Serve loads them
// after it starts listening).
func waitLoaded(t testing.TB, n *app.Node, done <-chan struct{}) {
	t.Helper()
	for !n.Loaded() {
		select {
		case <-done:
			t.Fatal("the node stopped before it loaded its views")
		case <-time.After(time.Millisecond):
		}
	}
}
