package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/keyhold/keyhold/internal/storage/postgres/pgtest"
)

// shortSoak is the CI version of the soak: a minute at a low rate, reported every 10 s so
// that the growth check has six intervals to compare.
func shortSoak(t *testing.T, backend, database string) {
	if testing.Short() {
		t.Skip("runs keyhold under load for a minute; skipped with -short")
	}
	cfg := defaultConfig()
	cfg.Backend, cfg.Database, cfg.Nodes = backend, database, 2
	cfg.Duration, cfg.Interval, cfg.Rate, cfg.Workers, cfg.Writers, cfg.Workspaces = time.Minute, 10*time.Second, 150, 32, 16, 50
	var out, logw bytes.Buffer
	ok, err := Run(context.Background(), cfg, &out, &logw)
	t.Log(logw.String())
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatal("the soak's verdict is FAIL (above)")
	}
	for _, want := range []string{"token", "bearer", "authzen", "exchange", "cred_reset", "assign_delete", "change log:", "VERDICT: PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

func TestSoakSQLite(t *testing.T) { shortSoak(t, "sqlite", "") }

func TestSoakPostgresTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs keyhold under load for a minute; skipped with -short")
	}
	shortSoak(t, "postgres", pgtest.Database(t))
}

func TestParseMix(t *testing.T) {
	m, err := parseMix(defaultMix)
	if err != nil || m.total != 100 || len(m.names) != len(opNames) {
		t.Fatalf("default mix: %+v, %v", m, err)
	}
	for _, bad := range []string{"", "token", "token=x", "token=-1", "nope=1", "token=1,token=2", "token=0"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) accepted", bad)
		}
	}
	one, err := parseMix("token=0,authzen=5")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		if got := one.pick(r); got != opAuthZEN {
			t.Fatalf("picked %q from a mix of authzen only", got)
		}
	}
}

func TestVerdict(t *testing.T) {
	nodes := []*node{{name: "node1"}}
	steady := func(rss int64, g, fds int) *sample {
		return &sample{requests: 100, seconds: 1, procs: []procStats{{RSS: rss, Goroutines: g, FDs: fds}}}
	}
	flat := []*sample{steady(100<<20, 50, 40), steady(100<<20, 50, 40), steady(101<<20, 52, 41),
		steady(101<<20, 51, 40), steady(100<<20, 50, 40), steady(102<<20, 53, 42)}
	if f := verdict(flat, nodes, 0.2, nil, nil); len(f) != 0 {
		t.Errorf("a steady run failed: %v", f)
	}
	growing := []*sample{steady(100<<20, 50, 40), steady(150<<20, 50, 40), steady(200<<20, 120, 40),
		steady(250<<20, 150, 40), steady(300<<20, 200, 100), steady(350<<20, 250, 140)}
	f := verdict(growing, nodes, 0.2, nil, nil)
	if got := strings.Join(f, "\n"); !strings.Contains(got, "RSS grew") || !strings.Contains(got, "goroutines grew") || !strings.Contains(got, "descriptors grew") {
		t.Errorf("growth not reported: %v", f)
	}
	errs := append([]*sample(nil), flat...)
	errs[2] = &sample{requests: 100, seconds: 1, fivexx: 1, procs: flat[2].procs}
	if f := verdict(errs, nodes, 0.2, nil, []string{"a 500"}); len(f) == 0 || !strings.Contains(f[0], "5xx") {
		t.Errorf("a 5xx passed: %v", f)
	}
	if f := verdict(flat[:2], nodes, 0.2, nil, nil); len(f) == 0 {
		t.Error("two intervals passed without a growth check")
	}
}
