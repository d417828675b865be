// Command soak runs keyhold under a steady mixed load for a long time and checks that it stays
// healthy: no 5xx or other unexpected answers, and no growth of memory, goroutines or open
// descriptors beyond a steady state. It starts the keyhold processes itself (one node on
// SQLite, or two nodes on one PostgreSQL database), loads a data set, and then sends, at a
// fixed rate, a mix of token issuance, bearer calls, credential writes and resets, role
// assignment writes, AuthZEN decisions and RFC 8693 token exchanges into an MSP tenant.
//
// Every interval (a minute by default) it prints a table: throughput, p50 and p99 by operation,
// 5xx and other unexpected statuses, and for each node its resident memory, goroutines and open
// descriptors, plus the rows of the change log. At the end it prints a summary table and a
// verdict, and exits 1 when the verdict is a failure.
//
//	go run ./soak -backend sqlite -duration 30m -rate 3000
//	go run ./soak -backend postgres -duration 30m -rate 3000
//
// See bench/README.md ("Soak") for the flags and how the verdict is reached.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg := defaultConfig()
	cfg.bindFlags(flag.CommandLine)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ok, err := Run(ctx, cfg, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// Config is one soak run.
type Config struct {
	Backend    string        // sqlite or postgres
	Keyhold    string        // keyhold binary; empty: go build ../cmd/keyhold
	RepoRoot   string        // where cmd/keyhold is, to build it; empty: found above the working directory
	DataDir    string        // SQLite data directory; empty: a temporary one
	PGAdmin    string        // PostgreSQL server to create a database on
	Database   string        // an existing, empty PostgreSQL database to use instead
	Nodes      int           // keyhold processes (PostgreSQL only; SQLite always runs one)
	Duration   time.Duration // how long to load
	Interval   time.Duration // reporting interval
	Rate       float64       // requests per second, all operations together
	Mix        string        // weights by operation
	Workers    int           // concurrent reads and token requests at most
	Writers    int           // concurrent write operations at most
	Workspaces int           // IAM data set workspaces (100 role assignments each)
	Tolerance  float64       // allowed growth, last third over middle third
	KeepTmp    bool
}

func defaultConfig() Config {
	return Config{Backend: "sqlite", PGAdmin: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		Nodes: 2, Duration: 30 * time.Minute, Interval: time.Minute, Rate: 3000, Mix: defaultMix, Workers: 64, Writers: 32,
		Workspaces: 1000, Tolerance: 0.2}
}

func (c *Config) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Backend, "backend", c.Backend, "sqlite (one node) or postgres (-nodes nodes on one database)")
	fs.StringVar(&c.Keyhold, "keyhold", c.Keyhold, "keyhold binary to run (default: build -repo's ./cmd/keyhold)")
	fs.StringVar(&c.RepoRoot, "repo", c.RepoRoot, "keyhold's repository root, to build the binary (default: the nearest one above the working directory)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "SQLite data directory, must not exist yet (default: a temporary one, removed at the end)")
	fs.StringVar(&c.PGAdmin, "pg-admin", c.PGAdmin, "PostgreSQL server on which a fresh database is created and dropped at the end")
	fs.StringVar(&c.Database, "database", c.Database, "use this empty PostgreSQL database instead of creating one")
	fs.IntVar(&c.Nodes, "nodes", c.Nodes, "keyhold nodes on PostgreSQL")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "how long to load")
	fs.DurationVar(&c.Interval, "interval", c.Interval, "reporting interval")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "requests per second, all operations and nodes together (docs/performance.md: about half of the capacity)")
	fs.StringVar(&c.Mix, "mix", c.Mix, "weights of the operations: "+opNamesHelp())
	fs.IntVar(&c.Workers, "workers", c.Workers, "concurrent token, bearer, authzen and exchange requests at most; one due while all are busy (and as many wait) is counted as late and skipped")
	fs.IntVar(&c.Writers, "writers", c.Writers, "concurrent credential and assignment operations at most, likewise (writes have their own workers, so that slow writes never hold up reads)")
	fs.IntVar(&c.Workspaces, "workspaces", c.Workspaces, "IAM data set loaded before the run: workspaces of 100 role assignments")
	fs.Float64Var(&c.Tolerance, "tolerance", c.Tolerance, "allowed growth of RSS, goroutines and descriptors: last third of the run over the middle third")
	fs.BoolVar(&c.KeepTmp, "keep", c.KeepTmp, "keep the temporary directory (node logs) and the PostgreSQL database")
}

func (c *Config) validate() error {
	switch {
	case c.Backend != "sqlite" && c.Backend != "postgres":
		return fmt.Errorf("-backend must be sqlite or postgres, not %q", c.Backend)
	case c.Backend == "postgres" && c.Nodes < 1:
		return fmt.Errorf("-nodes must be at least 1")
	case c.Duration <= 0 || c.Interval <= 0 || c.Interval > c.Duration:
		return fmt.Errorf("-duration and -interval must be positive, the interval at most the duration")
	case c.Rate <= 0 || c.Workers < 1 || c.Writers < 1 || c.Workspaces < 1:
		return fmt.Errorf("-rate, -workers, -writers and -workspaces must be positive")
	case c.Tolerance < 0:
		return fmt.Errorf("-tolerance must not be negative")
	}
	_, err := parseMix(c.Mix)
	return err
}
