package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// Run performs one soak: it starts the nodes, prepares the data, loads them for cfg.Duration
// and reports to out (tables) and logw (progress). ok is false when the verdict failed; err
// is for a run that could not be made at all.
func Run(ctx context.Context, cfg Config, out, logw io.Writer) (ok bool, err error) {
	if err := cfg.validate(); err != nil {
		return false, err
	}
	m, _ := parseMix(cfg.Mix)
	c, err := newCluster(ctx, cfg, logw)
	defer c.close()
	if err != nil {
		return false, err
	}
	fmt.Fprintf(logw, "soak: %s, %d node(s), starting\n", cfg.Backend, len(c.nodes))
	admin, err := c.setup(ctx)
	if err != nil {
		return false, err
	}
	setupClient := newClient(8, nil)
	w, err := prepare(ctx, c, setupClient, admin)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(out, "# keyhold soak: %s, %d node(s)\n\n- %s, %d cores; rate %.0f requests/s; mix %s; %d workers and %d writers; %d workspaces (%d role assignments); %s, reported every %s\n",
		cfg.Backend, len(c.nodes), runtime.Version(), runtime.NumCPU(), cfg.Rate, cfg.Mix, cfg.Workers, cfg.Writers, cfg.Workspaces,
		cfg.Workspaces*100, cfg.Duration, cfg.Interval)

	rec := newRecorder()
	sch := &scheduler{rate: cfg.Rate, mix: m, workers: cfg.Workers, writers: cfg.Writers, w: w, cl: newClient(cfg.Workers+cfg.Writers, rec)}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		sch.run(loadCtx)
	}()
	go refreshLoop(loadCtx, w, setupClient, logw)

	var (
		samples []*sample
		nodeErr error
		began   = time.Now()
		last    = began
		end     = began.Add(cfg.Duration)
		lateWas int64
	)
	takeSample := func(now time.Time) {
		s := &sample{index: len(samples) + 1, elapsed: now.Sub(began), seconds: now.Sub(last).Seconds(), ops: rec.take()}
		last = now
		late := sch.late.Load()
		s.late, lateWas = late-lateWas, late
		s.summarize()
		for _, n := range c.nodes {
			p, err := c.procStats(n)
			s.procs = append(s.procs, p)
			s.procErr = errors.Join(s.procErr, err)
		}
		s.changes, s.chErr = c.changeRows(ctx)
		samples = append(samples, s)
		printInterval(out, s, c.nodes)
	}
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case now := <-tick.C:
			if err := c.exited(); err != nil {
				nodeErr = err
				break loop
			}
			if !now.Before(end.Add(-cfg.Interval / 10)) {
				break loop
			}
			takeSample(now)
		case <-time.After(time.Until(end)):
			break loop
		}
	}
	stopLoad()
	<-loadDone // in-flight requests finish and are counted
	if nodeErr == nil {
		nodeErr = c.exited()
	}
	if time.Since(last) > cfg.Interval/10 || len(samples) == 0 {
		takeSample(time.Now())
	}
	printSummary(out, samples, c.nodes)
	fails := verdict(samples, c.nodes, cfg.Tolerance, nodeErr, rec.unexpectedExamples())
	if ctx.Err() != nil {
		fails = append(fails, "interrupted")
	}
	var total int
	var late int64
	for _, s := range samples {
		total += s.requests
		late += s.late
	}
	secs := time.Since(began).Seconds()
	fmt.Fprintf(out, "\nSent %d requests in %s (%.0f/s; asked %.0f/s); %d operations late and skipped.\n",
		total, time.Since(began).Round(time.Second), float64(total)/secs, cfg.Rate, late)
	if len(fails) > 0 {
		fmt.Fprintf(out, "\nVERDICT: FAIL\n- %s\n", strings.Join(fails, "\n- "))
		return false, nil
	}
	fmt.Fprintf(out, "\nVERDICT: PASS (no 5xx, no unexpected answer, RSS, Go heap, goroutines and descriptors within %.0f %% (plus slack) of the middle third in the last third)\n", cfg.Tolerance*100)
	return true, nil
}

// refreshLoop renews the administrator and MSP tokens every 5 minutes (they live 15).
func refreshLoop(ctx context.Context, w *world, cl *client, logw io.Writer) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.refreshTokens(ctx, cl, time.Minute); err != nil && ctx.Err() == nil {
				fmt.Fprintf(logw, "soak: refreshing tokens: %v\n", err)
			}
		}
	}
}
