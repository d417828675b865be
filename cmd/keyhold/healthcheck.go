package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// healthcheckCmd asks a running keyhold whether it is alive, for container health checks in
// images that have no curl (the Dockerfile's runtime image has nothing but the binary). It
// exits 0 when the URL answers 200 and 1 otherwise, and prints why on stderr.
type healthcheckCmd struct {
	URL     string        `help:"URL to ask: /healthz (the process serves) or /readyz (it is ready for traffic)." default:"http://127.0.0.1:8080/healthz" env:"KEYHOLD_HEALTHCHECK_URL"`
	Timeout time.Duration `help:"How long to wait for the answer." default:"3s"`
}

func (c *healthcheckCmd) Run(g *globals) error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url must be an absolute http or https URL, not %q", c.URL)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, not %s", c.Timeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	// No redirects: a health endpoint that redirects is not the one that was meant.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: %s answered %d: %s", u.Redacted(), resp.StatusCode, body)
	}
	return nil
}
